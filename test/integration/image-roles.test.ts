// The container image as an operator builds and runs it: the Dockerfile built with podman (one build per
// run, layers cached), then every role started from the image with the arguments, user and security
// settings of the generated manifests (read-only root, every capability dropped, no new privileges):
// generate into a mounted directory, the exporter against the test environment's libvirtd, the sidecar
// following a mounted QEMU log directory and a mounted journal, the HA agent (--dry-run) reporting a
// killed domain. Skipped, with the reason printed, where the image cannot be built.
import test from 'ava';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { COMMAND_NAMES } from '../../cli/commands.js';
import { INTERPRET_ONLY_START_FLAGS } from '../../runtime/heap.js';
import { waitFor } from '../env/proc.js';
import { defineTinyDomain, qemuPid, removeDomain, testDomainName, waitForDomainState } from '../harness/env/domains.js';
import { freePort } from '../harness/free-port.js';
import { buildImage, IMAGE, imageSize, imageUnsupportedReason, NODE_VERSION, podman, podmanEnv } from '../harness/roles/oci-image.js';
import { virsh } from '../harness/env/testenv.js';

type Obj = Record<string, any>;

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const IMAGE_USER = 1000;
/** What the manifests ask of every container (securityContext), as podman flags. */
const RESTRICTED = ['--read-only', '--read-only-tmpfs=false', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'];

const unsupported = await imageUnsupportedReason();
if (unsupported) console.log(`image-roles: skipped: ${unsupported}`);
const imageTest = unsupported ? test.skip : test.serial;

/** The generated manifests, read back as the operator's cluster would get them. */
function manifests(): Map<string, Obj[]> {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'lt-image-m-')), 'manifests');
  execFileSync(process.execPath, [MAIN, 'generate', 'manifests', '--out', dir]);
  return new Map(readdirSync(dir).map((f) => [f, YAML.parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS() as Obj)]));
}

/** The container of `role` in the manifests: its args with $(VAR) expanded as the kubelet does, and its env names. */
function manifestContainer(role: string, env: Record<string, string>): { args: string[]; securityContext: Obj; podSecurityContext: Obj } {
  for (const docs of manifests().values()) {
    for (const d of docs) {
      const spec = d['spec']?.template?.spec;
      const c = (spec?.containers as Obj[] | undefined)?.find((x) => x['args']?.[0] === role);
      if (c) return { args: (c['args'] as string[]).map((a) => a.replace(/\$\((\w+)\)/g, (_, v: string) => env[v]!)), securityContext: c['securityContext'], podSecurityContext: spec.securityContext ?? {} };
    }
  }
  throw new Error(`no container runs ${role}`);
}

interface Running {
  readonly lines: string[];
  readonly stderr: string[];
  stop(): Promise<void>;
}

/** `podman run` in the foreground (as a pod's container runs), its stdout lines collected. */
function run(name: string, flags: string[], args: string[]): Running {
  const child: ChildProcess = spawn('podman', ['--runtime', 'runc', 'run', '--rm', '--name', name, ...RESTRICTED, ...flags, IMAGE, ...args], {
    env: podmanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    lines,
    stderr,
    stop: async () => {
      await podman(['stop', '--time', '10', name]).catch(() => undefined);
      await exited;
    },
  };
}

test.before(async (t) => {
  if (unsupported) return;
  t.timeout(40 * 60_000, 'a first build makes the base root file system and runs npm ci');
  await buildImage();
  t.log(`image ${IMAGE}: ${(await imageSize() / 1e6).toFixed(0)} MB`);
});

imageTest('the image: Node.js LTS, OCI labels, uid 1000, no dev dependency, every role answers --help', async (t) => {
  const { stdout } = await podman(['image', 'inspect', '--format', '{{json .Config}}', IMAGE]);
  const config = JSON.parse(stdout) as { User: string; Labels: Record<string, string>; Entrypoint: string[]; Cmd: string[] };
  t.is(config.User, `${IMAGE_USER}:${IMAGE_USER}`);
  t.deepEqual(config.Entrypoint, ['libvirt-telemetry']);
  t.deepEqual(config.Cmd, ['exporter']);
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string; devDependencies: Record<string, string> };
  t.like(config.Labels, { 'org.opencontainers.image.title': 'libvirt-telemetry', 'org.opencontainers.image.version': pkg.version, 'org.opencontainers.image.licenses': 'Apache-2.0' });
  const inside = await podman(['run', '--rm', ...RESTRICTED, '--entrypoint', 'sh', IMAGE, '-c', 'node --version; ls /app/node_modules; command -v journalctl']);
  const [node, ...rest] = inside.stdout.trim().split('\n');
  t.is(node, `v${NODE_VERSION}`);
  t.true(rest.includes('/usr/bin/journalctl'));
  for (const dev of ['typescript', 'ava', 'kubernetes-models']) t.false(rest.includes(dev), dev);
  for (const role of COMMAND_NAMES) {
    const r = await podman(['run', '--rm', ...RESTRICTED, IMAGE, role, '--help']);
    t.true(r.stdout.startsWith(`Usage: libvirt-telemetry ${role}`), role);
  }
});

