// The agent proper: each event (live, synthesized by reconciliation, or concluded by policy) is decided,
// acted on (Eviction / Hypervisor status, through an ActionSink that never blocks), counted and recorded.
import type { CloseInfo, DomainEvent } from '../libvirt/types.js';
import { DomainTracker, type DomainSnapshot } from './domains.js';
import { buildEviction, evictionName as evictionNameOf, rebootStatusPatch, type Eviction, type EvictionCause } from './eviction.js';
import type { NovaNameCache } from './nova-names.js';
import type { Logger } from '../runtime/log.js';
import type { AgentMetrics } from './metrics.js';
import { eventDetail, type ObservedEvent } from './observed.js';
import { EventPolicy, type Decision, type PolicyConfig, type Timers } from './policy.js';
import { reconcile } from './reconcile.js';
import { buildRecord, type JsonLineSink } from './record.js';

/** Where the agent's actions go: the Kubernetes API (kube-actions.ts) or stdout (--dry-run). */
export interface ActionSink {
  readonly dryRun: boolean;
  evict(eviction: Eviction, cause: EvictionCause): void;
  patchHypervisorStatus(hypervisor: string, patch: object): void;
}

export interface AgentOptions {
  readonly hypervisor: string;
  readonly namespace: string;
  readonly policy: PolicyConfig;
}

export interface AgentDeps {
  readonly actions: ActionSink;
  readonly records: JsonLineSink;
  readonly metrics: AgentMetrics;
  readonly log: Logger;
  readonly timers?: Timers;
  readonly now?: () => number;
  /** The Nova names Evictions carry, where known. */
  readonly novaNames?: NovaNameCache;
}

export class EventAgent {
  readonly domains = new DomainTracker();
  private readonly policy: EventPolicy;
  private readonly now: () => number;

  constructor(
    private readonly options: AgentOptions,
    private readonly deps: AgentDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.policy = new EventPolicy(options.policy, this.domains, (observed, decision) => this.handle(observed, decision), deps.timers);
  }

  /** An event delivered by libvirtd. */
  onEvent(event: DomainEvent): void {
    this.handle({ event, origin: 'live', at: this.now() });
  }

  /**
   * Connected (again): on the first connection the listing is the starting picture; after a reconnect the
   * changes since the last picture are replayed as the events libvirtd would have sent, then the listing
   * replaces the picture.
   */
  onConnected(listing: DomainSnapshot[], first: boolean): void {
    const at = this.now();
    if (!first) {
      this.deps.metrics.reconnects.inc();
      for (const observed of reconcile(this.domains.snapshot(), listing, at)) {
        const { event } = observed;
        this.deps.metrics.reconcileCorrections.inc({ type: event.kind, detail: eventDetail(event) });
        this.handle(observed);
      }
    }
    this.domains.replace(listing, at);
    this.deps.metrics.connected.set(1);
  }

  /** The connection ended (`info`), or connecting/registering failed (no `info`). */
  onDisconnected(info: CloseInfo | undefined): void {
    this.deps.metrics.connected.set(0);
    if (!info) this.deps.metrics.connectFailures.inc();
  }

  close(): void {
    this.policy.close();
  }

  private handle(observed: ObservedEvent, decision: Decision = this.policy.decide(observed)): void {
    const { event } = observed;
    const { metrics, actions } = this.deps;
    if (observed.origin !== 'policy') metrics.events.inc({ type: event.kind, detail: eventDetail(event) });
    let evictionName: string | undefined;
    switch (decision.action) {
      case 'evict': {
        const { cause } = decision;
        const { hypervisor, namespace } = this.options;
        const evict = () => actions.evict(buildEviction(hypervisor, namespace, cause, this.deps.novaNames?.get(cause.domain.uuid)), cause);
        evictionName = evictionNameOf(hypervisor, cause);
        // A domain started a moment ago may still have its XML read: its Eviction waits for the Nova names.
        const reading = this.deps.novaNames?.pending(cause.domain.uuid);
        if (reading) void reading.then(evict);
        else evict();
        break;
      }
      case 'reboot-status':
        actions.patchHypervisorStatus(this.options.hypervisor, rebootStatusPatch(this.options.hypervisor, decision.reboot));
        break;
      case 'deduplicated':
        metrics.deduplicated.inc({ type: event.kind });
        break;
      default:
        break;
    }
    this.deps.records.write(buildRecord(this.options.hypervisor, observed, decision, evictionName, actions.dryRun));
  }
}
