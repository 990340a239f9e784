// The one long-lived connection of a daemon role (exporter, HA agent) to libvirtd: connects, runs keepalive,
// reconnects with capped backoff and jitter when the connection ends, calls the role's on-connected hook (event
// registration, listing) on every new connection, and says whether libvirtd is answering right now.
//
// The backoff cap is low on purpose: an outage's length must not delay the reconnect once libvirtd answers
// again (an HA agent misses events meanwhile), and a refused connection attempt costs next to nothing.
import { errorText, type Logger } from '../runtime/log.js';
import { Backoff, sleep } from '../runtime/backoff.js';
import type { CloseInfo, Connect, KeepaliveOptions, LibvirtClient } from './types.js';

export interface SupervisorOptions {
  readonly uri: string;
  readonly connect: Connect;
  readonly log: Logger;
  /** Deadline of one connection attempt (socket, handshake and the on-connected hook). */
  readonly connectTimeoutMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  /** Default KEEPALIVE. */
  readonly keepalive?: KeepaliveOptions;
  /**
   * Runs on each new connection before it counts as connected; `first` is true for the first connection of
   * this process. Returns extra fields for the "connected" log line. A throw closes that connection and the
   * supervisor retries.
   */
  readonly onConnected?: (client: LibvirtClient, first: boolean, signal: AbortSignal) => Promise<LogFields | void>;
  /** The connection ended (`info`), or an attempt failed (`info` undefined, `error` set). */
  readonly onDisconnected?: (info: CloseInfo | undefined, error: Error) => void;
}

type LogFields = Parameters<Logger>[2];

export type SupervisorState = 'connecting' | 'connected' | 'waiting' | 'stopped';

export interface ConnectionHealth {
  /** Connected, and libvirtd answers keepalive pings in time. */
  readonly healthy: boolean;
  readonly state: SupervisorState | 'unresponsive';
  /** Why it is not healthy. */
  readonly error?: string;
}

/**
 * A ping after 1 s of silence, the connection given up after 5 unanswered ones: a frozen libvirtd shows as
 * unresponsive within about 2 s and is reconnected to after about 6 s (libvirt's own default, 5 s × 5, takes 30 s).
 */
export const KEEPALIVE: KeepaliveOptions = { intervalMs: 1000, count: 5 };

/**
 * A keepalive ping libvirtd has not answered for this long marks the connection unresponsive, long before
 * keepalive gives up on it: libvirtd answers pings from its event loop within milliseconds.
 */
const PING_ANSWER_GRACE_MS = 1000;

export class ConnectionSupervisor {
  private readonly stopping = new AbortController();
  private readonly backoff: Backoff;
  private client: LibvirtClient | undefined;
  private running: Promise<void> | undefined;
  /** Ends the wait between attempts early (a scrape wants a connection now). */
  private wake: (() => void) | undefined;
  /** Callers of get() waiting for the outcome of the next attempt. */
  private waiters: { resolve: (c: LibvirtClient) => void; reject: (e: Error) => void }[] = [];
  private lastAttemptAt = -Infinity;
  private lastError: Error = new Error('not connected yet');
  private lastLogged = '';
  state: SupervisorState = 'connecting';
  /** Connections established so far. */
  private connects = 0;

  constructor(private readonly options: SupervisorOptions) {
    this.backoff = new Backoff({ minMs: options.backoffMinMs, maxMs: options.backoffMaxMs });
  }

  start(): void {
    this.running ??= this.loop();
  }

  /**
   * The connected client. Without one, waits for the next attempt's outcome, starting it at once unless the
   * last attempt began less than the minimum backoff ago (a burst of scrapes must not hammer a dead daemon).
   */
  async get(): Promise<LibvirtClient> {
    if (this.client && !this.client.isClosed && this.state === 'connected') return this.client;
    if (this.state === 'stopped') throw new Error('the libvirt connection is stopped');
    if (this.state === 'waiting') {
      if (performance.now() - this.lastAttemptAt < this.options.backoffMinMs) throw this.lastError;
      this.wake?.();
    }
    return await new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  health(): ConnectionHealth {
    if (this.state !== 'connected' || !this.client) return { healthy: false, state: this.state, error: errorText(this.lastError) };
    const waited = this.client.unansweredPingMs;
    if (waited > PING_ANSWER_GRACE_MS) {
      return { healthy: false, state: 'unresponsive', error: `libvirtd has not answered a keepalive ping for ${Math.round(waited)} ms` };
    }
    return { healthy: true, state: 'connected' };
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake?.();
    this.state = 'stopped';
    await this.client?.close().catch(() => undefined);
    await this.running;
    this.settleWaiters(new Error('the libvirt connection is stopped'));
  }

  private async loop(): Promise<void> {
    const { uri, log } = this.options;
    while (!this.stopping.signal.aborted) {
      this.state = 'connecting';
      this.lastAttemptAt = performance.now();
      let client: LibvirtClient | undefined;
      try {
        client = await this.open();
      } catch (err) {
        this.failed(err instanceof Error ? err : new Error(String(err)));
      }
      if (client) {
        this.backoff.reset();
        const info = await client.closed;
        this.client = undefined;
        // The rate limit of get() is for attempts that failed: after a working connection drops, the next
        // caller may try at once (libvirt_up is 1 again on the first scrape after a libvirtd restart).
        this.lastAttemptAt = -Infinity;
        if (this.stopping.signal.aborted) break;
        const error = info.error ?? new Error(`connection closed (${info.reason})`);
        this.lastError = error;
        log('warn', 'lost the connection to libvirtd', { uri, reason: info.reason, error: errorText(error) });
        this.options.onDisconnected?.(info, error);
      }
      if (this.stopping.signal.aborted) break;
      this.state = 'waiting';
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        void sleep(this.backoff.next(), this.stopping.signal).then(resolve);
      });
      this.wake = undefined;
    }
    this.state = 'stopped';
  }

  /** One attempt: connect, keepalive, the role's hook. Resolves with the connected client. */
  private async open(): Promise<LibvirtClient> {
    const { uri, connect, connectTimeoutMs, keepalive = KEEPALIVE, onConnected, log } = this.options;
    const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(connectTimeoutMs)]);
    // Read-only: both roles only read stats and listen for events, which libvirt serves on read-only connections.
    const client = await connect(uri, { readOnly: true, keepalive, signal });
    const first = this.connects === 0;
    let fields: LogFields | void;
    try {
      fields = await onConnected?.(client, first, signal);
      if (this.stopping.signal.aborted) throw new Error('stopping');
    } catch (err) {
      await client.close().catch(() => undefined);
      throw err;
    }
    this.client = client;
    this.connects++;
    this.state = 'connected';
    this.lastLogged = '';
    log('info', first ? 'connected to libvirtd' : 'reconnected to libvirtd', { uri, ...fields });
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve(client);
    return client;
  }

  private failed(error: Error): void {
    this.lastError = error;
    this.settleWaiters(error);
    if (this.stopping.signal.aborted) return;
    // Logged when the reason changes, not on every attempt of a long outage.
    if (errorText(error) !== this.lastLogged) {
      this.lastLogged = errorText(error);
      this.options.log('warn', 'cannot connect to libvirtd', { uri: this.options.uri, error: this.lastLogged });
    }
    this.options.onDisconnected?.(undefined, error);
  }

  private settleWaiters(error: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(error);
  }
}
