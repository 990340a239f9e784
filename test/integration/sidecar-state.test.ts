// The state directory as users meet it when something is wrong with it: a path that cannot be a
// directory, a corrupt snapshot, garbage in the WAL, a checkpoint past the end of its file.
import test from 'ava';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { metricValue, qemuLogDirSetup, startSidecar } from '../harness/roles/sidecar.js';
import { qemuLines, sequences } from '../harness/fakes/log-writer.js';

const oneLine = (text: string) => text.trim().split('\n');

test.serial('--state-dir /proc/x: one line naming the directory, exit 1, at once', async (t) => {
  const { args } = qemuLogDirSetup('proc-state', '500ms');
  const started = Date.now();
  const sc = startSidecar([...args, '--state-dir', '/proc/x']);
  t.teardown(() => sc.child.kill('SIGKILL'));
  t.is(await sc.exited, 1);
  // At once: no retry. The bound includes starting Node on a loaded machine; a retry loop would never end.
  t.true(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
  t.deepEqual(oneLine(sc.stderr()), ['libvirt-telemetry sidecar: cannot create the state directory /proc/x: ENOENT: no such file or directory, mkdir \'/proc/x\'']);
});

test.serial('a corrupt state.json: one line with the file, the reason and what to do, exit 1', async (t) => {
  const { state, args } = qemuLogDirSetup('corrupt-state', '500ms');
  const first = startSidecar(args);
  await first.port();
  first.child.kill('SIGTERM');
  t.is(await first.exited, 0);
  writeFileSync(path.join(state, 'state.json'), '{"version":1,"str');
  const sc = startSidecar(args);
  t.teardown(() => sc.child.kill('SIGKILL'));
  t.is(await sc.exited, 1);
  const lines = oneLine(sc.stderr());
  t.is(lines.length, 1, sc.stderr());
  t.regex(lines[0]!, /^libvirt-telemetry sidecar: cannot read .*state\.json: .*; to start without it, move it aside \(mv .*state\.json .*state\.json\.bad\)/);
});

test.serial('garbage lines in state.wal are counted and logged; reading resumes from the entries around them', async (t) => {
  const { logs, state, args } = qemuLogDirSetup('wal-garbage', '500ms');
  const file = path.join(logs, 'dom.log');
  writeFileSync(file, qemuLines(0, 5));
  const first = startSidecar(args);
  await first.waitFor(() => sequences(first.records()).length === 5, 10_000, 'the first five');
  first.child.kill('SIGTERM');
  t.is(await first.exited, 0);
  appendFileSync(path.join(state, 'state.wal'), 'not a checkpoint\n\u0000\u0000\n');
  appendFileSync(file, qemuLines(5, 8));
  const sc = startSidecar(args);
  t.teardown(() => sc.child.kill('SIGKILL'));
  await sc.waitFor(() => sequences(sc.records()).length === 3, 10_000, 'the three new lines');
  t.deepEqual(sequences(sc.records()), [5, 6, 7]);
  t.regex(sc.stderr(), /state\.wal: skipped 2 line\(s\) that are no checkpoint entry \(line 1, 2\)/);
  t.is(metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_checkpoint_wal_bad_lines_total'), 2);
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
});

test.serial('a checkpoint past the end of its (truncated) file: logged as such, the file is read again from its head', async (t) => {
  const { logs, args } = qemuLogDirSetup('past-end', '500ms');
  const file = path.join(logs, 'dom.log');
  writeFileSync(file, qemuLines(0, 20));
  const first = startSidecar(args);
  await first.waitFor(() => sequences(first.records()).length === 20, 10_000, 'the first twenty');
  // Past the multi-line flush: the checkpoint moves to the end of the file.
  await new Promise((r) => setTimeout(r, 2500));
  first.child.kill('SIGTERM');
  t.is(await first.exited, 0);
  // Truncated in place while the sidecar is down (same inode), then written again.
  writeFileSync(file, qemuLines(100, 103));
  const sc = startSidecar(args);
  t.teardown(() => sc.child.kill('SIGKILL'));
  await sc.waitFor(() => sequences(sc.records()).length === 3, 10_000, 'the new lines');
  t.deepEqual(sequences(sc.records()), [100, 101, 102]);
  t.notRegex(sc.stderr(), /is gone|are lost/);
  t.regex(sc.stderr(), /dom\.log is shorter \(225 bytes\) than its checkpoint \(1470 bytes\): it was truncated or replaced while the sidecar was down; it is read again from its head/);
  t.is(metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_rotations_total', { type: 'truncate' }), 1);
  t.is(metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_dropped_total'), 0);
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
});
