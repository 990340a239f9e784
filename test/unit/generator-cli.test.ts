// `libvirt-telemetry generate` as a user runs it: a real process, exit codes, one-line errors,
// and a target directory that is either complete or untouched.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../harness/repo.js';

const MAIN = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');

function generate(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, 'generate', ...args], { cwd, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'lt-gen-cli-'));
}

test('defaults write classic and YAML into ./fluent-bit', (t) => {
  const cwd = tmp();
  const r = generate(cwd);
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, '');
  t.regex(r.stdout, /^wrote .*fluent-bit\.conf.*\(host model, outputs: stdout\)\nQEMU logs come from the sidecar; run it as: libvirt-telemetry sidecar .*--output forward --forward.host 127\.0\.0\.1 --forward.port 24224 --tag-prefix host\n$/);
  t.deepEqual(readdirSync(path.join(cwd, 'fluent-bit')).sort(), ['fluent-bit.conf', 'fluent-bit.yaml', 'parsers-libvirt.conf']);
  t.deepEqual(readdirSync(cwd), ['fluent-bit'], 'no temporary directory left');
  t.is(statSync(path.join(cwd, 'fluent-bit')).mode & 0o777, 0o755);
});

test('regenerating replaces the directory as a whole', (t) => {
  const cwd = tmp();
  t.is(generate(cwd, '--format', 'both').code, 0);
  const r = generate(cwd, '--format', 'yaml', '--model', 'container');
  t.is(r.code, 0, r.stderr);
  t.deepEqual(readdirSync(path.join(cwd, 'fluent-bit')), ['fluent-bit.yaml']);
  t.regex(readFileSync(path.join(cwd, 'fluent-bit', 'fluent-bit.yaml'), 'utf8'), /name: kubernetes/);
  t.deepEqual(readdirSync(cwd), ['fluent-bit']);
});

test('options come from the environment when the flag is absent', (t) => {
  const cwd = tmp();
  const r = spawnSync(process.execPath, [MAIN, 'generate', '--format', 'classic'], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', LIBVIRT_TELEMETRY_GENERATE_MODEL: 'container', LIBVIRT_TELEMETRY_GENERATE_OUT: 'cfg' },
  });
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, '');
  t.regex(readFileSync(path.join(cwd, 'cfg', 'fluent-bit.conf'), 'utf8'), /Name +kubernetes/);
});

test('secrets make the directory owner-only', (t) => {
  const cwd = tmp();
  const r = generate(cwd, '--output', 'forward', '--forward.host', 'agg', '--forward.shared-key', '${KEY}');
  t.is(r.code, 0, r.stderr);
  t.is(statSync(path.join(cwd, 'fluent-bit')).mode & 0o777, 0o700);
  t.is(statSync(path.join(cwd, 'fluent-bit', 'fluent-bit.conf')).mode & 0o777, 0o600);
  t.regex(readFileSync(path.join(cwd, 'fluent-bit', 'fluent-bit.conf'), 'utf8'), /^ {4}Shared_Key +\$\{KEY\}$/m);
});

const BAD_USAGE: [string[], RegExp][] = [
  [['--model', 'vm'], /--model: must be one of host, container; got 'vm'/],
  [['--format', 'toml'], /--format: must be one of classic, yaml, both/],
  [['--http.port', '70000'], /--http.port: must be a TCP port/],
  [['--forward.port', 'abc', '--output', 'forward', '--forward.host', 'h'], /--forward.port: must be a TCP port/],
  [['--output', 'forward'], /--output forward needs --forward.host/],
  [['--output', 'stdout,loki'], /--output loki needs --loki.host/],
  [['--output', 'opensearch'], /--output opensearch needs --opensearch.host/],
  [['--output', 'kafka'], /--output: must be one of forward, loki, opensearch, stdout; got 'kafka'/],
  [['--mem-buf-limit', 'lots'], /--mem-buf-limit: must be a size/],
  [['--state-dir', 'relative/dir'], /--state-dir: must be an absolute path/],
  [['--qemu.tag', 'host qemu'], /--qemu.tag: a tag may hold only/],
  [['--container.namespace', 'a_b'], /--container.namespace: must be a Kubernetes name/],
  [['--forward.self-hostname', 'x'], /only sent with --forward.shared-key/],
  [['--tail.buffer-max-size', '16k'], /must not be smaller than --tail.buffer-chunk-size/],
  [['--loki.labels', 'job'], /--loki.labels: expected key=value/],
  [['--output', 'loki', '--loki.host', 'l', '--loki.tls-ca-file', '/ca.crt'], /--loki.tls-ca-file needs --loki.tls/],
  [['--bogus'], /unknown option '--bogus'/],
  [['--http.listen', 'not an ip'], /--http\.listen: must be an IP address .*got 'not an ip'/],
  [['--sidecar.listen', 'localhost'], /--sidecar\.listen: must be an IP address/],
  [['--output', 'loki', '--loki.host', 'http://loki:3100'], /--loki\.host: must be a host name or IP address without scheme, port or path \(see --loki\.port, --loki\.tls\), got 'http:\/\/loki:3100'/],
  [['--output', 'forward', '--forward.host', 'agg:24224'], /--forward\.host: must be a host name or IP address/],
  [['--output', 'opensearch', '--opensearch.host', 'os/index'], /--opensearch\.host: must be a host name or IP address/],
  [['--qemu.tag', 'qemu.logs'], /--qemu\.tag: with --qemu-logs sidecar it must end in \.qemu/],
  [['--out', '-'], /--out -: standard output takes one file; add --format yaml/],
  [['--out', '-', '--format', 'classic'], /--out -: standard output takes one file/],
  [['manifests', '--out', '-'], /--out -: the manifests are several files/],
];

