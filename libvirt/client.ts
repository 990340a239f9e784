// The connection: one reader loop that routes packets by program and message type (reference §8.1),
// calls matched by serial, per-call deadlines, keepalive, events and a single close path.
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { Calls, type CallSpec } from './calls.js';
import { classifyPacket, decodeReply } from './dispatch.js';
import { AuthError, CallAbortedError, type CloseReason, ConnectionClosedError, EventQueueOverflowError, ProtocolError } from './errors.js';
import { FrameReader, type Header, encodePacket } from './framing.js';
import {
  AuthType,
  ConnectFlag,
  DOMAIN_EVENT_KINDS,
  DOMAIN_STATE_NAMES,
  DOMAIN_STATE_REASON_NAMES,
  type DomainEventKind,
  Feature,
  KeepaliveProc,
  MessageStatus,
  MessageType,
  PROGRAM_VERSION,
  Program,
  nameOf,
} from './protocol.js';
import { openTransport } from './transport.js';
import type {
  CallOptions,
  CloseInfo,
  ConnectOptions,
  DomainEvent,
  DomainInfo,
  DomainRef,
  DomainStateInfo,
  DomainStatsRecord,
  EventStreamOptions,
  GetAllDomainStatsOptions,
  KeepaliveOptions,
  LibvirtClient,
  RegisterEventOptions,
} from './types.js';
import { parseUri } from './uri.js';
import type { XdrReader } from './xdr.js';

const DEFAULT_KEEPALIVE: KeepaliveOptions = { intervalMs: 5000, count: 5 };
const DEFAULT_MAX_QUEUED_EVENTS = 10_000;
/** How long close() waits for CONNECT_CLOSE's reply before cutting the socket. */
const CLOSE_TIMEOUT_MS = 2000;
/**
 * Serials of calls abandoned by their caller (deadline) whose reply may still come. Kept so a late reply is
 * recognised and dropped; bounded, after which the oldest are forgotten (a reply to those closes the connection).
 */
const MAX_ABANDONED = 65_536;
/**
 * Calls in a row that missed their deadline while the daemon sent no reply at all: then it has stopped serving
 * this connection (a daemon without keepalive gone silent, a half-open TCP path) and the connection is closed,
 * so the owner reconnects. A reply to any call in between resets the count: one stuck domain is not a dead daemon.
 */
const MAX_SILENT_TIMEOUTS = 2;

interface PendingCall {
  readonly spec: CallSpec<unknown, unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

const PING: Header = {
  prog: Program.KEEPALIVE, vers: PROGRAM_VERSION, proc: KeepaliveProc.PING,
  type: MessageType.MESSAGE, serial: 0, status: MessageStatus.OK,
};
const PONG: Header = { ...PING, proc: KeepaliveProc.PONG };

export class RemoteClient extends EventEmitter implements LibvirtClient {
  readonly closed: Promise<CloseInfo>;
  private resolveClosed!: (info: CloseInfo) => void;
  private closeInfo: CloseInfo | undefined;
  private closing = false;
  private readonly frames: FrameReader;
  private readonly pending = new Map<number, PendingCall>();
  /** Abandoned serials → what to call when the daemon is done with that call (late reply, or the connection ends). */
  private readonly abandoned = new Map<number, () => void>();
  private lastSerial = 0;
  private readonly eventQueues = new Set<(event: DomainEvent | CloseInfo) => void>();
  private keepaliveTimer: NodeJS.Timeout | undefined;
  /** performance.now() of the last packet from the daemon, of the last reply, of the oldest unanswered ping. */
  private lastHeardAt = performance.now();
  private lastReplyAt = performance.now();
  private firstUnansweredPingAt: number | undefined;
  private lastPingAt = 0;
  private silentTimeouts = 0;

  constructor(
    readonly uri: string,
    readonly readOnly: boolean,
    private readonly socket: net.Socket,
    maxPacketBytes?: number,
  ) {
    super();
    this.frames = new FrameReader(maxPacketBytes);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.shutdown(this.closing ? 'client' : 'eof'));
    socket.on('close', () => this.shutdown(this.closing ? 'client' : 'eof'));
    socket.on('error', (err) => this.shutdown(this.closing ? 'client' : 'error', err));
  }

  get isClosed(): boolean {
    return this.closeInfo !== undefined;
  }

