// The tiny Linux guest: Debian's generic kernel (the cloud kernel lacks i6300esb) and a
// busybox-static initramfs, both from `apt-get download` (nothing installed), built once and
// cached in the state dir. Its /init reports `TINY-GUEST: ready` on ttyS0 and then runs one shell
// command per line read from ttyS0.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { cpioNewc, S_IFCHR, S_IFDIR, S_IFREG, type CpioEntry } from './cpio.js';
import { paths } from './layout.js';
import { downloadPackage } from './packages.js';
import { runCommand } from './proc.js';
import { say } from './say.js';

export const GUEST_KERNEL_CMDLINE = 'console=ttyS0 panic=-1 loglevel=4';

/** The line the guest prints on ttyS0 once it takes commands. */
export const GUEST_READY = 'TINY-GUEST: ready';

/** Drivers the guest loads (with their dependencies), and their parameters. */
const GUEST_MODULES: ReadonlyArray<readonly [name: string, params: string]> = [
  ['virtio_pci', ''],
  ['virtio_blk', ''],
  ['virtio_net', ''],
  ['virtio_balloon', ''],
  // heartbeat 3 s: an unexpected close of /dev/watchdog resets the guest within seconds
  ['i6300esb', 'heartbeat=3'],
  // <panic model='isa'/>: the guest reports its panic to QEMU (libvirt: Crashed Panicked)
  ['pvpanic_mmio', ''],
  // ACPI power button for `virsh shutdown`/`virsh reboot`, read by busybox acpid from evdev
  ['button', ''],
  ['evdev', ''],
];

const INIT_SCRIPT = `#!/bin/busybox sh
# /init of the libvirt-telemetry tiny test guest.
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r module params; do insmod "/lib/modules/$module.ko" $params; done < /etc/modules
# busybox acpid opens the /dev/input/event* present at its start; devtmpfs creates them asynchronously.
for event in /sys/class/input/event*; do
  for i in 1 2 3 4 5 6 7 8 9 10; do [ -e "/dev/input/\${event##*/}" ] && break; sleep 1; done
done
acpid -c /etc/acpi -l /tmp/acpid.log
ip link set lo up
for dev in /sys/class/net/eth*; do ip link set "\${dev##*/}" up; done 2>/dev/null
exec </dev/ttyS0 >/dev/ttyS0 2>&1
stty -echo
echo "${GUEST_READY} ($(ls /sys/bus/virtio/devices | wc -l) virtio devs, watchdog: $(ls /dev/watchdog), disks: $(cd /sys/block && echo vd*))"
# One command per line; an interactive ash would send ESC[6n queries and swallow input.
while :; do
  if IFS= read -r line; then sh -c "$line" </dev/null; else sleep 1; fi
done
`;

/** busybox acpid runs this on the power button event. */
const POWER_BUTTON_SCRIPT = '#!/bin/sh\npoweroff -f\n';

export interface GuestArtefacts {
  kernel: string;
  initrd: string;
  cmdline: string;
}

const artefacts = {
  kernel: path.join(paths.guest, 'vmlinuz'),
  initrd: path.join(paths.guest, 'initrd.gz'),
  manifest: path.join(paths.guest, 'manifest.json'),
};

interface Manifest {
  recipe: string;
  kernelPackage: string;
  busyboxPackage: string;
}

/** Changes whenever what goes into the initramfs changes, so the cache is rebuilt. */
function recipeHash(): string {
  return createHash('sha256').update(INIT_SCRIPT).update(POWER_BUTTON_SCRIPT).update(JSON.stringify(GUEST_MODULES)).digest('hex').slice(0, 16);
}

function cachedManifest(): Manifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(artefacts.manifest, 'utf8')) as Manifest;
    return manifest.recipe === recipeHash() && existsSync(artefacts.kernel) && existsSync(artefacts.initrd) ? manifest : undefined;
  } catch {
    return undefined;
  }
}

/** The built guest; throws if `testenv up` has not built it. */
export function guestArtefacts(): GuestArtefacts {
  if (!cachedManifest()) throw new Error(`the tiny guest is not built in ${paths.guest} (node dist/test/env/main.js up builds it)`);
  return { kernel: artefacts.kernel, initrd: artefacts.initrd, cmdline: GUEST_KERNEL_CMDLINE };
}

