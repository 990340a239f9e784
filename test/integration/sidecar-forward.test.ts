// The Forward output against the in-test Fluent Forward server (test/harness/fakes/forward-server.ts):
// shared-key handshake, PackedForward with EventTime, chunk acks, and a server that misbehaves.
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ForwardServer } from '../harness/fakes/forward-server.js';
import { qemuLine, sequences, tally } from '../harness/fakes/log-writer.js';
import { metricValue, startSidecar, tempDir, until } from '../harness/roles/sidecar.js';

function setup(prefix: string, lines: number) {
  const root = tempDir(prefix);
  const logs = path.join(root, 'qemu');
  mkdirSync(logs);
  let text = '';
  for (let i = 0; i < lines; i++) text += qemuLine(i);
  writeFileSync(path.join(logs, 'vm-1.log'), text);
  return ['--qemu.log-dir', logs, '--libvirtd.source', 'none', '--state-dir', path.join(root, 'state'), '--output', 'forward', '--forward.host', '127.0.0.1'];
}

test.serial('PackedForward with EventTime and chunk acks after a shared-key handshake', async (t) => {
  const server = new ForwardServer('s3cret');
  const port = await server.listen();
  t.teardown(() => server.close());
  const sc = startSidecar([...setup('fwd', 3000), '--forward.port', String(port), '--forward.shared-key', 's3cret', '--forward.self-hostname', 'hv-1']);
  t.teardown(() => sc.child.kill('SIGKILL'));
  await until(() => server.received.length >= 3000, 20_000, 'all records at the server');
  const seqs = sequences(server.records());
  t.deepEqual(tally(seqs, 3000), { lost: [], duplicates: 0, outOfOrder: 0 });
  const first = server.received[0]!;
  t.is(first.tag, 'libvirt.qemu.vm-1');
  t.is(first.record['domain'], 'vm-1');
  // qemuLine(0) is 2026-11-30T10:00:00.000123Z: the microseconds survive as nanoseconds.
  t.is(first.seconds, Date.UTC(2026, 10, 30, 10, 0, 0) / 1000);
  t.is(first.nanos, 123_000);
  await until(async () => metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_records_total', { kind: 'qemu_message' }) === 3000, 5000, 'records_total');
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
});

test.serial('a wrong shared key is refused and nothing is confirmed', async (t) => {
  const server = new ForwardServer('right');
  const port = await server.listen();
  t.teardown(() => server.close());
  const sc = startSidecar([...setup('fwd-key', 10), '--forward.port', String(port), '--forward.shared-key', 'wrong']);
  t.teardown(() => sc.child.kill('SIGKILL'));
  await until(async () => metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_output_errors_total') >= 1, 10_000, 'an output error');
  t.is(server.received.length, 0);
  t.regex(sc.stderr(), /refused authentication|shared key/);
  t.is(metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_records_total'), 0);
});

test.serial('a server that closes in the middle of a chunk: the chunk is sent again, nothing lost', async (t) => {
  const server = new ForwardServer();
  server.behaviour = 'close-mid-chunk';
  const port = await server.listen();
  t.teardown(() => server.close());
  const sc = startSidecar([...setup('fwd-close', 2000), '--forward.port', String(port)]);
  t.teardown(() => sc.child.kill('SIGKILL'));
  await until(() => new Set(sequences(server.records())).size >= 2000, 20_000, 'all records');
  const result = tally(sequences(server.records()), 2000);
  t.deepEqual(result.lost, []);
  t.true(server.connections >= 2);
  t.true(metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_output_errors_total') >= 1);
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
});

test.serial('a server that never acks: chunks stay pending and unconfirmed, and are delivered once a server acks', async (t) => {
  const server = new ForwardServer();
  server.behaviour = 'never-ack';
  const port = await server.listen();
  t.teardown(() => server.close());
  const sc = startSidecar([...setup('fwd-noack', 500), '--forward.port', String(port), '--forward.ack-timeout', '1s']);
  t.teardown(() => sc.child.kill('SIGKILL'));
  await until(() => server.chunks >= 1, 10_000, 'a chunk');
  const m = await sc.metrics();
  t.true(metricValue(m, 'libvirt_telemetry_sidecar_pending_acks') >= 1 || metricValue(m, 'libvirt_telemetry_sidecar_output_errors_total') >= 1);
  t.is(metricValue(m, 'libvirt_telemetry_sidecar_records_total'), 0);
  await until(async () => metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_output_errors_total') >= 1, 10_000, 'the ack timeout');
  t.is(metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_records_total'), 0);
  server.behaviour = 'ack';
  await until(async () => metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_records_total') === 500, 20_000, 'delivery once acked');
  t.deepEqual(tally(sequences(server.records()), 500).lost, []);
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
});
