// The RPC core: the receive path on one screen (reference §1, §8.1). The socket's chunks become packets
// (framing.ts: each length word checked before anything is sized from it), each packet's header picks its
// route (reply, event, keepalive), and a reply completes the call waiting on its serial. A long reply whose call
// can decode it as it arrives (the stats reply, up to the packet limit) is fed to that decoder from its header
// on, never held whole. Anything a daemon must not send closes the connection: the stream has no start marker,
// so after a skipped bad packet every later one would be misread.
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { CallAbortedError, type CloseReason, ConnectionClosedError, type LibvirtError, ProtocolError } from './errors.js';
import { EventStream } from './event-stream.js';
import { FrameReader, type Header, type PacketHandler, type PayloadSink, decodePacket, encodePacket, skipPayload } from './framing.js';
import { Keepalive } from './keepalive.js';
import { KeepaliveProc, MessageStatus, MessageType, PROGRAM_VERSION, Program } from './protocol.js';
import { readRemoteError } from './structs.js';
import type { CallOptions, CloseInfo, DomainEvent, EventStreamOptions, KeepaliveOptions } from './types.js';
import type { XdrReader, XdrWriter } from './xdr.js';
import type { BodyDecoder } from './xdr-stream.js';

/** One remote procedure: its number, the encoder of its arguments, the decoder of its reply (calls.ts). */
export interface CallSpec<A, R> {
  readonly proc: number;
  readonly name: string;
  readonly encode: ((w: XdrWriter, args: A) => void) | undefined;
  readonly decode: (r: XdrReader) => R;
  /** The same decoding as the OK reply's payload (`payloadBytes` long) arrives, for a reply that may be large. */
  readonly decodeStream?: ((payloadBytes: number) => BodyDecoder<R>) | undefined;
}

export interface RpcLimits {
  /** Largest packet accepted from the daemon, length word included (Limits.PACKET_MAX by default). */
  readonly maxPacketBytes?: number;
  /**
   * Serials of calls abandoned by their caller (deadline) whose reply may still come, kept so a late reply is
   * recognised and dropped. Beyond this many the oldest is forgotten; a reply to it then closes the connection.
   */
  readonly maxAbandoned?: number;
}

const MAX_ABANDONED = 65_536;
/**
 * Calls in a row that missed their deadline while the daemon sent no reply at all: it has stopped serving this
 * connection (no keepalive, gone silent; a half-open TCP path), so the owner is made to reconnect. A reply to any
 * call in between resets the count: one stuck domain is not a dead daemon.
 */
const MAX_SILENT_TIMEOUTS = 2;

const PING: Header = { prog: Program.KEEPALIVE, vers: PROGRAM_VERSION, proc: KeepaliveProc.PING, type: MessageType.MESSAGE, serial: 0, status: MessageStatus.OK };
const PONG: Header = { ...PING, proc: KeepaliveProc.PONG };
/** What arrives after the connection closed. */
const DISCARD = skipPayload(() => undefined);

/** Where a packet goes, decided by program and message type, never by serial alone: events carry serials too. */
export function routeOf({ prog, vers, proc, type, serial, status }: Header): 'ping' | 'pong' | 'event' | 'reply' {
  if (vers !== PROGRAM_VERSION) throw new ProtocolError(`program 0x${prog.toString(16)} version ${vers} is not ${PROGRAM_VERSION}`);
  if (prog === Program.KEEPALIVE) {
    if (type !== MessageType.MESSAGE) throw new ProtocolError(`keepalive packet of message type ${type}`);
    if (proc === KeepaliveProc.PING) return 'ping';
    if (proc === KeepaliveProc.PONG) return 'pong';
    throw new ProtocolError(`unknown keepalive procedure ${proc}`);
  }
  if (prog !== Program.REMOTE) throw new ProtocolError(`packet for unexpected program 0x${prog.toString(16)}`);
  if (type === MessageType.REPLY) {
    if (status !== MessageStatus.OK && status !== MessageStatus.ERROR) throw new ProtocolError(`reply ${serial} with status ${status}`);
    return 'reply';
  }
  if (type === MessageType.MESSAGE) {
    if (status !== MessageStatus.OK) throw new ProtocolError(`event message ${proc} with status ${status}`);
    return 'event';
  }
  // This client opens no streams and passes no FDs, and a daemon never calls its client.
  throw new ProtocolError(`unexpected message type ${type} (proc ${proc}, serial ${serial})`);
}

/** A reply body: the call's result, or the daemon's remote_error. Throws ProtocolError if it does not decode. */
export function decodeReply<R>(spec: CallSpec<unknown, R>, status: number, body: XdrReader): { ok: true; value: R } | { ok: false; error: LibvirtError } {
  return status === MessageStatus.OK ? { ok: true, value: spec.decode(body) } : { ok: false, error: readRemoteError(body) };
}

interface PendingCall {
  readonly spec: CallSpec<unknown, unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
  /** CallOptions.onAnswering until it has been called. */
  answering: (() => void) | undefined;
}