for (const [args, reason] of BAD_USAGE) {
  test(`bad usage exits 2 with one line: ${args.join(' ')}`, (t) => {
    const cwd = tmp();
    const r = generate(cwd, ...args);
    t.is(r.code, 2);
    t.is(r.stdout, '');
    t.regex(r.stderr, /^libvirt-telemetry generate: [^\n]+\n$/);
    t.regex(r.stderr, reason);
    t.deepEqual(readdirSync(cwd), [], 'nothing written');
  });
}

test('unwritable or unsuitable --out: exit 2, one line, nothing half-written', (t) => {
  const cwd = tmp();
  writeFileSync(path.join(cwd, 'a-file'), 'x');
  mkdirSync(path.join(cwd, 'foreign'));
  writeFileSync(path.join(cwd, 'foreign', 'notes.txt'), 'mine');
  const cases: [string, RegExp][] = [
    [path.join(cwd, 'a-file', 'sub'), /cannot create its parent .*a-file: EEXIST/],
    [path.join(cwd, 'a-file', 'deeper', 'sub'), /cannot create its parent .*deeper: ENOTDIR/],
    [path.join(cwd, 'a-file'), /exists and is not a directory/],
    [path.join(cwd, 'foreign'), /holds files generate did not write \(notes\.txt\)/],
    ['/proc/libvirt-telemetry-test', /cannot write to \/proc: /],
  ];
  for (const [out, reason] of cases) {
    const r = generate(cwd, '--out', out);
    t.is(r.code, 2, out);
    t.regex(r.stderr, /^libvirt-telemetry generate: [^\n]+\n$/);
    t.regex(r.stderr, reason);
  }
  t.deepEqual(readdirSync(cwd).sort(), ['a-file', 'foreign']);
  t.deepEqual(readdirSync(path.join(cwd, 'foreign')), ['notes.txt']);
  t.false(existsSync('/proc/libvirt-telemetry-test'));
});

test('missing parents of --out are created', (t) => {
  const cwd = tmp();
  const r = generate(cwd, '--out', path.join(cwd, 'etc', 'fluent-bit', 'libvirt'));
  t.is(r.code, 0, r.stderr);
  t.deepEqual(readdirSync(path.join(cwd, 'etc', 'fluent-bit', 'libvirt')).sort(), ['fluent-bit.conf', 'fluent-bit.yaml', 'parsers-libvirt.conf']);
  t.deepEqual(readdirSync(path.join(cwd, 'etc', 'fluent-bit')), ['libvirt'], 'no temporary directory left');
});

test('--out - writes the YAML configuration to stdout and nothing to disk', (t) => {
  const cwd = tmp();
  const r = generate(cwd, '--out', '-', '--format', 'yaml', '--qemu-logs', 'on');
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, '');
  t.regex(r.stdout, /^# Fluent Bit YAML configuration/);
  t.regex(r.stdout, /\n  outputs:\n/);
  t.deepEqual(readdirSync(cwd), []);
  const sidecar = generate(cwd, '--out', '-', '--format', 'yaml');
  t.is(sidecar.code, 0);
  t.regex(sidecar.stderr, /^QEMU logs come from the sidecar; run it as: libvirt-telemetry sidecar [^\n]+\n$/, 'the hint goes to stderr');
});

test('a failed run leaves the previous configuration untouched', (t) => {
  const cwd = tmp();
  t.is(generate(cwd).code, 0);
  const before = readFileSync(path.join(cwd, 'fluent-bit', 'fluent-bit.conf'), 'utf8');
  t.is(generate(cwd, '--model', 'container', '--output', 'loki').code, 2);
  t.is(readFileSync(path.join(cwd, 'fluent-bit', 'fluent-bit.conf'), 'utf8'), before);
  t.deepEqual(readdirSync(cwd), ['fluent-bit']);
});

test('--help lists every option once', (t) => {
  const r = generate(tmp(), '--help');
  t.is(r.code, 0);
  for (const flag of ['--model', '--format', '--out', '--output', '--forward.shared-key', '--container.pod', '--journal.unit']) {
    t.is(r.stdout.split(`  ${flag} `).length - 1, 1, flag);
  }
});
