// The agent's side of each libvirtd connection: register every event callback, list the domains with state
// and reason, hand both to the agent. Connecting, keepalive and reconnecting are the ConnectionSupervisor's
// (libvirt/supervisor.ts); this runs as its on-connected hook, on every new connection.
// libvirtd does not replay the gap's events: the listing after each reconnect is what reconciliation uses.
import { StatsFields } from '../libvirt/domain-stats.js';
import { DOMAIN_STATE_NAMES, StatsGroup } from '../libvirt/protocol.js';
import { ConnectionSupervisor, type ConnectionHealth } from '../libvirt/supervisor.js';
import type { CloseInfo, Connect, DomainEvent, DomainEventKind, LibvirtClient } from '../libvirt/types.js';
import type { DomainSnapshot } from './domains.js';
import type { NovaNameCache } from './nova-names.js';
import type { Logger } from '../runtime/log.js';

/** The callbacks the agent registers (the design document's list plus control-error). */
export const EVENT_KINDS: readonly DomainEventKind[] = ['lifecycle', 'reboot', 'watchdog', 'io-error', 'io-error-reason', 'control-error'];

/** Events arriving while the domain listing is still on its way are held back, at most this many. */
const MAX_HELD_EVENTS = 100_000;
/** What a (re)connect reads of each domain's stats. */
const STATE_FIELDS = new StatsFields('', ['state.state', 'state.reason']);

export interface ListenerOptions {
  readonly uri: string;
  readonly connect: Connect;
  readonly callTimeoutMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  readonly log: Logger;
  /** Learns the Nova names of each domain listed, started or (re)defined. */
  readonly novaNames?: NovaNameCache;
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

export class LibvirtListener {
  private readonly supervisor: ConnectionSupervisor;

  constructor(
    private readonly options: ListenerOptions,
    private readonly handlers: ListenerHandlers,
  ) {
    this.supervisor = new ConnectionSupervisor({
      uri: options.uri,
      connect: options.connect,
      log: options.log,
      connectTimeoutMs: options.callTimeoutMs,
      backoffMinMs: options.backoffMinMs,
      backoffMaxMs: options.backoffMaxMs,
      onConnected: (client, first, signal) => this.subscribe(client, first, signal),
      onDisconnected: (info, error) => handlers.disconnected(info, error),
    });
  }

  start(): void {
    this.supervisor.start();
  }

  /** For /healthz: connected with every callback registered, and libvirtd answering. */
  health(): ConnectionHealth {
    return this.supervisor.health();
  }

  async close(): Promise<void> {
    await this.supervisor.stop();
  }

  private async subscribe(client: LibvirtClient, first: boolean, signal: AbortSignal) {
    let held: DomainEvent[] | undefined = [];
    let overflow = 0;
    // Listen before registering: an event may arrive before the registration's reply (reference §8.3).
    const { novaNames } = this.options;
    client.on('event', (event) => {
      if (novaNames && event.kind === 'lifecycle') {
        if (event.eventName === 'started' || event.eventName === 'defined') novaNames.learn(client, [event.domain]);
        else if (event.eventName === 'undefined') novaNames.forget(event.domain.uuid);
      }
      if (!held) this.handlers.event(event);
      else if (held.length < MAX_HELD_EVENTS) held.push(event);
      else overflow += 1;
    });
    for (const kind of EVENT_KINDS) await client.registerDomainEvent(kind, { signal });
    const records = await client.getAllDomainStats({ stats: StatsGroup.STATE, signal });
    const listing: DomainSnapshot[] = records.map((r) => {
      STATE_FIELDS.read(r);
      return { domain: r.domain, state: STATE_FIELDS.number(0, 0) ?? 0, reason: STATE_FIELDS.number(0, 1) ?? 0 };
    });
    novaNames?.learn(client, listing.map((d) => d.domain));
    this.handlers.connected(listing, first);
    const backlog = held;
    held = undefined;
    for (const event of backlog) this.handlers.event(event);
    if (overflow > 0) this.options.log('error', 'events lost while listing domains after connect', { lost: overflow });
    return { domains: listing.length, running: listing.filter((d) => DOMAIN_STATE_NAMES[d.state] === 'running').length };
  }
}