/** Builds kernel and initramfs unless the cache is current (a download: once per machine, bench/RESULTS.md#test-environment). */
export async function ensureGuestArtefacts(): Promise<void> {
  if (cachedManifest()) return;
  say('building the tiny guest (kernel and busybox initramfs from apt-get download)');
  mkdirSync(paths.guest, { recursive: true });
  const work = mkdtempSync(path.join(paths.guest, 'build-'));
  try {
    // linux-image-amd64 is a metapackage: its Depends names the versioned kernel package.
    const meta = await downloadPackage('linux-image-amd64', work);
    const depends = (await runCommand('dpkg-deb', ['-f', meta, 'Depends'])).stdout;
    const kernelPackage = /linux-image-[0-9][^\s,(]*/.exec(depends)?.[0];
    if (!kernelPackage) throw new Error(`linux-image-amd64 depends on no kernel package: ${depends.trim()}`);
    const kernelDeb = await downloadPackage(kernelPackage, work);
    const busyboxDeb = await downloadPackage('busybox-static', work);
    const root = path.join(work, 'root');
    mkdirSync(root);
    await runCommand('bash', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards "./boot/vmlinuz-*" "./lib/modules/*.ko"', 'bash', kernelDeb, root]);
    await runCommand('dpkg-deb', ['-x', busyboxDeb, root]);

    const kernel = readdirSync(path.join(root, 'boot')).find((file) => file.startsWith('vmlinuz-'));
    if (!kernel) throw new Error(`${kernelPackage} has no /boot/vmlinuz-*`);
    const modules = loadOrder(indexModules(path.join(root, 'lib', 'modules')));
    const initrd = gzipSync(cpioNewc(initramfsEntries(readFileSync(path.join(root, 'bin', 'busybox')), modules)));

    // Renames, not rewrites: a domain starting meanwhile reads either the old or the new file.
    renameSync(path.join(root, 'boot', kernel), artefacts.kernel);
    writeFileSync(path.join(work, 'initrd.gz'), initrd);
    renameSync(path.join(work, 'initrd.gz'), artefacts.initrd);
    const manifest: Manifest = { recipe: recipeHash(), kernelPackage, busyboxPackage: path.basename(busyboxDeb) };
    writeFileSync(artefacts.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
    say(`tiny guest built: ${kernelPackage}, ${modules.length} modules, initrd ${Math.round(initrd.length / 1024)} KiB`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const moduleName = (file: string): string => path.basename(file, '.ko').replace(/-/g, '_');

/** Every .ko under `directory`, by module name. */
function indexModules(directory: string): Map<string, string> {
  const index = new Map<string, string>();
  for (const entry of readdirSync(directory, { recursive: true, encoding: 'utf8' })) {
    if (entry.endsWith('.ko')) index.set(moduleName(entry), path.join(directory, entry));
  }
  return index;
}

/** The `depends=` field of a module's .modinfo section. */
function moduleDepends(file: string): string[] {
  const content = readFileSync(file);
  const at = content.indexOf('\0depends=');
  if (at < 0) return [];
  const start = at + '\0depends='.length;
  const value = content.subarray(start, content.indexOf(0, start)).toString('ascii');
  return value === '' ? [] : value.split(',');
}

interface GuestModule {
  name: string;
  file: string;
  params: string;
}

/** GUEST_MODULES and their dependencies, every module after the ones it depends on. */
function loadOrder(index: Map<string, string>): GuestModule[] {
  const ordered: GuestModule[] = [];
  const seen = new Set<string>();
  const visit = (name: string, params: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const file = index.get(name);
    if (!file) throw new Error(`kernel module ${name} not found in the kernel package (built in?)`);
    for (const dependency of moduleDepends(file)) visit(dependency, '');
    ordered.push({ name, file, params });
  };
  for (const [name, params] of GUEST_MODULES) visit(name, params);
  return ordered;
}

function initramfsEntries(busybox: Buffer, modules: readonly GuestModule[]): CpioEntry[] {
  const directory = (name: string): CpioEntry => ({ name, mode: S_IFDIR | 0o755 });
  const file = (name: string, data: Buffer | string, permissions = 0o644): CpioEntry => ({ name, mode: S_IFREG | permissions, data: Buffer.from(data) });
  return [
    ...['bin', 'dev', 'etc', 'etc/acpi', 'etc/acpi/PWRF', 'lib', 'lib/modules', 'proc', 'sys', 'tmp'].map(directory),
    // The kernel opens /dev/console for /init before devtmpfs is mounted.
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdev: { major: 5, minor: 1 } },
    file('init', INIT_SCRIPT, 0o755),
    file('bin/busybox', busybox, 0o755),
    file('etc/acpi/PWRF/00000080', POWER_BUTTON_SCRIPT, 0o755),
    file('etc/modules', modules.map((m) => `${m.name} ${m.params}`.trimEnd()).join('\n') + '\n'),
    ...modules.map((m) => file(`lib/modules/${m.name}.ko`, readFileSync(m.file))),
  ];
}