  /** How long our oldest unanswered keepalive ping has waited; 0 when none is outstanding. */
  get unansweredPingMs(): number {
    return this.firstUnansweredPingAt === undefined ? 0 : performance.now() - this.firstUnansweredPingAt;
  }

  // ---- calls ----------------------------------------------------------------------------------------

  /** Sends one call and resolves with its decoded reply. Rejects with LibvirtError, ConnectionClosedError or CallAbortedError. */
  call<A, R>(spec: CallSpec<A, R>, args: A, options: CallOptions = {}): Promise<R> {
    const { signal } = options;
    if (this.closeInfo) return Promise.reject(this.closedError());
    if (signal?.aborted) return Promise.reject(new CallAbortedError(spec.name, signal.reason));
    const serial = this.nextSerial();
    let packet: Buffer;
    try {
      packet = encodePacket(
        { prog: Program.REMOTE, vers: PROGRAM_VERSION, proc: spec.proc, type: MessageType.CALL, serial, status: MessageStatus.OK },
        spec.encode && ((w) => spec.encode!(w, args)),
      );
    } catch (err) {
      return Promise.reject(err); // bad arguments (a malformed UUID, an oversized list): nothing was sent
    }
    const sentAt = performance.now();
    return new Promise<R>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.pending.delete(serial)) return;
        const aborted = new CallAbortedError(spec.name, signal!.reason, this.abandon(serial));
        reject(aborted);
        if (aborted.timedOut && this.lastReplyAt < sentAt) this.silentTimeout();
      };
      const settle = <T>(fn: (v: T) => void) => (v: T): void => {
        signal?.removeEventListener('abort', onAbort);
        fn(v);
      };
      this.pending.set(serial, { spec: spec as CallSpec<unknown, unknown>, resolve: settle(resolve as (v: unknown) => void), reject: settle(reject) });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.socket.write(packet);
    });
  }

  private nextSerial(): number {
    do this.lastSerial = (this.lastSerial + 1) >>> 0;
    while (this.lastSerial === 0 || this.pending.has(this.lastSerial) || this.abandoned.has(this.lastSerial));
    return this.lastSerial;
  }

  private silentTimeout(): void {
    if (++this.silentTimeouts < MAX_SILENT_TIMEOUTS) return;
    this.shutdown('timeout', new Error(`${this.silentTimeouts} calls in a row timed out without any reply from the daemon`));
  }

  /** Remembers an abandoned call; the promise resolves once the daemon is done with it (or it can no longer tell). */
  private abandon(serial: number): Promise<void> {
    if (this.abandoned.size >= MAX_ABANDONED) {
      const [oldest, forget] = this.abandoned.entries().next().value!;
      this.abandoned.delete(oldest);
      forget();
    }
    return new Promise((resolve) => this.abandoned.set(serial, resolve));
  }


  getLibVersion(options?: CallOptions): Promise<number> {
    return this.call(Calls.getLibVersion, undefined, options);
  }

  getVersion(options?: CallOptions): Promise<number> {
    return this.call(Calls.getVersion, undefined, options);
  }

  getHostname(options?: CallOptions): Promise<string> {
    return this.call(Calls.getHostname, undefined, options);
  }

  supportsFeature(feature: number, options?: CallOptions): Promise<boolean> {
    return this.call(Calls.supportsFeature, feature, options);
  }

  listAllDomains(flags = 0, options?: CallOptions): Promise<DomainRef[]> {
    return this.call(Calls.listAllDomains, flags, options);
  }

  getAllDomainStats(options: GetAllDomainStatsOptions = {}): Promise<DomainStatsRecord[]> {
    const { stats = 0, flags = 0, domains = [] } = options;
    return this.call(Calls.getAllDomainStats, { domains, stats, flags }, options);
  }

  domainGetInfo(domain: DomainRef, options?: CallOptions): Promise<DomainInfo> {
    return this.call(Calls.domainGetInfo, domain, options);
  }

  async domainGetState(domain: DomainRef, options?: CallOptions): Promise<DomainStateInfo> {
    const { state, reason } = await this.call(Calls.domainGetState, domain, options);
    return {
      state,
      stateName: nameOf(DOMAIN_STATE_NAMES, state),
      reason,
      reasonName: nameOf(DOMAIN_STATE_REASON_NAMES[state], reason),
    };
  }

  domainGetXmlDesc(domain: DomainRef, flags = 0, options?: CallOptions): Promise<string> {
    return this.call(Calls.domainGetXmlDesc, { domain, flags }, options);
  }

  domainLookupByName(name: string, options?: CallOptions): Promise<DomainRef> {
    return this.call(Calls.domainLookupByName, name, options);
  }

  domainLookupByUuid(uuid: string, options?: CallOptions): Promise<DomainRef> {
    return this.call(Calls.domainLookupByUuid, uuid, options);
  }

  registerDomainEvent(kind: DomainEventKind, options: RegisterEventOptions = {}): Promise<number> {
    const spec = DOMAIN_EVENT_KINDS[kind];
    if (!spec) return Promise.reject(new TypeError(`unknown domain event kind '${String(kind)}'`));
    return this.call(Calls.registerEvent, { eventId: spec.eventId, domain: options.domain }, options);
  }

  deregisterDomainEvent(callbackId: number, options?: CallOptions): Promise<void> {
    return this.call(Calls.deregisterEvent, callbackId, options);
  }

  // ---- events ---------------------------------------------------------------------------------------

  events(options: EventStreamOptions = {}): AsyncIterableIterator<DomainEvent> {
    const maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED_EVENTS;
    const queue: DomainEvent[] = [];
    let failure: Error | undefined;
    let done = this.isClosed;
    let wake: (() => void) | undefined;
    const stop = (): void => {
      done = true;
      this.eventQueues.delete(push);
      options.signal?.removeEventListener('abort', stop);
      wake?.();
    };
    const push = (item: DomainEvent | CloseInfo): void => {
      if (!('kind' in item)) return stop();
      if (queue.length >= maxQueued) {
        failure = new EventQueueOverflowError(`more than ${maxQueued} events queued for a slow consumer; events were lost`);
        return stop();
      }
      queue.push(item);
      wake?.();
    };
    if (!done) {
      this.eventQueues.add(push);
      if (options.signal?.aborted) stop();
      else options.signal?.addEventListener('abort', stop, { once: true });
    }
    const iterator: AsyncIterableIterator<DomainEvent> = {
      next: async (): Promise<IteratorResult<DomainEvent>> => {
        for (;;) {
          if (failure) {
            const err = failure;
            failure = undefined;
            queue.length = 0;
            throw err;
          }
          const item = queue.shift();
          if (item) return { value: item, done: false };
          if (done) return { value: undefined, done: true };
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      },
      return: async (): Promise<IteratorResult<DomainEvent>> => {
        stop();
        queue.length = 0;
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  private deliverEvent(event: DomainEvent): void {
    for (const push of this.eventQueues) push(event);
    try {
      this.emit('event', event);
    } catch (err) {
      // A listener's bug must not cut the reader loop short (later packets of this chunk would be lost).
      process.nextTick(() => {
        throw err;
      });
    }
  }

  // ---- receiving ------------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.closeInfo) return;
    this.lastHeardAt = performance.now();
    this.firstUnansweredPingAt = undefined;
    try {
      for (const packet of this.frames.push(chunk)) {
        this.dispatch(packet);
        if (this.closeInfo) return;
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.shutdown('protocol', err);
    }
  }

  /** Acts on one packet; throws ProtocolError for anything a daemon must not send. */
  private dispatch(packet: Buffer): void {
    const incoming = classifyPacket(packet);
    switch (incoming.kind) {
      case 'ping':
        return this.send(PONG);
      case 'pong':
        return; // receiving anything already counted as a sign of life
      case 'event':
        return this.deliverEvent(incoming.event);
      case 'reply':
        return this.onReply(incoming.proc, incoming.serial, incoming.status, incoming.body);
    }
  }

  private onReply(proc: number, serial: number, status: number, body: XdrReader): void {
    this.lastReplyAt = performance.now();
    this.silentTimeouts = 0;
    const call = this.pending.get(serial);
    if (!call) {
      const answered = this.abandoned.get(serial);
      if (answered) {
        // A late reply to a call whose deadline passed.
        this.abandoned.delete(serial);
        return answered();
      }
      throw new ProtocolError(`reply with serial ${serial} matches no call`);
    }
    if (call.spec.proc !== proc) throw new ProtocolError(`reply ${serial} is for procedure ${proc}, the call was ${call.spec.proc}`);
    const outcome = decodeReply(call.spec, status, body);
    this.pending.delete(serial);
    if (outcome.ok) call.resolve(outcome.value);
    else call.reject(outcome.error);
  }

  private send(header: Header): void {
    if (!this.closeInfo) this.socket.write(encodePacket(header));
  }

  // ---- keepalive ------------------------------------------------------------------------------------

  /** Pings every `intervalMs` while the daemon is silent; closes after `count` unanswered pings. */
  startKeepalive({ intervalMs, count }: KeepaliveOptions): void {
    if (this.closeInfo || this.keepaliveTimer) return;
    this.lastHeardAt = performance.now();
    this.keepaliveTimer = setInterval(() => {
      const now = performance.now();
      if (now - this.lastHeardAt < intervalMs || now - this.lastPingAt < intervalMs) return;
      if (this.firstUnansweredPingAt !== undefined && now - this.firstUnansweredPingAt >= count * intervalMs) {
        this.shutdown('keepalive', new Error(`no answer to ${count} keepalive pings ${intervalMs} ms apart`));
        return;
      }
      this.firstUnansweredPingAt ??= now;
      this.lastPingAt = now;
      this.send(PING);
    }, Math.max(10, Math.floor(intervalMs / 4)));
    this.keepaliveTimer.unref();
  }

  // ---- closing --------------------------------------------------------------------------------------

  private closedError(): ConnectionClosedError {
    const info = this.closeInfo!;
    const why = info.error ? `: ${info.error.message}` : '';
    return new ConnectionClosedError(info.reason, `libvirt connection closed (${info.reason})${why}`, { cause: info.error });
  }

  /** The one place a connection ends: stops timers, rejects pending calls, ends iterators, emits 'close' once. */
  shutdown(reason: CloseReason, error?: Error): void {
    if (this.closeInfo) return;
    this.closeInfo = error ? { reason, error } : { reason };
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    this.socket.destroy();
    const err = this.closedError();
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const answered of this.abandoned.values()) answered();
    this.abandoned.clear();
    for (const call of calls) call.reject(err);
    for (const push of [...this.eventQueues]) push(this.closeInfo);
    this.resolveClosed(this.closeInfo);
    this.emit('close', this.closeInfo);
  }

  async close(): Promise<void> {
    if (this.closeInfo || this.closing) {
      await this.closed;
      return;
    }
    this.closing = true;
    try {
      await this.call(Calls.connectClose, undefined, { signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) });
    } catch {
      // Closing anyway: the daemon may already be gone.
    }
    this.shutdown('client');
  }
}

/**
 * Connects to a libvirt daemon and completes the handshake (AUTH_LIST, auth, keepalive negotiation, CONNECT_OPEN).
 * Reconnecting is the caller's policy: watch `closed` and call connect() again.
 */
export async function connect(uri: string, options: ConnectOptions = {}): Promise<LibvirtClient> {
  const readOnly = options.readOnly ?? false;
  const target = parseUri(uri, { readOnly });
  const socket = await openTransport(target, options.tls, options.signal);
  const client = new RemoteClient(uri, readOnly, socket, options.maxPacketBytes);
  const callOptions = options.signal ? { signal: options.signal } : {};
  try {
    await authenticate(client, callOptions);
    const keepalive = options.keepalive ?? DEFAULT_KEEPALIVE;
    if (keepalive && (await client.supportsFeature(Feature.PROGRAM_KEEPALIVE, callOptions))) client.startKeepalive(keepalive);
    await client.call(Calls.connectOpen, { name: target.openName, flags: readOnly ? ConnectFlag.READ_ONLY : 0 }, callOptions);
  } catch (err) {
    client.shutdown('error', err as Error);
    throw err;
  }
  return client;
}

async function authenticate(client: RemoteClient, options: CallOptions): Promise<void> {
  const types = await client.call(Calls.authList, undefined, options);
  if (types.length === 0 || types.includes(AuthType.NONE)) return;
  if (types.includes(AuthType.POLKIT)) {
    if (!(await client.call(Calls.authPolkit, undefined, options))) throw new AuthError('polkit authentication did not complete');
    return;
  }
  if (types.includes(AuthType.SASL)) {
    throw new AuthError(
      'the daemon requires SASL authentication, which this client does not implement; ' +
        'set auth_tcp = "none" (trusted networks only), use TLS with auth_tls = "none", or the local unix socket',
    );
  }
  throw new AuthError(`the daemon offers only unknown authentication types: ${types.join(', ')}`);
}
