// The connection to libvirtd, kept up for as long as the agent runs: connect, register every event
// callback, list the domains with state and reason, hand both to the agent; when the connection dies
// (libvirtd restarted, keepalive timeout, network), reconnect with exponential backoff and start over.
// libvirtd does not replay the gap's events: the listing after each reconnect is what reconciliation uses.
import { DOMAIN_STATE_NAMES, StatsGroup } from '../libvirt/protocol.js';
import type { CloseInfo, Connect, DomainEvent, DomainEventKind, LibvirtClient } from '../libvirt/types.js';
import type { DomainSnapshot } from './domains.js';
import { errorText, type Logger } from '../runtime/log.js';

/** The callbacks the agent registers (the design document's list plus control-error). */
export const EVENT_KINDS: readonly DomainEventKind[] = ['lifecycle', 'reboot', 'watchdog', 'io-error', 'io-error-reason', 'control-error'];

/** Events arriving while the domain listing is still on its way are held back, at most this many. */
const MAX_HELD_EVENTS = 100_000;

export interface ListenerOptions {
  readonly uri: string;
  readonly connect: Connect;
  readonly callTimeoutMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  readonly log: Logger;
}

export interface ListenerHandlers {
  /**
   * Connected and registered; `listing` is every domain with its state. `first` is true for the first
   * connection of this process (nothing to reconcile against yet). Events that arrived while the listing
   * was fetched follow through `event` right after this returns.
   */
  connected(listing: DomainSnapshot[], first: boolean): void;
  event(event: DomainEvent): void;
  disconnected(info: CloseInfo | undefined, error?: unknown): void;
}

export type ListenerState = 'connecting' | 'connected' | 'waiting' | 'stopped';

export class LibvirtListener {
  private readonly stop = new AbortController();
  private client: LibvirtClient | undefined;
  private running: Promise<void> | undefined;
  private everConnected = false;
  state: ListenerState = 'connecting';
  /** The last connection failure, for /healthz. */
  lastError = '';

  constructor(
    private readonly options: ListenerOptions,
    private readonly handlers: ListenerHandlers,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  async close(): Promise<void> {
    this.stop.abort();
    this.state = 'stopped';
    await this.client?.close().catch(() => undefined);
    await this.running;
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stop.signal.aborted) {
      this.state = 'connecting';
      const closed = await this.session().catch((err: unknown) => {
        this.lastError = errorText(err);
        return { failed: err };
      });
      if (this.stop.signal.aborted) break;
      if ('failed' in closed) {
        this.options.log('warn', 'cannot connect to libvirtd or register for events', { uri: this.options.uri, error: this.lastError, attempt: attempt + 1 });
        this.handlers.disconnected(undefined, closed.failed);
      } else {
        attempt = 0;
        this.lastError = `connection closed (${closed.info.reason})`;
        this.options.log('warn', 'libvirtd connection lost; reconnecting', { uri: this.options.uri, reason: closed.info.reason, error: closed.info.error ? errorText(closed.info.error) : undefined });
        this.handlers.disconnected(closed.info);
      }
      const exponential = Math.min(this.options.backoffMaxMs, this.options.backoffMinMs * 2 ** attempt);
      attempt += 1;
      this.state = 'waiting';
      await sleep(exponential * (0.5 + Math.random() / 2), this.stop.signal);
    }
    this.state = 'stopped';
  }

  /** One connection from connect to close; resolves when it has closed. */
  private async session(): Promise<{ info: CloseInfo }> {
    const { uri, connect, callTimeoutMs } = this.options;
    // Read-only: the agent only listens and lists; libvirt serves events and stats on read-only connections.
    const client = await connect(uri, { readOnly: true, signal: AbortSignal.any([this.stop.signal, AbortSignal.timeout(callTimeoutMs)]) });
    this.client = client;
    let held: DomainEvent[] | undefined = [];
    let overflow = 0;
    const onEvent = (event: DomainEvent): void => {
      if (!held) this.handlers.event(event);
      else if (held.length < MAX_HELD_EVENTS) held.push(event);
      else overflow += 1;
    };
    // Listen before registering: an event may arrive before the registration's reply (reference §8.3).
    client.on('event', onEvent);
    try {
      for (const kind of EVENT_KINDS) {
        await client.registerDomainEvent(kind, { signal: AbortSignal.timeout(callTimeoutMs) });
      }
      const records = await client.getAllDomainStats({ stats: StatsGroup.STATE, signal: AbortSignal.timeout(callTimeoutMs) });
      const listing: DomainSnapshot[] = records.map((r) => ({
        domain: r.domain,
        state: Number(r.params.get('state.state') ?? 0),
        reason: Number(r.params.get('state.reason') ?? 0),
      }));
      const first = !this.everConnected;
      this.everConnected = true;
      this.state = 'connected';
      this.lastError = '';
      this.options.log('info', first ? 'connected to libvirtd' : 'reconnected to libvirtd', {
        uri,
        domains: listing.length,
        running: listing.filter((d) => DOMAIN_STATE_NAMES[d.state] === 'running').length,
      });
      this.handlers.connected(listing, first);
      const backlog = held;
      held = undefined;
      for (const event of backlog) this.handlers.event(event);
      if (overflow > 0) this.options.log('error', 'events lost while listing domains after connect', { lost: overflow });
    } catch (err) {
      client.off('event', onEvent);
      await client.close().catch(() => undefined);
      throw err;
    }
    const info = await client.closed;
    client.off('event', onEvent);
    this.client = undefined;
    return { info };
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
