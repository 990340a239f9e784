// The README's host-model quick start, run as written against the test environment: the commands are
// read from README.md (test/harness/checks/readme-commands.ts). The only changes: fixed ports become free ones
// (tests of several people share the machine) and the sidecar's state directory is a temp dir.
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { commandsRunBy } from '../harness/checks/readme-commands.js';
import { CLI, REPO_ROOT } from '../harness/repo.js';
import { startSidecar, tempDir, until } from '../harness/roles/sidecar.js';
import { HOST_PATHS } from '../env/layout.js';

const commands = commandsRunBy('integration');
const ran = new Set<string>();

function readme(prefix: string): string {
  const command = commands.find((c) => c.startsWith(prefix));
  if (command === undefined) throw new Error(`README has no command starting with ${prefix}`);
  ran.add(command);
  return command;
}

/** The arguments of a README `libvirt-telemetry ROLE …` command, any listen address made a free port. */
function roleArgs(command: string): string[] {
  const words = command.replace(/ &$/, '').split(' ');
  if (words.some((w) => /["'$]/.test(w))) throw new Error(`quoting in ${command}: split it properly`);
  return words.slice(2).map((w, i, all) => (all[i - 1] === '--web.listen-address' ? '127.0.0.1:0' : w));
}

/** Starts a role as the README does; resolves when `ready` matches its stderr (first capture returned). */
async function startRole(t: ExecutionContext, command: string, extra: string[], ready: RegExp): Promise<string> {
  const child = spawn(process.execPath, [CLI, ...command.replace(/ &$/, '').split(' ').slice(1, 2), ...roleArgs(command), ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  const log: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => log.push(l));
  let match: RegExpExecArray | null = null;
  await until(() => (match = log.map((l) => ready.exec(l)).find((m) => m !== null) ?? null) !== null || child.exitCode !== null, 30_000, `${command}: ${ready}`);
  if (match === null) throw new Error(`${command} exited ${child.exitCode}:\n${log.join('\n')}`);
  return (match as RegExpExecArray)[1]!;
}

test.serial('README: the test environment comes up (idempotent) and the alias names the built CLI', (t) => {
  const up = readme('node dist/test/env/main.js up');
  execFileSync(process.execPath, up.split(' ').slice(1), { cwd: REPO_ROOT, stdio: 'ignore' });
  const alias = readme('alias libvirt-telemetry=');
  const target = /^alias libvirt-telemetry="node \$PWD\/(\S+)"$/.exec(alias)?.[1];
  t.is(target && path.join(REPO_ROOT, target), CLI);
  t.true(existsSync(CLI));
});

test.serial('README: the exporter answers the README curl with libvirt_up 1 and the domain count', async (t) => {
  const exporter = readme('libvirt-telemetry exporter ');
  const url = await startRole(t, exporter, ['--web.listen-address', '127.0.0.1:0'], /msg=listening address=(\S+)/);
  const curl = readme('curl ');
  const out = execFileSync('bash', ['-c', curl.replace('localhost:9177', url.replace(/^https?:\/\//, ''))], { encoding: 'utf8' });
  t.regex(out, /^libvirt_up 1$/m);
  t.regex(out, /^libvirt_domains \d+$/m);
});

test.serial('README: the sidecar with its defaults reads the QEMU logs and libvirtd\'s journal into valid records', async (t) => {
  const root = tempDir('readme');
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const state = path.join(root, 'state');
  const args = roleArgs(readme('libvirt-telemetry sidecar ')).map((w) => (w === '/tmp/lt-sidecar' ? state : w));
  t.true(args.includes(state));
  const sc = startSidecar(args);
  t.teardown(() => void sc.child.kill('SIGKILL'));
  // What the defaults find on this machine: QEMU logs, and libvirtd's entries of the journal's fallback window.
  const qemuLogs = readdirSync(HOST_PATHS.qemuLogDir).filter((f) => f.endsWith('.log'));
  const journal = execFileSync('journalctl', ['_SYSTEMD_UNIT=libvirtd.service', '--since', '-7h', '-n', '1', '-q', '-o', 'cat'], { encoding: 'utf8' });
  t.true(qemuLogs.length > 0 || journal !== '', 'nothing for the sidecar to read');
  const from = (source: string) => sc.records().some((r) => r['source'] === source);
  // records() checks every record against docs/record.schema.json.
  await sc.waitFor(() => (qemuLogs.length === 0 || from('qemu')) && (journal === '' || from('libvirtd')), 30_000, 'qemu and libvirtd records');
  t.is((await sc.health()).status, 200);
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
});

test.serial('README: the HA agent with --dry-run connects and is ready', async (t) => {
  const events = readme('libvirt-telemetry events ');
  const web = await startRole(t, events, [], /events agent started.* web=(\S+)/);
  await until(async () => (await fetch(`${web}/healthz`)).status === 200, 30_000, 'the agent to be ready');
  t.like(await (await fetch(`${web}/healthz`)).json(), { healthy: true });
});

test.serial('every README command this file is named for was run', (t) => {
  t.deepEqual([...ran].sort(), [...commands].sort());
});
