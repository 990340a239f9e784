// Bad input in the QEMU log directory: garbage bytes, invalid UTF-8, a 50 MiB line, paths that
// are a directory or a FIFO, a file the sidecar may not read. Each is logged and counted in
// /metrics, and the other lines and files keep flowing.
import test from 'ava';
import { chmodSync, chownSync, closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { metricValue, qemuLogDirSetup, startSidecar, until } from '../harness/roles/sidecar.js';
import { qemuLines, sequences } from '../harness/fakes/log-writer.js';

const setup = (prefix: string) => qemuLogDirSetup(prefix, '500ms');

test.serial('garbage bytes and invalid UTF-8 become counted records; the lines around them flow', async (t) => {
  const { logs, args } = setup('garbage');
  const file = path.join(logs, 'dom.log');
  const garbage = randomBytes(64 * 1024).map((b) => (b === 0x0a ? 0x00 : b));
  const invalid = Buffer.from([0x66, 0x6f, 0x6f, 0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0x0a]);
  writeFileSync(file, Buffer.concat([Buffer.from(qemuLines(0, 3)), garbage, Buffer.from('\n'), invalid, Buffer.from(qemuLines(3, 6))]));
  const sc = startSidecar(args);
  t.teardown(() => sc.child.kill('SIGKILL'));
  await sc.waitFor(() => sequences(sc.records()).length === 6, 10_000, 'the six valid lines');
  t.deepEqual(sequences(sc.records()), [0, 1, 2, 3, 4, 5]);
  const flagged = sc.records().filter((r) => r['invalid_utf8'] === true);
  t.is(flagged.length, 2, 'the garbage line and the invalid UTF-8 line');
  for (const r of flagged) t.is(r['kind'], 'unparsed');
  t.true(String(flagged[1]!['message']).startsWith('foo\ufffd'));
  // Counted once the output confirmed them, just after they appear.
  await until(async () => metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_unparsed_lines_total', { source: 'qemu' }) === 2, 5000, 'unparsed count');
  const m = await sc.metrics();
  t.is(metricValue(m, 'libvirt_telemetry_sidecar_invalid_utf8_lines_total', { source: 'qemu' }), 2);
  t.is(metricValue(m, 'libvirt_telemetry_sidecar_unparsed_lines_total', { source: 'qemu' }), 2);
  t.is(metricValue(m, 'libvirt_telemetry_sidecar_lines_read_total', { source: 'qemu' }), 8);
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
});

test.serial('a 50 MiB line is truncated and counted, the file keeps flowing, memory stays bounded', async (t) => {
  const { logs, args } = setup('huge');
  const sc = startSidecar([...args, '--max-line-bytes', '256KiB']);
  t.teardown(() => sc.child.kill('SIGKILL'));
  await sc.port();
  const fd = openSync(path.join(logs, 'dom.log'), 'a');
  writeSync(fd, qemuLines(0, 2));
  // Written in pieces while the sidecar reads: it never sees the whole line at once.
  const piece = Buffer.alloc(1024 * 1024, 'x');
  const hugeBytes = 50 * 1024 * 1024;
  writeSync(fd, 'HUGE ');
  for (let written = 5; written < hugeBytes; written += piece.length) writeSync(fd, piece, 0, Math.min(piece.length, hugeBytes - written));
  writeSync(fd, '\n' + qemuLines(2, 4));
  closeSync(fd);
  await sc.waitFor(() => sequences(sc.records()).length === 4, 30_000, 'the lines after the huge one');
  const records = sc.records();
  t.deepEqual(sequences(records), [0, 1, 2, 3]);
  const huge = records.filter((r) => r['truncated'] === true);
  t.is(huge.length, 1);
  t.true(String(huge[0]!['message']).length <= 256 * 1024);
  t.true(String(huge[0]!['message']).length > 200 * 1024);
  const m = await sc.metrics();
  t.is(metricValue(m, 'libvirt_telemetry_sidecar_truncated_lines_total', { source: 'qemu' }), 1);
  t.is(metricValue(m, 'libvirt_telemetry_sidecar_truncated_bytes_total', { source: 'qemu' }), hugeBytes - 256 * 1024);
  const rss = metricValue(m, 'libvirt_telemetry_sidecar_process_resident_memory_bytes');
  t.log(`RSS after the 50 MiB line: ${(rss / 2 ** 20).toFixed(1)} MiB`);
  t.true(rss < 160 * 2 ** 20, `RSS ${rss}`);
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
});

test.serial('a path that is a directory or a FIFO is logged once and counted; other files flow', async (t) => {
  const { logs, args } = setup('special');
  mkdirSync(path.join(logs, 'dir.log'));
  execFileSync('mkfifo', [path.join(logs, 'fifo.log')]);
  writeFileSync(path.join(logs, 'dom.log'), qemuLines(0, 3));
  const sc = startSidecar(args);
  t.teardown(() => sc.child.kill('SIGKILL'));
  await sc.waitFor(() => sequences(sc.records()).length === 3, 10_000, 'the regular file');
  // A regular file replaced by a directory while the sidecar runs.
  const replaced = path.join(logs, 'replaced.log');
  writeFileSync(replaced, qemuLines(10, 12));
  await sc.waitFor(() => sequences(sc.records()).length === 5, 10_000, 'the file to be replaced');
  rmSync(replaced);
  mkdirSync(replaced);
  // Several rescans pass: each failure is logged and counted once, not per rescan.
  await new Promise((r) => setTimeout(r, 1800));
  writeFileSync(path.join(logs, 'late.log'), qemuLines(20, 22));
  await sc.waitFor(() => sequences(sc.records()).length === 7, 10_000, 'a file added afterwards');
  await until(async () => metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_file_errors_total', { reason: 'not_regular' }) >= 3, 5000, 'three errors');
  await new Promise((r) => setTimeout(r, 1200));
  const m = await sc.metrics();
  t.is(metricValue(m, 'libvirt_telemetry_sidecar_file_errors_total', { reason: 'not_regular' }), 3);
  for (const name of ['dir.log', 'fifo.log', 'replaced.log']) {
    const mentions = sc.stderr().split('\n').filter((l) => l.includes(`${name}: not a regular file`));
    t.is(mentions.length, 1, name);
  }
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
});

test.serial('a file the sidecar may not read (run as nobody) is logged and counted; other files flow', async (t) => {
  const { root, logs, state, args } = setup('denied');
  chmodSync(root, 0o755);
  mkdirSync(state);
  chownSync(state, 65534, 65534);
  writeFileSync(path.join(logs, 'secret.log'), qemuLines(100, 102), { mode: 0o600 });
  writeFileSync(path.join(logs, 'dom.log'), qemuLines(0, 3), { mode: 0o644 });
  const sc = startSidecar(args, { wrap: ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'] });
  t.teardown(() => sc.child.kill('SIGKILL'));
  await sc.waitFor(() => sequences(sc.records()).length === 3, 10_000, 'the readable file');
  await new Promise((r) => setTimeout(r, 1200));
  t.deepEqual(sequences(sc.records()), [0, 1, 2]);
  const m = await sc.metrics();
  t.is(metricValue(m, 'libvirt_telemetry_sidecar_file_errors_total', { reason: 'permission_denied' }), 1);
  t.regex(sc.stderr(), /secret\.log: permission denied/);
  // Once readable, it is read (the rescan retries it).
  chmodSync(path.join(logs, 'secret.log'), 0o644);
  await sc.waitFor(() => sequences(sc.records()).length === 5, 10_000, 'the file once readable');
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
});
