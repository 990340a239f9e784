// A Fluent Forward server that speaks the protocol as Fluent Bit's in_forward does: shared-key handshake,
// PackedForward with EventTime, chunk acks. It stands in for Fluent Bit, which is not packaged for the test
// machine (bench/fluent-bit.ts runs the real one). It can also misbehave: close the connection in the middle
// of a chunk, or never ack.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { decodeMulti, decodeMultiStream, encode, ExtensionCodec } from '@msgpack/msgpack';
import { checkedRecords } from '../checks/record-schema.js';

export type Behaviour = 'ack' | 'never-ack' | 'close-mid-chunk';

export interface Received {
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

export class ForwardServer {
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

  /** Listens on 127.0.0.1:`port` (0: a free one); resolves with the port. */
  async listen(port = 0): Promise<number> {
    this.server = createServer((socket) => void this.serve(socket));
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', r));
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
