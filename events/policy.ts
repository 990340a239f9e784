// What the agent does about each event (the design document's table, made explicit):
//
//   lifecycle stopped/failed, stopped/crashed      → Eviction (unexpected stop)
//   lifecycle stopped/shutdown, destroyed, migrated,
//             saved, from_snapshot                  → record only (intended stop)
//   lifecycle crashed/*                             → Eviction
//   lifecycle suspended/watchdog, watchdog event    → Eviction
//   io-error, io-error-reason, suspended/ioerror    → record; Eviction per --io-error-policy
//   reboot                                          → patch status.lastDomainReboot of this node's Hypervisor
//   control-error, everything else                  → record only
//
// At most one Eviction per cause (crash, watchdog, I/O error) and run of a domain: a panic gives
// crashed/panicked, then stopped/crashed; a watchdog with action pause gives watchdog, then
// suspended/watchdog; a resume on a still-full disk pauses the domain again. Reboot and I/O error
// bursts count once per burst window.
import { DomainState, DOMAIN_STATE_REASON_NAMES } from '../libvirt/protocol.js';
import type { DomainEvent, DomainRef, IoErrorEvent, IoErrorReasonEvent, LifecycleEvent } from '../libvirt/types.js';
import { BurstFilter } from './dedupe.js';
import type { DomainTracker, TrackedDomain } from './domains.js';
import type { DomainReboot, EvictionCause } from './eviction.js';
import { eventDetail, lifecycleEvent, type ObservedEvent } from './observed.js';

export const IO_ERROR_POLICIES = ['record', 'evict-on-pause', 'evict-on-persist'] as const;
export type IoErrorPolicy = (typeof IO_ERROR_POLICIES)[number];

export interface PolicyConfig {
  /**
   * record: never evict for I/O errors. evict-on-pause: evict as soon as an I/O error pauses the domain.
   * evict-on-persist: evict when, `ioErrorPersistMs` after the first error, the domain is still paused by
   * it or errors came again after the first burst.
   */
  readonly ioErrorPolicy: IoErrorPolicy;
  readonly ioErrorPersistMs: number;
  readonly rebootWindowMs: number;
  readonly ioErrorWindowMs: number;
}

export type Decision =
  | { readonly action: 'evict'; readonly cause: EvictionCause }
  | { readonly action: 'reboot-status'; readonly reboot: DomainReboot }
  /** evict-on-persist opened an I/O error episode; it is judged at `deadline` (epoch ms). */
  | { readonly action: 'watch-io-error'; readonly deadline: number }
  /** Part of a burst already acted on, or an Eviction already requested for this run. */
  | { readonly action: 'deduplicated'; readonly of: string }
  | { readonly action: 'none' };

/** A decision reached later than its event (evict-on-persist), with the event that stands for it. */
export type DeferredDecision = (observed: ObservedEvent, decision: Decision) => void;

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface IoErrorEpisode {
  readonly startedAt: number;
  lastErrorAt: number;
  /** The latest error, for the Eviction's reason. */
  last: IoErrorEvent | IoErrorReasonEvent | undefined;
  readonly timer: unknown;
}

const UNEXPECTED_STOP: Record<string, string> = {
  failed: 'the QEMU process ended unexpectedly',
  crashed: 'the guest crashed and was stopped',
};

const NONE: Decision = { action: 'none' };

export class EventPolicy {
  private readonly reboots: BurstFilter;
  private readonly ioBursts: BurstFilter;
  private readonly episodes = new Map<string, IoErrorEpisode>();

  constructor(
    readonly config: PolicyConfig,
    private readonly domains: DomainTracker,
    private readonly deferred: DeferredDecision,
    private readonly timers: Timers = realTimers,
  ) {
    this.reboots = new BurstFilter(config.rebootWindowMs);
    this.ioBursts = new BurstFilter(config.ioErrorWindowMs);
  }

  decide(observed: ObservedEvent): Decision {
    const event = observed.event;
    switch (event.kind) {
      case 'lifecycle':
        return this.lifecycle(observed, event);
      case 'watchdog':
        return this.evict(this.domains.touch(event.domain, observed.at), observed, 'watchdog', `the guest watchdog fired (action ${event.actionName})`);
      case 'io-error':
      case 'io-error-reason':
        return this.ioError(observed, event.domain, event.actionName === 'pause', event);
      case 'reboot':
        if (this.reboots.observe(event.domain.uuid, observed.at) > 0) return { action: 'deduplicated', of: 'reboot burst' };
        return { action: 'reboot-status', reboot: { domain: event.domain, at: observed.at } };
      default:
        return NONE;
    }
  }

  /** Open I/O error episodes (evict-on-persist). */
  get openEpisodes(): number {
    return this.episodes.size;
  }

  /** Cancels pending evict-on-persist judgements. */
  close(): void {
    for (const episode of this.episodes.values()) this.timers.clearTimeout(episode.timer);
    this.episodes.clear();
  }

