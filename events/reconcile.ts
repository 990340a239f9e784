// Reconciliation after a reconnect: libvirtd does not replay the events of the gap, so the difference
// between the agent's last picture and the daemon's listing is turned back into the lifecycle events
// libvirtd would have sent. A domain that was running and is now shut off (crashed) becomes
// `stopped/crashed`, exactly as if the agent had been connected.
import { DomainState, DOMAIN_STATE_REASON_NAMES, nameOf } from '../libvirt/protocol.js';
import type { DomainRef } from '../libvirt/types.js';
import { describeState, isActive, type DomainSnapshot } from './domains.js';
import { lifecycleEvent, type ObservedEvent } from './observed.js';

/**
 * Stopped detail for each shut-off reason. `daemon` (libvirtd killed the domain while reconnecting to it)
 * and `unknown` (libvirtd lost it before its monitor came up) are failures of the emulator or its
 * management, which is what `stopped/failed` means.
 */
const STOPPED_DETAIL: Record<string, string> = {
  unknown: 'failed',
  shutdown: 'shutdown',
  destroyed: 'destroyed',
  crashed: 'crashed',
  migrated: 'migrated',
  saved: 'saved',
  failed: 'failed',
  from_snapshot: 'from_snapshot',
  daemon: 'failed',
};

/** Suspended detail for each paused reason (reasons with no suspended detail of their own are a plain pause). */
const SUSPENDED_DETAIL: Record<string, string> = {
  user: 'paused',
  migration: 'migrated',
  ioerror: 'ioerror',
  watchdog: 'watchdog',
  from_snapshot: 'from_snapshot',
  api_error: 'api_error',
  postcopy: 'postcopy',
  postcopy_failed: 'postcopy_failed',
};

const STARTED_DETAILS = new Set(['booted', 'migrated', 'restored', 'from_snapshot', 'wakeup']);

function reasonName(snap: DomainSnapshot): string {
  return nameOf(DOMAIN_STATE_REASON_NAMES[snap.state], snap.reason);
}

/** Events that take an active domain from `running` to the state of `snap` (paused, crashed, …). */
function intoActiveState(snap: DomainSnapshot): [string, string][] {
  switch (snap.state) {
    case DomainState.PAUSED:
      return reasonName(snap) === 'crashed' ? [['crashed', 'panicked']] : [['suspended', SUSPENDED_DETAIL[reasonName(snap)] ?? 'paused']];
    case DomainState.CRASHED:
      return [['crashed', 'panicked']];
    case DomainState.PMSUSPENDED:
      return [['pmsuspended', 'memory']];
    default:
      return [];
  }
}

function started(snap: DomainSnapshot): [string, string] {
  const why = snap.state === DomainState.RUNNING ? reasonName(snap) : 'booted';
  return ['started', STARTED_DETAILS.has(why) ? why : 'booted'];
}

/**
 * The events that explain the change from `known` (before the gap) to `current` (the daemon's listing now),
 * in the order libvirtd would have sent them. Domains the agent did not know and finds shut off, and
 * unchanged domains, produce nothing. Pure: the caller applies the events.
 */
export function reconcile(known: readonly DomainSnapshot[], current: readonly DomainSnapshot[], at: number): ObservedEvent[] {
  const out: ObservedEvent[] = [];
  const emit = (domain: DomainRef, pairs: [string, string][], note: string): void => {
    for (const [event, detail] of pairs) out.push({ event: lifecycleEvent(domain, event, detail), origin: 'reconcile', at, note });
  };
  const before = new Map(known.map((s) => [s.domain.uuid, s]));
  for (const now of current) {
    const was = before.get(now.domain.uuid);
    before.delete(now.domain.uuid);
    const domain = now.domain;
    const note = `${was ? `was ${describeState(was.state, was.reason)}` : 'unknown before'}, ${describeState(now.state, now.reason)} after reconnect`;
    if (!was) {
      if (isActive(now.state)) emit(domain, [started(now), ...intoActiveState(now)], note);
      else emit(domain, [['defined', 'added']], note);
      continue;
    }
    const wasActive = isActive(was.state);
    const isNowActive = isActive(now.state);
    if (wasActive && !isNowActive) {
      emit(domain, [['stopped', STOPPED_DETAIL[reasonName(now)] ?? 'failed']], note);
    } else if (!wasActive && isNowActive) {
      emit(domain, [started(now), ...intoActiveState(now)], note);
    } else if (wasActive && isNowActive && was.domain.id !== now.domain.id) {
      // A new run: it stopped and started again during the gap, for a reason nobody can tell any more.
      emit(domain, [['stopped', 'unknown'], started(now), ...intoActiveState(now)], `${note} with a new domain id (${was.domain.id} → ${now.domain.id})`);
    } else if (wasActive && (was.state !== now.state || was.reason !== now.reason)) {
      if (now.state === DomainState.RUNNING && was.state !== DomainState.RUNNING) emit(domain, [['resumed', 'unpaused']], note);
      else emit(domain, intoActiveState(now), note);
    }
  }
  for (const was of before.values()) {
    const note = `was ${describeState(was.state, was.reason)}, gone after reconnect`;
    // A running domain that vanished was transient and ended while nobody watched: nothing tells a clean
    // stop, so it counts as a failure. A shut-off one was undefined.
    if (isActive(was.state)) emit(was.domain, [['stopped', 'failed']], note);
    else emit(was.domain, [['undefined', 'removed']], note);
  }
  return out;
}
