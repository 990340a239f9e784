// The exporter's command line: bad flags and URIs are one line on stderr and exit code 2, before anything starts.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import { parseCommandLine, UsageError } from '../../runtime/options.js';
import { exporterCommand } from '../../exporter/command.js';
import { REPO_ROOT as repoRoot } from '../harness/repo.js';

const cli = path.join(repoRoot, 'dist', 'cli', 'main.js');

function exporter(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cli, 'exporter', ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

const usageErrors: [string[], Record<string, string>, RegExp][] = [
  [['--libvirt.uri', 'not a uri'], {}, /--libvirt\.uri: not a libvirt URI/],
  [['--libvirt.uri', 'xen:///system'], {}, /--libvirt\.uri: unsupported driver 'xen'/],
  [[], { LIBVIRT_TELEMETRY_EXPORTER_LIBVIRT_URI: 'qemu+ssh://host/system' }, /\$LIBVIRT_TELEMETRY_EXPORTER_LIBVIRT_URI: .*ssh/],
  [['--web.listen-address', '9177'], {}, /--web\.listen-address: expected HOST:PORT/],
  [['--web.telemetry-path', 'metrics'], {}, /--web\.telemetry-path: must be an absolute URL path/],
  [['--web.config.file', '/nonexistent/web.yml'], {}, /--web\.config\.file: cannot read/],
  [['--libvirt.timeout', 'soon'], {}, /--libvirt\.timeout: must be a duration/],
  [['--scrape.timeout=0'], {}, /--scrape\.timeout: must be at least 1 ms, got '0' \(0 ms\)/],
  [['--log.level', 'loud'], {}, /--log\.level: must be one of debug, info, warn, error/],
  [['--no-such-flag'], {}, /unknown option '--no-such-flag'/],
];

for (const [args, env, message] of usageErrors) {
  test(`usage error: ${[...args, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)].join(' ')}`, async (t) => {
    // Validation happens before anything starts, so running the command is safe here.
    const run = async () => exporterCommand.run(parseCommandLine(exporterCommand, args, env).options, []);
    const err = await t.throwsAsync(run, { instanceOf: UsageError });
    t.regex(err!.message, message);
    t.false(err!.message.includes('\n'));
  });
}

test('a usage error is one line on stderr and exit code 2', (t) => {
  const r = exporter(['--libvirt.uri', 'bogus']);
  t.is(r.status, 2);
  t.is(r.stderr, "libvirt-telemetry exporter: --libvirt.uri: not a libvirt URI: 'bogus' (expected e.g. qemu:///system or qemu+tcp://HOST/system)\n");
});

test('a port that is taken: one line, exit 1', async (t) => {
  const net = await import('node:net');
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  const r = exporter(['--libvirt.uri', 'test+tcp://127.0.0.1:1/default', '--web.listen-address', `127.0.0.1:${port}`, '--log.level', 'error']);
  blocker.close();
  t.is(r.status, 1);
  t.regex(r.stderr, /cannot listen on 127\.0\.0\.1:\d+: listen EADDRINUSE/);
  t.is(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
});

test('--help lists every flag with its default and environment variable', (t) => {
  const r = exporter(['--help']);
  t.is(r.status, 0);
  for (const flag of ['--libvirt.uri', '--web.listen-address', '--web.telemetry-path', '--web.config.file', '--libvirt.timeout']) {
    t.true(r.stdout.includes(flag), flag);
  }
  // Help is wrapped to the terminal width: compare with the line breaks as spaces.
  t.regex(r.stdout.replace(/\s+/g, ' '), /default: :9177; env: LIBVIRT_TELEMETRY_EXPORTER_WEB_LISTEN_ADDRESS/);
});
