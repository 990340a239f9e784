// The README's host-model quick start, run as written against the test environment: the commands are
// read from README.md (test/harness/checks/readme-commands.ts). The only changes: fixed ports become free ones
// (tests of several people share the machine), state directories are temp dirs, and the sidecar that sends
// to Fluent Bit reads a QEMU log of the fixtures, so the records it must deliver are known.
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { commandsRunBy, readmeCommands } from '../harness/checks/readme-commands.js';
import { ForwardServer } from '../harness/fakes/forward-server.js';
import { freePort } from '../harness/free-port.js';
import { CLI, REPO_ROOT } from '../harness/repo.js';
import { parseWithCli, startSidecar, tempDir, until } from '../harness/roles/sidecar.js';
import { QEMU_LOG_SAMPLES } from '../harness/inputs/samples.js';
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
  const verb = (args: string[]) => execFileSync(process.execPath, [up.split(' ')[1]!, ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
  // `up` keeps the environment after this test run; drop that hold again unless somebody had it before
  // (`down` then leaves the teardown to the last `run`, this test run's own).
  const keptBefore = (JSON.parse(verb(['status', '--json'])) as { keep: boolean }).keep;
  execFileSync(process.execPath, up.split(' ').slice(1), { cwd: REPO_ROOT, stdio: 'ignore' });
  if (!keptBefore) t.teardown(() => void verb(['down']));
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
  const args = roleArgs(readme('libvirt-telemetry sidecar --state-dir ')).map((w) => (w === '/tmp/lt-sidecar-stdout' ? state : w));
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

/** A real Fluent Bit for the quick start's `fluent-bit -c` step: $FLUENT_BIT or one on PATH (none is packaged here). */
function fluentBitBinary(): string | undefined {
  if (process.env['FLUENT_BIT']) return process.env['FLUENT_BIT'];
  const which = spawnSync('sh', ['-c', 'command -v fluent-bit'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

test.serial('README: generate, Fluent Bit and the sidecar of the host quick start run together; every record of a QEMU log arrives once, tagged for the generated pipeline', async (t) => {
  const all = readmeCommands();
  const generate = all.find((c) => c.startsWith('libvirt-telemetry generate --model host '))!;
  const fluentBit = all.find((c) => c.startsWith('fluent-bit -c '))!;
  const sidecar = readme('libvirt-telemetry sidecar --libvirtd.source none --output forward ');
  const root = tempDir('readme-fb');
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const generateArgs = (out: string, extra: string[]) => [CLI, ...generate.split(' ').slice(1).map((w) => (w === './fluent-bit' ? out : w)), ...extra];

  // The README's sidecar command is the one the generated configuration prints, plus its state and listen address.
  execFileSync(process.execPath, generateArgs(path.join(root, 'as-written'), []), { stdio: 'ignore' });
  const written = readFileSync(path.join(root, 'as-written', 'fluent-bit.conf'), 'utf8');
  const printed = /Run it as:\n#\s+(libvirt-telemetry sidecar .*)$/m.exec(written)?.[1];
  t.truthy(printed, 'the forward input names the sidecar command line');
  t.true(sidecar.startsWith(`${printed!} --state-dir `), `README: ${sidecar}\ngenerated: ${printed}`);

  // The same configuration on a free port: a real Fluent Bit when there is one, else the in-test Forward
  // server that answers as Fluent Bit's in_forward does (handshake, acks).
  const port = await freePort();
  const config = path.join(root, 'fluent-bit');
  execFileSync(process.execPath, generateArgs(config, ['--sidecar.port', String(port), '--state-dir', path.join(root, 'fb-state')]), { stdio: 'ignore' });
  const binary = fluentBitBinary();
  // What reached the generated pipeline: Fluent Bit's stdout output keeps no tag; the Forward server does.
  let received: () => readonly { tag?: string; record: Record<string, unknown> }[];
  if (binary !== undefined) {
    const printed: { record: Record<string, unknown> }[] = [];
    received = () => printed;
    const fb = spawn(binary, fluentBit.replace(/ &$/, '').split(' ').slice(1).map((w) => (w === './fluent-bit/fluent-bit.conf' ? path.join(config, 'fluent-bit.conf') : w)), { stdio: ['ignore', 'pipe', 'ignore'] });
    t.teardown(() => void fb.kill('SIGKILL'));
    createInterface({ input: fb.stdout! }).on('line', (l) => {
      // Fluent Bit's own journal input prints libvirtd's records here too; the sidecar's are the QEMU ones.
      const record = l.startsWith('{') ? (JSON.parse(l) as Record<string, unknown>) : undefined;
      if (record?.['source'] === 'qemu') printed.push({ record });
    });
    await until(() => spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]).status === 0, 30_000, 'Fluent Bit to listen');
  } else {
    t.log('no Fluent Bit here (set FLUENT_BIT): the generated forward input is stood in for by the in-test Forward server');
    const server = new ForwardServer();
    await server.listen(port);
    t.teardown(() => server.close());
    received = () => server.received;
  }

  const logs = path.join(root, 'qemu');
  mkdirSync(logs);
  const sample = QEMU_LOG_SAMPLES[0]!;
  const domain = path.basename(sample, '.log');
  copyFileSync(sample, path.join(logs, `${domain}.log`));
  const expected = parseWithCli(readFileSync(sample), domain);
  const args = roleArgs(sidecar).map((w, i, all) => (all[i - 1] === '--forward.port' ? String(port) : all[i - 1] === '--state-dir' ? path.join(root, 'state') : w));
  const sc = startSidecar([...args, '--qemu.log-dir', logs]);
  t.teardown(() => void sc.child.kill('SIGKILL'));
  await until(() => received().length >= expected.length, 60_000, `${expected.length} records through the forward input`);
  t.deepEqual(
    received().map((r) => r.record['message'] ?? r.record['kind']),
    expected.map((r) => r['message'] ?? r['kind']),
    'every record once, in order',
  );
  for (const r of received()) {
    t.like(r.record, { source: 'qemu', domain });
    if (r.tag !== undefined) t.is(r.tag, `host.qemu.${domain}`, 'the tag the generated pipeline matches');
  }
  const match = /\[OUTPUT\][^[]*?Match\s+(\S+)/.exec(readFileSync(path.join(config, 'fluent-bit.conf'), 'utf8'))?.[1];
  t.truthy(match && new RegExp(`^${match.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`).test(`host.qemu.${domain}`), `the output's Match ${match} takes the sidecar's tag`);
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
