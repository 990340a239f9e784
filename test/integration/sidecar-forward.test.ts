// The Forward output against an in-test Fluent Forward server that speaks the protocol as
// Fluent Bit's in_forward does: shared-key handshake, PackedForward with EventTime, chunk acks.
// It can also misbehave: close the connection in the middle of a chunk, or never ack.
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { decodeMulti, decodeMultiStream, encode, ExtensionCodec } from '@msgpack/msgpack';
import { qemuLine, sequences, tally } from '../harness/fakes/log-writer.js';
import { metricValue, startSidecar, tempDir, until } from '../harness/roles/sidecar.js';
import { checkedRecords } from '../harness/checks/record-schema.js';

type Behaviour = 'ack' | 'never-ack' | 'close-mid-chunk';

interface Received {
  tag: string;
  seconds: number;
  nanos: number;
  record: Record<string, unknown>;
}

const codec = new ExtensionCodec();
codec.register({
  type: 0,
  encode: () => null,
  decode: (data) => {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    return { seconds: view.getUint32(0), nanos: view.getUint32(4) };
  },
});

const sha512 = (...parts: (string | Uint8Array)[]): string => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

class ForwardServer {
  readonly received: Received[] = [];
  /** The records received so far, checked against the record schema. */
  records(): Record<string, unknown>[] {
    return checkedRecords(this.received.map((r) => r.record));
  }
  connections = 0;
  chunks = 0;
  behaviour: Behaviour = 'ack';
  private server!: Server;
  private readonly sockets = new Set<Socket>();
  constructor(readonly sharedKey?: string) {}

  async listen(): Promise<number> {
    this.server = createServer((socket) => void this.serve(socket));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as { port: number }).port;
  }

  private async serve(socket: Socket): Promise<void> {
    this.connections++;
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
    const nonce = randomBytes(16);
    let authenticated = this.sharedKey === undefined;
    if (!authenticated) socket.write(encode(['HELO', { nonce, auth: '', keepalive: true }]));
    if (this.behaviour === 'close-mid-chunk') {
      // Take a part of the first chunk, then hang up; the next connection behaves.
      this.behaviour = 'ack';
      let seen = 0;
      socket.on('data', (d: Buffer) => {
        seen += d.length;
        if (seen > 2000) socket.destroy();
      });
      return;
    }
    try {
      for await (const message of decodeMultiStream(socket, { extensionCodec: codec })) {
        const m = message as unknown[];
        if (!authenticated) {
          const [kind, hostname, salt, digest] = m as [string, string, Uint8Array, string];
          const ok = kind === 'PING' && digest === sha512(salt, hostname, nonce, this.sharedKey!);
          socket.write(encode(['PONG', ok, ok ? '' : 'shared key mismatch', 'test-server', sha512(salt, 'test-server', nonce, this.sharedKey!)]));
          if (!ok) return void socket.end();
          authenticated = true;
          continue;
        }
        const [tag, entries, options] = m as [string, Uint8Array, { size: number; chunk: string }];
        this.chunks++;
        let count = 0;
        for (const entry of decodeMulti(entries, { extensionCodec: codec })) {
          const [time, record] = entry as [{ seconds: number; nanos: number }, Record<string, unknown>];
          this.received.push({ tag, ...time, record });
          count++;
        }
        if (count !== options.size) throw new Error(`size ${options.size} but ${count} entries`);
        if (this.behaviour === 'ack') socket.write(encode({ ack: options.chunk }));
      }
    } catch {
      socket.destroy();
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

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
