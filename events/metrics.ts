// The agent's Prometheus metrics (served on /metrics by web.ts), in their own registry.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export class AgentMetrics {
  readonly registry = new Registry();

  /** Every event handled, live or synthesized by reconciliation. */
  readonly events = new Counter({
    name: 'libvirt_events_total',
    help: 'libvirt domain events handled, by event type and detail (e.g. lifecycle stopped/failed)',
    labelNames: ['type', 'detail'] as const,
    registers: [this.registry],
  });
  readonly deduplicated = new Counter({
    name: 'libvirt_events_deduplicated_total',
    help: 'Events that were part of a burst or incident already acted on',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly evictionsCreated = new Counter({
    name: 'libvirt_events_evictions_created_total',
    help: 'Evictions written to the Kubernetes API (outcome created, or exists: an earlier attempt had created it)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly evictionsFailed = new Counter({
    name: 'libvirt_events_evictions_failed_total',
    help: 'Evictions that could not be written (reason permanent, gave-up, queue-full, shutdown)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly statusPatches = new Counter({
    name: 'libvirt_events_hypervisor_status_patches_total',
    help: 'Patches of the Hypervisor status after guest reboots, by result (patched, failed)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly kubeRetries = new Counter({
    name: 'libvirt_events_kube_retries_total',
    help: 'Kubernetes API writes retried after 5xx, 429, timeouts or connection errors',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly evictionLatency = new Histogram({
    name: 'libvirt_events_eviction_write_seconds',
    help: 'Time from the event to the Eviction being stored, retries included',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });
  readonly reconnects = new Counter({
    name: 'libvirt_events_reconnects_total',
    help: 'Successful reconnections to libvirtd after the connection was lost',
    registers: [this.registry],
  });
  readonly connectFailures = new Counter({
    name: 'libvirt_events_connect_failures_total',
    help: 'Failed attempts to connect to libvirtd and register for events',
    registers: [this.registry],
  });
  readonly reconcileCorrections = new Counter({
    name: 'libvirt_events_reconcile_corrections_total',
    help: 'Events synthesized after a reconnect for state changes that happened while disconnected',
    labelNames: ['type', 'detail'] as const,
    registers: [this.registry],
  });
  readonly connected = new Gauge({
    name: 'libvirt_events_connected',
    help: '1 while connected to libvirtd with every event callback registered',
    registers: [this.registry],
  });
  private kubeQueueSize: () => number = () => 0;
  readonly kubeQueue: Gauge = new Gauge({
    name: 'libvirt_events_kube_queue_length',
    help: 'Kubernetes API writes queued, running or waiting to retry',
    registers: [this.registry],
    collect: (): void => this.kubeQueue.set(this.kubeQueueSize()),
  });
  readonly recordsDropped = new Counter({
    name: 'libvirt_events_records_dropped_total',
    help: 'Event records not written because stdout was not being read',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The queue length gauge reads this at scrape time. */
  watchKubeQueue(size: () => number): void {
    this.kubeQueueSize = size;
  }
}
