// Changes to the host outside the state dir: the libvirt-qemu user, cgroup2 unit paths,
// the /dev/log symlink, the ENOSPC tmpfs and the /etc/libvirt mount point.
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { ENOSPC_TMPFS_SIZE, HOST_PATHS, SOCKETS, paths } from './layout.js';
import { runCommand } from './proc.js';
import { say } from './say.js';

/**
 * libvirt's QEMU driver refuses to start without the user and the group `libvirt-qemu` (Debian's
 * build defaults), even with `user = "root"` in qemu.conf. Created as libvirt-daemon-system's
 * postinst does: uid 64055, also in group kvm.
 */
export async function ensureQemuUser(): Promise<void> {
  const known = async (database: string, key: string) => runCommand('getent', [database, key]).then(() => true, () => false);
  for (const group of ['kvm', 'libvirt-qemu']) {
    if (!(await known('group', group))) await runCommand('groupadd', ['--system', group]);
  }
  if (await known('passwd', 'libvirt-qemu')) return;
  const uid = (await known('passwd', '64055')) ? [] : ['--uid', '64055'];
  say('creating user libvirt-qemu');
  await runCommand('useradd', ['--system', ...uid, '--gid', 'libvirt-qemu', '--groups', 'kvm', '--home-dir', '/var/lib/libvirt', '--no-create-home', '--shell', '/usr/sbin/nologin', 'libvirt-qemu']);
}

/** Mount points and file system types of this process's mount namespace. */
function mounts(): { mountPoint: string; fsType: string }[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.includes(' - '))
    .map((line) => {
      const [before, after] = line.split(' - ');
      return { mountPoint: before!.split(' ')[4]!, fsType: after!.split(' ')[0]! };
    });
}

/** The cgroup2 mount point: /sys/fs/cgroup/unified on hybrid hosts, /sys/fs/cgroup on unified ones. */
function cgroup2Root(): string {
  const cgroup2 = mounts().find((mount) => mount.fsType === 'cgroup2');
  if (!cgroup2) throw new Error('no cgroup2 hierarchy is mounted (journald derives _SYSTEMD_UNIT from it)');
  return cgroup2.mountPoint;
}

/**
 * The cgroup2 directory system.slice/<unit>, created if needed. A process inside it is
 * attributed by journald to `_SYSTEMD_UNIT=<unit>`, as under systemd.
 */
export function unitCgroup(unit: string): string {
  const directory = path.join(cgroup2Root(), 'system.slice', unit);
  mkdirSync(directory, { recursive: true });
  return directory;
}

/** Removes system.slice/<unit>, and system.slice once empty. */
export function removeUnitCgroup(unit: string): void {
  const slice = path.join(cgroup2Root(), 'system.slice');
  for (const directory of [path.join(slice, unit), slice]) {
    try {
      rmdirSync(directory);
    } catch {
      // still populated (another unit, or a process not yet reaped) or already gone: leave it
    }
  }
}

/** Points /dev/log at journald's socket unless something is already there; true if created. */
export function linkDevLog(): boolean {
  if (lstatExists(HOST_PATHS.devLog)) return false;
  symlinkSync(SOCKETS.journaldDevLog, HOST_PATHS.devLog);
  return true;
}

export function unlinkDevLog(): void {
  if (lstatExists(HOST_PATHS.devLog) && readlinkSafe(HOST_PATHS.devLog) === SOCKETS.journaldDevLog) unlinkSync(HOST_PATHS.devLog);
}

function lstatExists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

function readlinkSafe(file: string): string | undefined {
  try {
    return readlinkSync(file);
  } catch {
    return undefined;
  }
}

function isMountPoint(directory: string): boolean {
  const target = path.resolve(directory);
  return mounts().some((mount) => mount.mountPoint === target);
}

/**
 * Mounts the 1 MiB tmpfs for ENOSPC disks; true if mounted now. It has to exist before libvirtd
 * starts: libvirtd runs in its own mount namespace, a copy taken at its start.
 */
export async function mountEnospcTmpfs(): Promise<boolean> {
  mkdirSync(paths.enospc, { recursive: true });
  if (isMountPoint(paths.enospc)) return false;
  await runCommand('mount', ['-t', 'tmpfs', '-o', `size=${ENOSPC_TMPFS_SIZE},mode=0755`, 'testenv-enospc', paths.enospc]);
  return true;
}

export async function unmountEnospcTmpfs(): Promise<void> {
  if (isMountPoint(paths.enospc)) await runCommand('umount', [paths.enospc]);
  rmSync(paths.enospc, { recursive: true, force: true });
}

/** libvirtd's namespace bind-mounts the private config dir here, so the mount point must exist; true if created. */
export function ensureEtcLibvirtMountPoint(): boolean {
  if (existsSync(HOST_PATHS.etcLibvirt)) return false;
  mkdirSync(HOST_PATHS.etcLibvirt);
  return true;
}

export function removeEtcLibvirtMountPoint(): void {
  try {
    rmdirSync(HOST_PATHS.etcLibvirt);
  } catch {
    // no longer empty: a package put files there since; leave it
  }
}