  private lifecycle(observed: ObservedEvent, event: LifecycleEvent): Decision {
    const entry = this.domains.apply(event, observed.at);
    const { eventName, detailName } = event;
    if (eventName === 'stopped' || eventName === 'undefined') this.closeEpisode(event.domain.uuid);
    if (!entry) return NONE;
    if (eventName === 'stopped' && UNEXPECTED_STOP[detailName]) return this.evict(entry, observed, 'crash', UNEXPECTED_STOP[detailName]);
    if (eventName === 'crashed') {
      return this.evict(entry, observed, 'crash', detailName === 'crashloaded' ? 'the guest crashed and loaded its crash kernel' : 'the guest kernel panicked');
    }
    if (eventName === 'suspended' && detailName === 'watchdog') return this.evict(entry, observed, 'watchdog', 'the guest watchdog fired and paused the domain');
    if (eventName === 'suspended' && detailName === 'ioerror') return this.ioError(observed, event.domain, true, undefined);
    return NONE;
  }

  private evict(entry: TrackedDomain, observed: ObservedEvent, cause: 'crash' | 'watchdog' | 'io-error', explanation: string): Decision {
    if (entry.evictedFor.has(cause)) return { action: 'deduplicated', of: `Eviction for ${cause} already requested in this run of the domain` };
    entry.evictedFor.add(cause);
    const { event } = observed;
    return {
      action: 'evict',
      cause: { domain: entry.domain, event: event.kind, detail: eventDetail(event), explanation, at: observed.at, origin: observed.origin },
    };
  }

  private ioError(observed: ObservedEvent, domain: DomainRef, paused: boolean, error: IoErrorEvent | IoErrorReasonEvent | undefined): Decision {
    const entry = this.domains.touch(domain, observed.at);
    const position = this.ioBursts.observe(domain.uuid, observed.at);
    switch (this.config.ioErrorPolicy) {
      case 'record':
        return position > 0 ? { action: 'deduplicated', of: 'I/O error burst' } : NONE;
      case 'evict-on-pause':
        if (paused) return this.evict(entry, observed, 'io-error', `${describeIoError(error)} paused the domain`);
        return position > 0 ? { action: 'deduplicated', of: 'I/O error burst' } : NONE;
      case 'evict-on-persist': {
        const open = this.episodes.get(domain.uuid);
        if (open) {
          open.lastErrorAt = error ? observed.at : open.lastErrorAt;
          open.last = error ?? open.last;
          return { action: 'deduplicated', of: `I/O error episode open since ${new Date(open.startedAt).toISOString()}` };
        }
        const deadline = observed.at + this.config.ioErrorPersistMs;
        const timer = this.timers.setTimeout(() => this.judgeEpisode(domain), this.config.ioErrorPersistMs);
        this.episodes.set(domain.uuid, { startedAt: observed.at, lastErrorAt: observed.at, last: error, timer });
        return { action: 'watch-io-error', deadline };
      }
    }
  }

  /** evict-on-persist: the window is over; evict if the error is still there. */
  private judgeEpisode(domain: DomainRef): void {
    const episode = this.episodes.get(domain.uuid);
    if (!episode) return;
    this.episodes.delete(domain.uuid);
    const entry = this.domains.get(domain.uuid);
    if (!entry) return;
    const stillPaused = entry.state === DomainState.PAUSED && DOMAIN_STATE_REASON_NAMES[DomainState.PAUSED]![entry.reason] === 'ioerror';
    const recurred = episode.lastErrorAt - episode.startedAt >= this.config.ioErrorWindowMs;
    if (!stillPaused && !recurred) return;
    const seconds = Math.round(this.config.ioErrorPersistMs / 1000);
    const why = stillPaused ? `the domain is still paused by it after ${seconds}s` : `errors kept coming for ${seconds}s`;
    const last = episode.last;
    const event: DomainEvent = last ?? lifecycleEvent(entry.domain, 'suspended', 'ioerror');
    const observed: ObservedEvent = { event, origin: 'policy', at: episode.startedAt + this.config.ioErrorPersistMs, note: `I/O error persisted: ${why}` };
    this.deferred(observed, this.evict(entry, observed, 'io-error', `${describeIoError(last)} persisted: ${why}`));
  }

  private closeEpisode(uuid: string): void {
    const episode = this.episodes.get(uuid);
    if (!episode) return;
    this.timers.clearTimeout(episode.timer);
    this.episodes.delete(uuid);
  }
}

function describeIoError(error: IoErrorEvent | IoErrorReasonEvent | undefined): string {
  if (!error) return 'a disk I/O error';
  const reason = error.kind === 'io-error-reason' && error.reason ? ` (${error.reason})` : '';
  return `a disk I/O error on ${error.devAlias || '?'} [${error.srcPath || '?'}]${reason}`;
}
