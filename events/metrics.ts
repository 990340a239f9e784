// The agent's Prometheus metrics (served on /metrics by web.ts), in their own registry.
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { DomainRef } from '../libvirt/types.js';

// prom-client's entry point also loads what the agent never uses: Summary (tdigest), the Pushgateway and,
// for the CPU metric's exemplars, the OpenTelemetry API — resident code in a process whose memory is bounded
// (bench/RESULTS.md#start-up-footprint). The classes and the default collectors come from their own modules instead.
const load = createRequire(import.meta.url);
const Registry = load('prom-client/lib/registry') as typeof PromClient.Registry;
const Counter = load('prom-client/lib/counter') as typeof PromClient.Counter;
const Gauge = load('prom-client/lib/gauge') as typeof PromClient.Gauge;
const Histogram = load('prom-client/lib/histogram') as typeof PromClient.Histogram;
/** collectDefaultMetrics' collectors but processCpuTotal (the one that loads OpenTelemetry), replaced below. */
const DEFAULT_COLLECTORS = [
  'processStartTime', 'osMemoryHeap', 'processOpenFileDescriptors', 'processMaxFileDescriptors', 'eventLoopLag',
  'processResources', 'processHandles', 'processRequests', 'heapSizeAndUsed', 'heapSpacesSizeAndUsed', 'version', 'gc',
] as const;

function collectDefaultMetrics(registry: PromClient.Registry): void {
  for (const name of DEFAULT_COLLECTORS) (load(`prom-client/lib/metrics/${name}`) as (r: PromClient.Registry, config: object) => void)(registry, {});
  new Counter({
    name: 'process_cpu_seconds_total',
    help: 'Total user and system CPU time spent in seconds.',
    registers: [registry],
    collect() {
      const { user, system } = process.cpuUsage();
      this.reset();
      this.inc((user + system) / 1e6);
    },
  });
}

/** How long, and how many, stored Evictions keep their libvirt_events_eviction_timestamp_seconds series. */
const STORED_EVICTIONS_FOR_MS = 24 * 3600_000;
const MAX_STORED_EVICTIONS = 1000;

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
  readonly kubeQueue: PromClient.Gauge = new Gauge({
    name: 'libvirt_events_kube_queue_length',
    help: 'Kubernetes API writes queued, running or waiting to retry',
    registers: [this.registry],
    collect: (): void => this.kubeQueue.set(this.kubeQueueSize()),
  });
  /** Evictions stored lately (name → the VM and the event time), for the dashboard's Evictions of a VM. */
  private readonly storedEvictions = new Map<string, { domain: string; uuid: string; at: number }>();
  readonly evictionTimestamps: PromClient.Gauge<'eviction' | 'domain' | 'uuid'> = new Gauge({
    name: 'libvirt_events_eviction_timestamp_seconds',
    help: 'Evictions this agent stored in the last 24 hours (at most 1000), by name and the domain and uuid of the VM; the value is the time of the event (Unix seconds)',
    labelNames: ['eviction', 'domain', 'uuid'] as const,
    registers: [this.registry],
    collect: (): void => {
      this.forgetOldEvictions(Date.now());
      this.evictionTimestamps.reset();
      for (const [eviction, { domain, uuid, at }] of this.storedEvictions) this.evictionTimestamps.set({ eviction, domain, uuid }, at / 1000);
    },
  });
  readonly recordsDropped = new Counter({
    name: 'libvirt_events_records_dropped_total',
    help: 'Event records not written because stdout was not being read',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics(this.registry);
  }

  /** An Eviction is stored (created, or found created by an earlier attempt); `at`: its event time, epoch ms. */
  evictionStored(eviction: string, domain: DomainRef, at: number): void {
    this.storedEvictions.delete(eviction);
    this.storedEvictions.set(eviction, { domain: domain.name, uuid: domain.uuid, at });
    // The count bound only, which drops the first (oldest stored) entry: a burst of Evictions must not scan
    // the whole map once per Eviction. The age bound is applied where the series are read.
    if (this.storedEvictions.size > MAX_STORED_EVICTIONS) this.storedEvictions.delete(this.storedEvictions.keys().next().value!);
  }

  /** Keeps the series of stored Evictions to a day of them (the count is bounded as they are stored). */
  private forgetOldEvictions(now: number): void {
    this.storedEvictions.forEach(({ at }, name) => {
      if (now - at > STORED_EVICTIONS_FOR_MS) this.storedEvictions.delete(name);
    });
  }

  /** The queue length gauge reads this at scrape time. */
  watchKubeQueue(size: () => number): void {
    this.kubeQueueSize = size;
  }
}
