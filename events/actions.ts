// The two ActionSinks: the Kubernetes API through the bounded, retrying writer, and --dry-run, which
// prints the objects it would write (one JSON line each, on stdout next to the records).
import type { ActionSink } from './agent.js';
import { serializeEviction, type Eviction, type EvictionCause } from './eviction.js';
import type { KubeApi } from './kube-client.js';
import { KubeWriter, type KubeWriterOptions, type WriteJob } from './kube-writer.js';
import { errorText, type Logger } from '../runtime/log.js';
import type { AgentMetrics } from './metrics.js';
import type { JsonLineSink } from './record.js';

export class KubeActions implements ActionSink {
  readonly dryRun = false;
  readonly writer: KubeWriter;

  constructor(
    private readonly api: KubeApi,
    options: KubeWriterOptions,
    private readonly metrics: AgentMetrics,
    log: Logger,
  ) {
    const what = (job: WriteJob) => (job.kind === 'eviction' ? { eviction: job.key, reason: job.summary } : { hypervisor: job.key.slice('status:'.length), patch: job.summary });
    this.writer = new KubeWriter(options, {
      done: (job, outcome, attempts, latencyMs) => {
        if (job.kind === 'eviction') {
          metrics.evictionsCreated.inc({ outcome });
          metrics.evictionLatency.observe(latencyMs / 1000);
          log('info', outcome === 'created' ? 'Eviction created' : 'Eviction already existed', { ...what(job), attempts });
        } else metrics.statusPatches.inc({ result: 'patched' });
      },
      retry: (job, error, attempt, delayMs) => {
        metrics.kubeRetries.inc({ kind: job.kind });
        log('warn', 'Kubernetes API write failed; retrying', { ...what(job), attempt, retry_in_ms: Math.round(delayMs), error: errorText(error) });
      },
      failed: (job, error, reason) => {
        if (job.kind === 'eviction') metrics.evictionsFailed.inc({ reason });
        else metrics.statusPatches.inc({ result: 'failed' });
        log('error', job.kind === 'eviction' ? 'Eviction NOT created' : 'Hypervisor status NOT patched', { ...what(job), reason, error: errorText(error) });
      },
    });
    metrics.watchKubeQueue(() => this.writer.size);
  }

  evict(eviction: Eviction, cause: EvictionCause): void {
    const serialized = serializeEviction(eviction);
    const { domain, at } = cause;
    this.writer.enqueue({
      kind: 'eviction',
      key: serialized.name,
      summary: eviction.spec.reason,
      run: async (signal) => {
        const outcome = await this.api.createEviction(serialized, signal);
        this.metrics.evictionStored(serialized.name, domain, at);
        return outcome;
      },
    });
  }

  patchHypervisorStatus(hypervisor: string, patch: object): void {
    this.writer.enqueue({
      kind: 'hypervisor-status',
      key: `status:${hypervisor}`,
      summary: JSON.stringify((patch as { status?: unknown }).status),
      run: (signal) => this.api.patchHypervisorStatus(hypervisor, patch, signal).then(() => 'patched'),
    });
  }
}

export class DryRunActions implements ActionSink {
  readonly dryRun = true;

  constructor(private readonly out: JsonLineSink) {}

  evict(eviction: Eviction): void {
    this.out.write(eviction);
  }

  patchHypervisorStatus(_hypervisor: string, patch: object): void {
    this.out.write(patch);
  }
}