/** One connection's calls and packets; the typed calls (calls.ts) are built on it, connect() (client.ts) makes it. */
export class RpcConnection extends EventEmitter {
  readonly closed: Promise<CloseInfo>;
  private resolveClosed!: (info: CloseInfo) => void;
  private closeInfo: CloseInfo | undefined;
  private closing = false;
  private readonly frames: FrameReader;
  private readonly pending = new Map<number, PendingCall>();
  /** Abandoned serials → what to call when the daemon is done with that call (late reply, or the connection ends). */
  private readonly abandoned = new Map<number, () => void>();
  private readonly maxAbandoned: number;
  private lastSerial = 0;
  private lastReplyAt = performance.now();
  private silentTimeouts = 0;
  private readonly keepalive = new Keepalive();
  private readonly eventStream = new EventStream((event) => this.emit('event', event));

  constructor(private readonly socket: net.Socket, limits: RpcLimits = {}) {
    super();
    this.frames = new FrameReader(limits.maxPacketBytes);
    this.maxAbandoned = limits.maxAbandoned ?? MAX_ABANDONED;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.shutdown(this.closing ? 'client' : 'eof'));
    socket.on('close', () => this.shutdown(this.closing ? 'client' : 'eof'));
    socket.on('error', (err) => this.shutdown(this.closing ? 'client' : 'error', err));
  }

  // ---- receiving: chunk → packets → route → completion ------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.closeInfo) return;
    this.keepalive.heard();
    try {
      this.frames.receive(chunk, this.receiver);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.shutdown('protocol', err);
    }
  }

  private readonly receiver: PacketHandler = {
    packet: (packet) => {
      if (!this.closeInfo) this.route(packet);
    },
    begins: (header, payloadBytes) => (this.closeInfo ? DISCARD : this.begins(header, payloadBytes)),
  };

  /**
   * A packet's header has come ahead of its payload. A reply tells its call that it has begun to arrive; an OK
   * reply whose call decodes while it arrives (CallSpec.decodeStream) is fed to that decoder, the late reply of
   * an abandoned call is passed over, and anything else is buffered whole.
   */
  private begins(header: Header, payloadBytes: number): PayloadSink | undefined {
    if (routeOf(header) !== 'reply') return undefined;
    const { serial, status } = header;
    const call = this.callOf(header);
    if (call === undefined) {
      const answered = this.abandoned.get(serial);
      return skipPayload(() => {
        this.replied();
        if (this.abandoned.get(serial) === answered) this.lateReply(serial);
      });
    }
    const answering = call.answering;
    if (answering !== undefined) {
      call.answering = undefined;
      answering();
    }
    const decoder = status === MessageStatus.OK ? call.spec.decodeStream?.(payloadBytes) : undefined;
    return decoder && this.streamTo(serial, call, decoder);
  }

  /** Feeds a reply's payload to its call's decoder while the call waits for it; a call abandoned meanwhile gets no more. */
  private streamTo(serial: number, call: PendingCall, decoder: BodyDecoder<unknown>): PayloadSink {
    let waiting: BodyDecoder<unknown> | undefined = decoder;
    const stillWaiting = (): BodyDecoder<unknown> | undefined => {
      if (waiting !== undefined && this.pending.get(serial) !== call) waiting = undefined; // drops the decoded part
      return waiting;
    };
    return {
      feed: (bytes) => stillWaiting()?.feed(bytes),
      end: () => {
        this.replied();
        const decoding = stillWaiting();
        if (decoding === undefined) return this.lateReply(serial);
        // Decoded while still pending: a body that does not decode closes the connection, which rejects this call too.
        const value = decoding.end();
        this.pending.delete(serial);
        call.resolve(value);
      },
    };
  }

  private route(packet: Buffer): void {
    const { header, body } = decodePacket(packet);
    switch (routeOf(header)) {
      case 'ping':
        return this.send(PONG);
      case 'pong':
        return; // any packet already counted as a sign of life
      case 'event':
        return this.eventStream.deliver(header.proc, body);
      case 'reply':
        return this.complete(header, body);
    }
  }

  /** The call a reply answers; undefined for the late reply of an abandoned call. Throws for any other reply. */
  private callOf({ proc, serial }: Header): PendingCall | undefined {
    const call = this.pending.get(serial);
    if (call === undefined) {
      if (!this.abandoned.has(serial)) throw new ProtocolError(`reply with serial ${serial} matches no call`);
      return undefined;
    }
    if (call.spec.proc !== proc) throw new ProtocolError(`reply ${serial} is for procedure ${proc}, the call was ${call.spec.proc}`);
    return call;
  }

  /** The daemon answered a call: it is serving this connection. */
  private replied(): void {
    this.lastReplyAt = performance.now();
    this.silentTimeouts = 0;
  }

  /** The late reply to a call whose deadline passed: the daemon is done with it. */
  private lateReply(serial: number): void {
    const answered = this.abandoned.get(serial);
    this.abandoned.delete(serial);
    answered?.();
  }

  private complete(header: Header, body: XdrReader): void {
    this.replied();
    const call = this.callOf(header);
    if (call === undefined) return this.lateReply(header.serial);
    // Decoded while still pending: a body that does not decode closes the connection, which rejects this call too.
    const outcome = decodeReply(call.spec, header.status, body);
    this.pending.delete(header.serial);
    if (outcome.ok) call.resolve(outcome.value);
    else call.reject(outcome.error);
  }

  // ---- calling ---------------------------------------------------------------------------------------

  /** Sends one call and resolves with its decoded reply. Rejects with LibvirtError, ConnectionClosedError or CallAbortedError. */
  call<A, R>(spec: CallSpec<A, R>, args: A, options: CallOptions = {}): Promise<R> {
    const { signal } = options;
    if (this.closeInfo) return Promise.reject(this.closedError());
    if (signal?.aborted) return Promise.reject(new CallAbortedError(spec.name, signal.reason));
    const serial = this.nextSerial();
    let packet: Buffer;
    try {
      const header = { prog: Program.REMOTE, vers: PROGRAM_VERSION, proc: spec.proc, type: MessageType.CALL, serial, status: MessageStatus.OK };
      packet = encodePacket(header, spec.encode && ((w) => spec.encode!(w, args)));
    } catch (err) {
      return Promise.reject(err); // bad arguments (a malformed UUID, an oversized list): nothing was sent
    }
    const sentAt = performance.now();
    return new Promise<R>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.pending.delete(serial)) return;
        const aborted = new CallAbortedError(spec.name, signal!.reason, this.abandon(serial));
        reject(aborted);
        if (aborted.timedOut && this.lastReplyAt < sentAt && ++this.silentTimeouts >= MAX_SILENT_TIMEOUTS) {
          this.shutdown('timeout', new Error(`${this.silentTimeouts} calls in a row timed out without any reply from the daemon`));
        }
      };
      const settle = <T>(fn: (v: T) => void) => (v: T): void => {
        signal?.removeEventListener('abort', onAbort);
        fn(v);
      };
      this.pending.set(serial, {
        spec: spec as CallSpec<unknown, unknown>,
        resolve: settle(resolve as (v: unknown) => void),
        reject: settle(reject),
        answering: options.onAnswering,
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.socket.write(packet);
    });
  }

  private nextSerial(): number {
    do this.lastSerial = (this.lastSerial + 1) >>> 0;
    while (this.lastSerial === 0 || this.pending.has(this.lastSerial) || this.abandoned.has(this.lastSerial));
    return this.lastSerial;
  }

  /** Remembers an abandoned call; the promise resolves once the daemon is done with it (or it can no longer tell). */
  private abandon(serial: number): Promise<void> {
    if (this.abandoned.size >= this.maxAbandoned) {
      const [oldest, forget] = this.abandoned.entries().next().value!;
      this.abandoned.delete(oldest);
      forget();
    }
    return new Promise((resolve) => this.abandoned.set(serial, resolve));
  }

  private send(header: Header): void {
    if (!this.closeInfo) this.socket.write(encodePacket(header));
  }

  // ---- keepalive and events ----------------------------------------------------------------------------

  /** Pings every `intervalMs` while the daemon is silent; closes after `count` unanswered pings. */
  startKeepalive(options: KeepaliveOptions): void {
    if (this.closeInfo) return;
    this.keepalive.start(options, () => this.send(PING), (error) => this.shutdown('keepalive', error));
  }

  /** How long our oldest unanswered keepalive ping has waited; 0 when none is outstanding. */
  get unansweredPingMs(): number {
    return this.keepalive.unansweredPingMs;
  }

  events(options: EventStreamOptions = {}): AsyncIterableIterator<DomainEvent> {
    return this.eventStream.subscribe(options);
  }

  // ---- closing ---------------------------------------------------------------------------------------

  get isClosed(): boolean {
    return this.closeInfo !== undefined;
  }

  private closedError(): ConnectionClosedError {
    const info = this.closeInfo!;
    const why = info.error ? `: ${info.error.message}` : '';
    return new ConnectionClosedError(info.reason, `libvirt connection closed (${info.reason})${why}`, { cause: info.error });
  }

  /** The one place a connection ends: stops keepalive, rejects pending calls, ends event streams, emits 'close' once. */
  shutdown(reason: CloseReason, error?: Error): void {
    if (this.closeInfo) return;
    this.closeInfo = error ? { reason, error } : { reason };
    this.keepalive.stop();
    this.socket.destroy();
    const err = this.closedError();
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const answered of this.abandoned.values()) answered();
    this.abandoned.clear();
    for (const call of calls) call.reject(err);
    this.eventStream.end();
    this.resolveClosed(this.closeInfo);
    this.emit('close', this.closeInfo);
  }

  /** Says goodbye with `farewell` (CONNECT_CLOSE; its failure does not matter), then ends the connection. Idempotent. */
  protected async closeAfter(farewell: () => Promise<unknown>): Promise<void> {
    if (!this.closeInfo && !this.closing) {
      this.closing = true;
      await farewell().catch(() => undefined);
      this.shutdown('client');
    }
    await this.closed;
  }
}
