// `generate --check`: the plumbing around `fluent-bit --dry-run -c`, with a stand-in executable that
// answers like Fluent Bit (its version line, exit 0 on a good file, an error line and exit 1 on a bad
// one). The real Fluent Bit 4.2.8 is run on every variant by bench/fluent-bit.ts and by hand (see
// docs/generate.md); unit tests must not depend on it.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../harness/repo.js';

const MAIN = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');

/** A `fluent-bit` that logs its arguments and rejects configurations containing `rejectIf`. */
function fakeFluentBit(rejectIf: string): { dir: string; log: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lt-fake-fb-'));
  const log = path.join(dir, 'calls.log');
  const script = `#!/bin/sh
echo "$*" >> '${log}'
if [ "$1" = "--version" ]; then echo "Fluent Bit v4.2.8"; exit 0; fi
conf="$3"
[ -f "$(dirname "$conf")/parsers-libvirt.conf" ] || [ "\${conf##*.}" = yaml ] || { echo "[error] cannot open parsers-libvirt.conf"; exit 1; }
if grep -q '${rejectIf}' "$conf"; then echo "Fluent Bit v4.2.8"; echo "[2026/12/07 06:00:00] [error] [config] section 'forward' tried to instance a plugin name that doesn't exist"; exit 1; fi
echo "configuration test is successful"
`;
  writeFileSync(path.join(dir, 'fluent-bit'), script);
  chmodSync(path.join(dir, 'fluent-bit'), 0o755);
  return { dir, log };
}

function generate(pathEnv: string, ...args: string[]) {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'lt-gen-check-'));
  const r = spawnSync(process.execPath, [MAIN, 'generate', '--out', path.join(cwd, 'out'), '--check', ...args], { cwd, encoding: 'utf8', env: { PATH: pathEnv } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--check runs fluent-bit --dry-run -c on each written file and reports its verdict', (t) => {
  const fake = fakeFluentBit('no-such-text');
  const r = generate(`${fake.dir}:/usr/bin:/bin`);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`check: ${fake.dir}/fluent-bit \\(Fluent Bit v4\\.2\\.8\\) --dry-run accepts fluent-bit\\.conf\\n`));
  t.regex(r.stdout, /--dry-run accepts fluent-bit\.yaml\n$/);
  const calls = readFileSync(fake.log, 'utf8').trim().split('\n');
  t.is(calls[0], '--version');
  t.regex(calls[1]!, /^--dry-run -c \/.+\/fluent-bit\.conf$/);
  t.regex(calls[2]!, /^--dry-run -c \/.+\/fluent-bit\.yaml$/);
  t.false(existsSync(path.dirname(calls[1]!.split(' ')[2]!)), 'the temporary copy is removed');
});

test('--check: a rejected configuration exits 1 with Fluent Bit\'s error line (the files are still written)', (t) => {
  const fake = fakeFluentBit('Name *forward');
  const r = generate(`${fake.dir}:/usr/bin:/bin`, '--format', 'classic');
  t.is(r.code, 1);
  t.regex(r.stdout, /^wrote /);
  t.regex(r.stdout, /check failed: .* --dry-run rejects fluent-bit\.conf: exit 1: \[2026\/12\/07 06:00:00\] \[error\] \[config\] section 'forward' tried to instance a plugin name that doesn't exist\n$/);
});

test('--check without a Fluent Bit binary says the check was skipped', (t) => {
  t.false(existsSync('/opt/fluent-bit/bin/fluent-bit'), 'this test assumes no packaged Fluent Bit');
  const empty = mkdtempSync(path.join(os.tmpdir(), 'lt-no-fb-'));
  const r = generate(empty);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /check skipped: no fluent-bit on PATH or at \/opt\/fluent-bit\/bin\/fluent-bit \(give one with --fluent-bit PATH\)\n$/);
});

test('--check --fluent-bit names the binary; one that is not executable fails in one line', (t) => {
  const fake = fakeFluentBit('no-such-text');
  const ok = generate('/usr/bin:/bin', '--fluent-bit', path.join(fake.dir, 'fluent-bit'), '--format', 'yaml');
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /--dry-run accepts fluent-bit\.yaml\n$/);
  const bad = generate('/usr/bin:/bin', '--fluent-bit', '/nonexistent/fluent-bit');
  t.is(bad.code, 1);
  t.regex(bad.stdout, /check failed: --fluent-bit \/nonexistent\/fluent-bit is not an executable file\n$/);
});