imageTest('generate writes into a mounted directory as uid 1000, or as --user; an unwritable one is a one-line error', async (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'lt-image-gen-'));
  const out = path.join(root, 'out');
  mkdirSync(out);
  chownSync(out, IMAGE_USER, IMAGE_USER);
  await podman(['run', '--rm', ...RESTRICTED, '-v', `${out}:/out`, IMAGE, 'generate', '--out', '/out/fluent-bit']);
  t.deepEqual(readdirSync(path.join(out, 'fluent-bit')).sort(), ['fluent-bit.conf', 'fluent-bit.yaml', 'parsers-libvirt.conf']);
  t.is(statSync(path.join(out, 'fluent-bit', 'fluent-bit.conf')).uid, IMAGE_USER);
  const mine = path.join(root, 'mine');
  mkdirSync(mine);
  chownSync(mine, 4242, 4242);
  await podman(['run', '--rm', ...RESTRICTED, '--user', '4242:4242', '-v', `${mine}:/out`, IMAGE, 'generate', 'manifests', '--out', '/out/manifests']);
  t.is(statSync(path.join(mine, 'manifests', 'kustomization.yaml')).uid, 4242);
  const rootOwned = path.join(root, 'root-owned');
  mkdirSync(rootOwned, { mode: 0o755 });
  const error = await podman(['run', '--rm', ...RESTRICTED, '-v', `${rootOwned}:/out`, IMAGE, 'generate', '--out', '/out/fb']).then(() => undefined, (e: Error) => e.message);
  t.regex(error ?? '', /libvirt-telemetry generate: .*(EACCES|permission denied)/i);
  rmSync(root, { recursive: true, force: true });
});

