// The journal source against real journal files written by systemd-journal-remote from
// libvirtd's real entries (test/fixtures/samples/real/journal-libvirtd.json), read by the real
// journalctl. `_BOOT_ID` is set to the running boot: `journalctl --follow` shows nothing else.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { metricValue, startSidecar, tempDir } from '../harness/roles/sidecar.js';
import { sample } from '../harness/inputs/samples.js';

const JOURNAL_REMOTE = '/lib/systemd/systemd-journal-remote';
const BOOT = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replaceAll('-', '');
const SAMPLE = readFileSync(sample('real/journal-libvirtd.json'), 'utf8').trim().split('\n');

/** Journal export format of `count` real libvirtd entries, each MESSAGE tagged with its number. */
function exportEntries(from: number, count: number): Buffer {
  const parts: Buffer[] = [];
  const now = Date.now() * 1000;
  for (let n = from; n < from + count; n++) {
    const entry = JSON.parse(SAMPLE[n % SAMPLE.length]!) as Record<string, unknown>;
    delete entry['__CURSOR'];
    entry['_BOOT_ID'] = BOOT;
    entry['MESSAGE'] = `journal test ${n}`;
    entry['__REALTIME_TIMESTAMP'] = String(now + n);
    for (const [key, value] of Object.entries(entry)) if (typeof value === 'string') parts.push(Buffer.from(`${key}=${value}\n`));
    parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

function writeJournal(dir: string, name: string, from: number, count: number): void {
  mkdirSync(dir, { recursive: true });
  execFileSync(JOURNAL_REMOTE, ['-o', path.join(dir, name), '-'], { input: exportEntries(from, count), stdio: ['pipe', 'ignore', 'ignore'] });
}

const numbers = (records: Record<string, unknown>[]): number[] =>
  records.map((r) => /^journal test (\d+)$/.exec(String(r['message']))).filter(Boolean).map((m) => Number(m![1]));

function setup(prefix: string) {
  const root = tempDir(prefix);
  const journal = path.join(root, 'journal');
  const state = path.join(root, 'state');
  const args = ['--qemu.log-dir', '', '--journal.directory', journal, '--state-dir', state];
  return { root, journal, state, args };
}

test.before((t) => {
  if (!existsSync(JOURNAL_REMOTE)) t.fail(`${JOURNAL_REMOTE} is missing (Debian package systemd-journal-remote)`);
});

test.serial('real libvirtd entries become libvirt_log records; a restart resumes after the cursor without gaps or repeats', async (t) => {
  const { journal, args } = setup('resume');
  writeJournal(journal, 'a.journal', 0, 10);
  const first = startSidecar(args);
  await first.waitFor(() => numbers(first.records()).length === 10, 15_000, 'ten records');
  const r = first.records()[0]!;
  t.is(r['source'], 'libvirtd');
  t.is(r['kind'], 'libvirt_log');
  t.is(r['unit'], 'libvirtd.service');
  t.regex(String(r['cursor']), /^s=[0-9a-f]{32};i=/);
  // New entries while it runs are followed.
  writeJournal(journal, 'b.journal', 10, 5);
  await first.waitFor(() => numbers(first.records()).length === 15, 15_000, 'followed entries');
  first.child.kill('SIGTERM');
  t.is(await first.exited, 0);
  writeJournal(journal, 'c.journal', 15, 5);
  const second = startSidecar(args);
  await second.waitFor(() => numbers(second.records()).length >= 5, 15_000, 'five new records');
  await new Promise((r) => setTimeout(r, 1000));
  t.deepEqual(numbers(first.records()), [...Array(15).keys()]);
  t.deepEqual(numbers(second.records()), [15, 16, 17, 18, 19]);
  t.is(metricValue(await second.metrics(), 'libvirt_telemetry_sidecar_cursor_resets_total'), 0);
  second.child.kill('SIGTERM');
  t.is(await second.exited, 0);
});

test.serial('journalctl killed under the sidecar is restarted and resumes without repeats', async (t) => {
  const { journal, args } = setup('restart');
  writeJournal(journal, 'a.journal', 0, 5);
  const sc = startSidecar(args);
  await sc.waitFor(() => numbers(sc.records()).length === 5, 15_000, 'five records');
  execFileSync('pkill', ['-KILL', '-P', String(sc.child.pid), '-x', 'journalctl']);
  writeJournal(journal, 'b.journal', 5, 3);
  await sc.waitFor(() => numbers(sc.records()).length >= 8, 20_000, 'entries after the restart');
  await new Promise((r) => setTimeout(r, 500));
  t.deepEqual(numbers(sc.records()), [0, 1, 2, 3, 4, 5, 6, 7]);
  t.is(metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_journalctl_restarts_total'), 1);
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
});

for (const [reason, cursor] of [
  ['malformed', 'this is not a cursor'],
  ['other_boot', `s=${'1'.repeat(32)};i=5;b=${'2'.repeat(32)};m=1;t=1;x=1`],
  ['vanished', `s=${'3'.repeat(32)};i=5;b=${BOOT};m=1;t=1;x=1`],
] as const) {
  test.serial(`a stored cursor that is ${reason} is counted, reported once, and reading falls back to the age window`, async (t) => {
    const { journal, state, args } = setup(reason);
    writeJournal(journal, 'a.journal', 0, 4);
    mkdirSync(state, { recursive: true });
    writeFileSync(path.join(state, 'state.json'), JSON.stringify({ version: 1, savedAt: Date.now(), streams: {}, journal: { cursor } }));
    const sc = startSidecar(args);
    await sc.waitFor(() => numbers(sc.records()).length === 4, 15_000, 'the entries of the age window');
    t.is(metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_cursor_resets_total', { reason }), 1);
    t.is(sc.stderr().split('\n').filter((l) => l.includes('cursor')).length, 1, sc.stderr());
    sc.child.kill('SIGTERM');
    t.is(await sc.exited, 0);
  });
}
