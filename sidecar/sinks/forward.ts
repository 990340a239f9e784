// Fluent Forward to a Fluent Bit in_forward (or Fluentd): one PackedForward message per tag per
// delivery, each with a chunk id, confirmed only by the server's ack. A connection that breaks
// or an ack that does not come in time fails the delivery; the pipeline retries it on a new
// connection, so the server may see a chunk twice (it cannot tell us it had it already).
import { connect as tcpConnect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { decodeMultiStream } from '@msgpack/msgpack';
import type { Batch } from '../batch.js';
import type { Metrics } from '../metrics.js';
import { ackOf, checkPong, newChunkId, packedForward, parseHelo, ping, type Credentials } from './forward-protocol.js';
import type { Sink } from './sink.js';

export interface ForwardOptions {
  readonly host: string;
  readonly port: number;
  readonly ackTimeoutMs: number;
  readonly tls: boolean;
  readonly tlsCa?: string | undefined;
  readonly tlsCert?: string | undefined;
  readonly tlsKey?: string | undefined;
  readonly tlsVerify: boolean;
  readonly tlsServerName?: string | undefined;
  readonly sharedKey?: string | undefined;
  readonly selfHostname?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
}

class Connection {
  private readonly acks = new Map<string, { resolve: () => void; reject: (err: Error) => void }>();
  private readonly inbox: unknown[] = [];
  private inboxWaiter: { resolve: (message: unknown) => void; reject: (err: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(readonly socket: Socket) {
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('forward connection closed by the server')));
    void this.read();
  }

  get dead(): boolean {
    return this.failure !== undefined;
  }

  private async read(): Promise<void> {
    try {
      for await (const message of decodeMultiStream(this.socket)) {
        const chunk = ackOf(message);
        const waiter = chunk === undefined ? undefined : this.acks.get(chunk);
        if (waiter) {
          this.acks.delete(chunk!);
          waiter.resolve();
        } else if (this.inboxWaiter) {
          const w = this.inboxWaiter;
          this.inboxWaiter = undefined;
          w.resolve(message);
        } else this.inbox.push(message);
      }
      this.fail(new Error('forward connection closed by the server'));
    } catch (err) {
      this.fail(new Error(`forward server sent garbage: ${(err as Error).message}`));
    }
  }

  /** The next message that is not an ack (handshake). */
  next(timeoutMs: number): Promise<unknown> {
    if (this.inbox.length) return Promise.resolve(this.inbox.shift());
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.inboxWaiter = undefined;
        reject(new Error('forward handshake timed out'));
      }, timeoutMs);
      this.inboxWaiter = {
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
  }

  expectAck(chunk: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.acks.set(chunk, { resolve, reject }));
  }

  /** Writes the parts of one message, as one write where the socket allows. */
  write(...parts: Uint8Array[]): void {
    this.socket.cork();
    for (const part of parts) this.socket.write(part);
    this.socket.uncork();
  }

  fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const w of this.acks.values()) w.reject(err);
    this.acks.clear();
    this.inboxWaiter?.reject(err);
    this.inboxWaiter = undefined;
    this.socket.destroy();
  }
}

export class ForwardSink implements Sink {
  readonly name = 'forward';
  readonly recordsIntents = false;
  readonly encoding = 'forward_entries';
  private conn: Connection | undefined;
  private readonly creds: Credentials | undefined;

  constructor(
    private readonly opts: ForwardOptions,
    private readonly metrics: Metrics,
  ) {
    this.creds = opts.sharedKey
      ? { sharedKey: opts.sharedKey, hostname: opts.selfHostname ?? hostname(), username: opts.username, password: opts.password }
      : undefined;
  }

  private async connect(): Promise<Connection> {
    if (this.conn && !this.conn.dead) return this.conn;
    const { opts } = this;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      const s = opts.tls
        ? tlsConnect(
            {
              host: opts.host,
              port: opts.port,
              servername: opts.tlsServerName ?? opts.host,
              rejectUnauthorized: opts.tlsVerify,
              ...(opts.tlsCa ? { ca: readFileSync(opts.tlsCa) } : {}),
              ...(opts.tlsCert ? { cert: readFileSync(opts.tlsCert) } : {}),
              ...(opts.tlsKey ? { key: readFileSync(opts.tlsKey) } : {}),
            },
            () => (s.off('error', onError), resolve(s)),
          )
        : tcpConnect({ host: opts.host, port: opts.port }, () => (s.off('error', onError), resolve(s)));
      s.once('error', onError);
      s.setTimeout(opts.ackTimeoutMs, () => s.destroy(new Error(`connecting to ${opts.host}:${opts.port} timed out`)));
    });
    socket.setTimeout(0);
    socket.setNoDelay(true);
    const conn = new Connection(socket);
    try {
      if (this.creds) {
        const helo = parseHelo(await conn.next(opts.ackTimeoutMs));
        const { message, salt } = ping(helo, this.creds);
        conn.write(message);
        checkPong(await conn.next(opts.ackTimeoutMs), helo, this.creds, salt);
      }
    } catch (err) {
      conn.fail(err as Error);
      throw err;
    }
    this.conn = conn;
    return conn;
  }

  async deliver(batches: readonly Batch[]): Promise<void> {
    const byTag = new Map<string, Batch[]>();
    for (const batch of batches) {
      if (batch.count === 0) continue;
      let list = byTag.get(batch.tag);
      if (!list) byTag.set(batch.tag, (list = []));
      list.push(batch);
    }
    if (byTag.size === 0) return;
    const conn = await this.connect();
    const acks: Promise<void>[] = [];
    for (const [tag, list] of byTag) {
      const chunk = newChunkId();
      acks.push(conn.expectAck(chunk));
      const size = list.reduce((n, b) => n + b.count, 0);
      conn.write(...packedForward(tag, list.map((b) => b.payload), size, chunk));
    }
    this.metrics.pendingAcks.inc(acks.length);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.all(acks),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const err = new Error(`no ack from ${this.opts.host}:${this.opts.port} within ${this.opts.ackTimeoutMs / 1000}s`);
            conn.fail(err);
            reject(err);
          }, this.opts.ackTimeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.metrics.pendingAcks.dec(acks.length);
    }
  }

  async sync(): Promise<void> {}

  async close(): Promise<void> {
    this.conn?.socket.end();
    this.conn = undefined;
  }
}