imageTest('exporter: the manifest\'s arguments against the test libvirtd (host network) serve /metrics', async (t) => {
  const { args } = manifestContainer('exporter', { NODE_IP: '127.0.0.1' });
  t.deepEqual(args, ['exporter', '--libvirt.uri=qemu+tcp://127.0.0.1:16509/system']);
  // The manifest's port (9177) may be taken on this shared machine: only the listen address differs.
  const port = await freePort();
  const exporter = run(`lt-image-exporter-${port}`, ['--network', 'host', '--user', String(IMAGE_USER)], [...args, `--web.listen-address=127.0.0.1:${port}`]);
  try {
    const body = await waitFor('/metrics with libvirt_up 1', 60_000, async () => {
      const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
      return /^libvirt_up 1$/m.test(text) && text;
    }, 500);
    t.regex(body, /^libvirt_domains \d+$/m);
    t.is((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  } finally {
    await exporter.stop();
  }
});

/** Journal export format: libvirtd entries of this boot, as the host's journald would hold them. */
function journalExport(messages: string[]): Buffer {
  const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replaceAll('-', '');
  const now = Date.now() * 1000;
  return Buffer.from(messages.map((m, i) => [
    `__REALTIME_TIMESTAMP=${now + i}`, `__MONOTONIC_TIMESTAMP=${i + 1}`, `_BOOT_ID=${boot}`, 'PRIORITY=3', 'SYSLOG_IDENTIFIER=libvirtd',
    '_SYSTEMD_UNIT=libvirtd.service', '_PID=4242', '_HOSTNAME=node-1', `MESSAGE=${m}`, '', '',
  ].join('\n')).join(''));
}

imageTest('sidecar: the patch\'s arguments and user follow a mounted QEMU log directory and a mounted journal', async (t) => {
  const { args, securityContext } = manifestContainer('sidecar', {});
  t.is(securityContext['runAsUser'], 0);
  const qemuLogDir = args.find((a) => a.startsWith('--qemu.log-dir='))!.split('=')[1]!;
  const stateDir = args.find((a) => a.startsWith('--state-dir='))!.split('=')[1]!;
  const root = mkdtempSync(path.join(os.tmpdir(), 'lt-image-sidecar-'));
  const logs = path.join(root, 'qemu');
  const journal = path.join(root, 'journal');
  mkdirSync(logs);
  mkdirSync(journal);
  mkdirSync(path.join(root, 'state'));
  // virtlogd's files: root-owned, mode 0600 (why the sidecar runs as root).
  writeFileSync(path.join(logs, 'vm-a.log'), '2026-12-07 07:00:00.123+0000: starting up libvirt version: 9.0.0, qemu version: 7.2.0, hostname: node-1\n', { mode: 0o600 });
  execFileSync('/lib/systemd/systemd-journal-remote', ['-o', path.join(journal, 'remote.journal'), '-'], { input: journalExport(['image test: libvirtd entry']), stdio: ['pipe', 'ignore', 'ignore'] });
  // The host model's journal source instead of the patch's `none` (the container model has no journal).
  const sidecarArgs = args.map((a) => (a === '--libvirtd.source=none' ? '--libvirtd.source=journal' : a));
  const port = await freePort();
  const sidecar = run(`lt-image-sidecar-${port}`, ['--network', 'host', '--user', '0', '-v', `${logs}:${qemuLogDir}:ro`, '-v', `${journal}:/var/log/journal:ro`, '-v', `${path.join(root, 'state')}:${stateDir}`],
    [...sidecarArgs, '--journal.directory=/var/log/journal', `--web.listen-address=127.0.0.1:${port}`]);
  const records = () => sidecar.lines.map((l) => JSON.parse(l) as Obj);
  try {
    await waitFor('the QEMU and the journal records', 60_000, () => records().some((r) => r['source'] === 'libvirtd') && records().some((r) => r['domain'] === 'vm-a'), 200);
    appendFileSync(path.join(logs, 'vm-a.log'), '2026-12-07 07:00:05.456+0000: shutting down, reason=crashed\n');
    const shutdown = await waitFor('the appended line', 30_000, () => records().find((r) => r['domain'] === 'vm-a' && r['reason'] === 'crashed'), 200);
    t.like(shutdown, { source: 'qemu', kind: 'domain_shutdown' });
    t.like(records().find((r) => r['source'] === 'libvirtd'), { message: 'image test: libvirtd entry', unit: 'libvirtd.service' });
  } finally {
    await sidecar.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

imageTest('events --dry-run: the manifest\'s arguments report a killed domain as an Eviction', async (t) => {
  const { args } = manifestContainer('events', { NODE_IP: '127.0.0.1' });
  const port = await freePort();
  const agent = run(`lt-image-events-${port}`, ['--network', 'host', '--user', String(IMAGE_USER), '-e', 'NODE_NAME=node-1', '-e', 'POD_NAMESPACE=ha'],
    [...args, '--dry-run', `--web.listen-address=127.0.0.1:${port}`]);
  const domain = await defineTinyDomain(testDomainName('img-kill'));
  const lines = () => agent.lines.map((l) => JSON.parse(l) as Obj);
  try {
    await waitFor('the agent connected', 60_000, async () => (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0)) === 200, 300);
    // The container's process (pid 1) restarted itself with the agent's start-up flags (runtime/start-flags.ts).
    const argv = (await podman(['exec', `lt-image-events-${port}`, 'cat', '/proc/1/cmdline'])).stdout.split('\0');
    t.deepEqual(argv.slice(1, 1 + INTERPRET_ONLY_START_FLAGS.length), [...INTERPRET_ONLY_START_FLAGS], argv.join(' '));
    await virsh(['start', domain.name]);
    await waitForDomainState(domain.name, 'running');
    process.kill(qemuPid(domain.name).pid, 'SIGKILL');
    const failed = await waitFor('the stopped/failed record', 60_000, () => lines().find((r) => r['domain'] === domain.name && r['detail'] === 'stopped/failed'), 200);
    t.like(failed, { action: 'eviction-dry-run', hypervisor: 'node-1', level: 'error' });
    const eviction = lines().find((r) => r['kind'] === 'Eviction' && r['metadata']?.name === failed['eviction']);
    t.like(eviction, { apiVersion: 'hypervisor.c5c3.io/v1', metadata: { namespace: 'ha' }, spec: { hypervisor: 'node-1' } });
  } finally {
    await agent.stop();
    await removeDomain(domain);
  }
});
