// What the agent works on: a decoded libvirt domain event plus where it came from.
import { LIFECYCLE_DETAIL_NAMES, LIFECYCLE_EVENT_NAMES } from '../libvirt/protocol.js';
import type { DomainEvent, DomainRef, LifecycleEvent } from '../libvirt/types.js';

/**
 * `live`: delivered by libvirtd. `reconcile`: synthesized after a reconnect from the difference between the
 * domain states before and after the gap (the event libvirtd would have sent). `policy`: the agent's own
 * conclusion (an I/O error that persisted past its window).
 */
export type EventOrigin = 'live' | 'reconcile' | 'policy';

export interface ObservedEvent {
  readonly event: DomainEvent;
  readonly origin: EventOrigin;
  /** Wall-clock time the agent received (or synthesized) it, epoch ms. */
  readonly at: number;
  /** Why a synthesized event was synthesized, e.g. `state shutoff (crashed) after reconnect, was running`. */
  readonly note?: string;
}

/** Callback id of events the agent synthesizes (libvirtd's ids are ≥ 0). */
export const SYNTHESIZED_CALLBACK_ID = -1;

/** A lifecycle event built from libvirt's names; unknown names get the value −1 ('unknown'). */
export function lifecycleEvent(domain: DomainRef, eventName: string, detailName: string): LifecycleEvent {
  const event = (LIFECYCLE_EVENT_NAMES as readonly string[]).indexOf(eventName);
  const detail = event >= 0 ? (LIFECYCLE_DETAIL_NAMES[event] ?? []).indexOf(detailName) : -1;
  return {
    kind: 'lifecycle',
    callbackId: SYNTHESIZED_CALLBACK_ID,
    domain,
    event,
    eventName: event >= 0 ? eventName : 'unknown',
    detail,
    detailName: detail >= 0 ? detailName : 'unknown',
  };
}

/** `stopped/failed`, `reboot`, `watchdog/reset`, `io-error/pause`: the type/detail pair used in metrics and reasons. */
export function eventDetail(event: DomainEvent): string {
  switch (event.kind) {
    case 'lifecycle':
      return `${event.eventName}/${event.detailName}`;
    case 'watchdog':
    case 'io-error':
      return event.actionName;
    case 'io-error-reason':
      return `${event.actionName}/${event.reason || 'unknown'}`;
    case 'block-job':
    case 'block-job-2':
      return `${event.jobTypeName}/${event.statusName}`;
    case 'reboot':
    case 'control-error':
      return '';
  }
}
