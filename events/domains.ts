// The agent's picture of each domain's state, kept current by lifecycle events and replaced by the
// daemon's listing on every (re)connect. It is what reconciliation compares against, and it carries the
// per-run facts policy needs (for which causes an Eviction was already requested in this run of the domain).
import { DomainState, DOMAIN_STATE_NAMES, DOMAIN_STATE_REASON_NAMES, nameOf } from '../libvirt/protocol.js';
import type { DomainRef, LifecycleEvent } from '../libvirt/types.js';

/** One domain as the daemon lists it (state and reason from GET_ALL_DOMAIN_STATS' state group). */
export interface DomainSnapshot {
  readonly domain: DomainRef;
  /** virDomainState. */
  readonly state: number;
  /** The reason enum of that state. */
  readonly reason: number;
}

export interface TrackedDomain {
  domain: DomainRef;
  state: number;
  reason: number;
  /** Causes (`crash`, `watchdog`, `io-error`) an Eviction was requested for in this run; cleared when it starts again. */
  readonly evictedFor: Set<string>;
  /** Epoch ms of the last change; shut-off domains are forgotten some time after it. */
  changedAt: number;
}

/** `running`, `shutoff (crashed)`: for notes and logs. */
export function describeState(state: number, reason: number): string {
  const name = nameOf(DOMAIN_STATE_NAMES, state);
  const why = nameOf(DOMAIN_STATE_REASON_NAMES[state], reason);
  return why === 'unknown' && state === DomainState.RUNNING ? name : `${name} (${why})`;
}

/** Running, blocked, paused, being shut down, crashed-but-preserved or PM-suspended: QEMU is there. */
export function isActive(state: number): boolean {
  return state !== DomainState.SHUTOFF && state !== DomainState.NOSTATE;
}

function reason(state: number, name: string): number {
  return Math.max(0, DOMAIN_STATE_REASON_NAMES[state]!.indexOf(name));
}

/** Suspended-event details whose paused-reason name differs from the detail name. */
const PAUSED_REASON_OF: Record<string, string> = { paused: 'user', migrated: 'migration' };

/** The state and reason a lifecycle event leaves the domain in; undefined when it changes neither. */
function stateAfter(event: LifecycleEvent): [number, number] | undefined {
  const d = event.detailName;
  switch (event.eventName) {
    case 'started':
    case 'resumed':
      return [DomainState.RUNNING, reason(DomainState.RUNNING, d)];
    case 'suspended':
      return [DomainState.PAUSED, reason(DomainState.PAUSED, PAUSED_REASON_OF[d] ?? d)];
    case 'stopped':
      return [DomainState.SHUTOFF, reason(DomainState.SHUTOFF, d)];
    case 'crashed':
      return [DomainState.CRASHED, reason(DomainState.CRASHED, d)];
    case 'pmsuspended':
      return [DomainState.PMSUSPENDED, 0];
    default:
      return undefined;
  }
}

/**
 * Shut-off domains are remembered this long after they stopped, so that a late duplicate of their stop
 * (a live event racing a reconcile) is still recognized; then they are forgotten (transient domains never
 * send Undefined, so this keeps the table bounded).
 */
const FORGET_SHUTOFF_AFTER_MS = 10 * 60_000;

export class DomainTracker {
  private readonly domains = new Map<string, TrackedDomain>();
  /** No shut-off domain is due to be forgotten before this time (epoch ms): a burst of stops sweeps the table once, not per stop. */
  private nextForget = Infinity;

  get(uuid: string): TrackedDomain | undefined {
    return this.domains.get(uuid);
  }

  get size(): number {
    return this.domains.size;
  }

  /** The current picture, for reconciliation. */
  snapshot(): DomainSnapshot[] {
    return [...this.domains.values()].map(({ domain, state, reason }) => ({ domain, state, reason }));
  }

  /** Replaces the picture with the daemon's listing; per-run facts survive for domains still in the same run. */
  replace(listing: readonly DomainSnapshot[], now: number): void {
    const previous = new Map(this.domains);
    this.domains.clear();
    for (const snap of listing) {
      const before = previous.get(snap.domain.uuid);
      // Domain ids are per run: a different id of an active domain means it was restarted.
      const sameRun = before !== undefined && isActive(before.state) === isActive(snap.state) && (!isActive(snap.state) || before.domain.id === snap.domain.id);
      this.domains.set(snap.domain.uuid, {
        ...snap,
        evictedFor: sameRun ? before.evictedFor : new Set(),
        changedAt: sameRun && before.state === snap.state ? before.changedAt : now,
      });
    }
    this.nextForget = -Infinity; // the listing's shut-off domains: swept at the next stop
  }

  /** The entry of a domain an event names; a domain not seen before is taken to be running (it reports errors). */
  touch(domain: DomainRef, now: number): TrackedDomain {
    let entry = this.domains.get(domain.uuid);
    if (!entry) {
      entry = { domain, state: DomainState.RUNNING, reason: 0, evictedFor: new Set(), changedAt: now };
      this.domains.set(domain.uuid, entry);
    }
    return entry;
  }

  /** Applies a lifecycle event; returns the tracked entry after the change (undefined once undefined). */
  apply(event: LifecycleEvent, now: number): TrackedDomain | undefined {
    const uuid = event.domain.uuid;
    if (event.eventName === 'undefined' && event.detailName === 'removed') {
      this.domains.delete(uuid);
      return undefined;
    }
    let entry = this.domains.get(uuid);
    if (!entry) {
      entry = { domain: event.domain, state: DomainState.NOSTATE, reason: 0, evictedFor: new Set(), changedAt: now };
      this.domains.set(uuid, entry);
    }
    entry.domain = event.domain;
    // Defined only tells the state of a domain we did not know (Defined Updated also fires for running ones).
    const after = event.eventName === 'defined' ? (entry.state === DomainState.NOSTATE ? ([DomainState.SHUTOFF, 0] as [number, number]) : undefined) : stateAfter(event);
    if (after) {
      const [state, reason] = after;
      if (event.eventName === 'started') entry.evictedFor.clear();
      Object.assign(entry, { state, reason, changedAt: now });
    }
    if (entry.state === DomainState.SHUTOFF) this.forgetOldShutoff(entry, now);
    return entry;
  }

  private forgetOldShutoff(stopped: TrackedDomain, now: number): void {
    this.nextForget = Math.min(this.nextForget, stopped.changedAt + FORGET_SHUTOFF_AFTER_MS);
    if (now <= this.nextForget) return;
    this.nextForget = Infinity;
    this.domains.forEach((entry, uuid) => {
      if (entry.state !== DomainState.SHUTOFF) return;
      if (now - entry.changedAt > FORGET_SHUTOFF_AFTER_MS) this.domains.delete(uuid);
      else this.nextForget = Math.min(this.nextForget, entry.changedAt + FORGET_SHUTOFF_AFTER_MS);
    });
  }
}
