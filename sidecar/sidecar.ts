// Wires sources -> pipeline (encoding, bounded queue) -> sink, checkpoints after confirmation, /metrics and /healthz,
// and the shutdown: stop reading, drain, checkpoint, all within a deadline.
import type { ListenAddress } from '../runtime/listen-address.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Batch } from './batch.js';
import { CheckpointStore } from './checkpoint-store.js';
import { DomainIdentities } from './domain-identities.js';
import { FileSource, globToRegExp } from './file-source.js';
import { GlobSource } from './glob-source.js';
import { serveHttp } from '../runtime/http.js';
import { JournalSource, type JournalOptions } from './journal-source.js';
import { LibvirtLookup } from './libvirt-lookup.js';
import { createLogger, type Logger } from '../runtime/log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { domainFromFileName, LOG_FORMATS } from '../parsers/formats.js';
import { Pipeline } from './pipeline.js';
import { ByteQueue } from './queue.js';
import { FileSink } from './sinks/file.js';
import { ForwardSink, type ForwardOptions } from './sinks/forward.js';
import type { Sink } from './sinks/sink.js';
import { StdoutSink } from './sinks/stdout.js';
import type { InputState, Source } from './source.js';

export interface SidecarConfig {
  readonly qemuLogDir: string | null;
  readonly qemuLogGlob: string;
  readonly libvirtdSource: 'journal' | 'cri' | 'none';
  readonly criLog?: string | undefined;
  readonly journal: Pick<JournalOptions, 'journalctl' | 'matches' | 'directory' | 'files' | 'namespace' | 'fallbackAgeMs'>;
  readonly startAt: 'head' | 'tail';
  /** libvirtd to ask for identities (read-only); undefined: none. */
  readonly libvirtUri?: string | undefined;
  readonly stateDir: string;
  readonly output: 'stdout' | 'file' | 'forward';
  readonly outputFile?: string | undefined;
  readonly forward?: ForwardOptions | undefined;
  readonly tagPrefix: string;
  readonly queueLimitBytes: number;
  readonly maxLineBytes: number;
  readonly rescanMs: number;
  readonly rotateWaitMs: number;
  readonly flushIdleMs: number;
  readonly checkpointIntervalMs: number;
  readonly shutdownTimeoutMs: number;
  /** null: no HTTP server. */
  readonly listen: ListenAddress | null;
}

/** A failing output is unhealthy after this long. */
const UNHEALTHY_AFTER_MS = 30_000;
/** Input handed to the sink per delivery: below Fluent Bit in_forward's 6 MB buffer_max_size. */
const DELIVERY_BYTES = 1024 * 1024;
/** The last snapshot on stop waits at most this long. */
const SNAPSHOT_ON_STOP_MS = 2000;

export class Sidecar {
  /** Each configured input: its source label, the path or unit as configured, and its reader. */
  private inputs: { source: string; input: string; reader: Source; last?: InputState }[] = [];
  private server: Server | undefined;
  private gaugeTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private fatal: Error | undefined;
  private journal: JournalSource | undefined;
  private lookup: LibvirtLookup | undefined;

  private constructor(
    readonly config: SidecarConfig,
    readonly metrics: Metrics,
    readonly log: Logger,
    private readonly store: CheckpointStore,
    private readonly queue: ByteQueue<Batch>,
    private readonly sink: Sink,
    private readonly pipeline: Pipeline,
  ) {}

  /** Port of the HTTP server (when listening on port 0 in tests). */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  /** Resolves when the pipeline ended on its own (a fatal output error); see `error`. */
  get done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  get error(): Error | undefined {
    return this.fatal;
  }

  static async start(config: SidecarConfig, log: Logger = createLogger()): Promise<Sidecar> {
    const metrics = createMetrics();
    const store = await CheckpointStore.open(config.stateDir);
    if (store.walGarbage.length) {
      metrics.walBadLines.inc(store.walGarbage.length);
      const shown = store.walGarbage.slice(0, 10).join(', ') + (store.walGarbage.length > 10 ? ', …' : '');
      log.warn(`${config.stateDir}/state.wal: skipped ${store.walGarbage.length} line(s) that are no checkpoint entry (line ${shown}); the entries around them are used`);
    }
    try {
      const queue = new ByteQueue<Batch>(config.queueLimitBytes);
      metrics.queueLimit.set(config.queueLimitBytes);
      let sink: Sink;
      if (config.output === 'file') sink = await FileSink.open(config.outputFile!, store);
      else {
        // Intents from a previous run with the file output cannot be checked any more.
        store.resolveIntents(0);
        sink = config.output === 'forward' ? new ForwardSink(config.forward!, metrics) : new StdoutSink();
      }
      const pipeline = new Pipeline(queue, sink, store, metrics, log, {
        deliveryBytes: Math.min(DELIVERY_BYTES, Math.max(64 * 1024, Math.floor(config.queueLimitBytes / 4))),
        snapshotIntervalMs: config.checkpointIntervalMs,
        walLimitBytes: 4 * 1024 * 1024,
      });
      const sidecar = new Sidecar(config, metrics, log, store, queue, sink, pipeline);
      await sidecar.begin();
      return sidecar;
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  private async begin(): Promise<void> {
    const { config, metrics, log, store, pipeline } = this;
    if (config.listen) this.server = await serveHttp(config.listen, metrics.registry, () => this.health());
    if (config.libvirtUri !== undefined) this.lookup = new LibvirtLookup(config.libvirtUri, log);
    const identities = new DomainIdentities(this.lookup ?? null, (result) => metrics.identityLookups.inc({ result }));
    const common = {
      identities,
      maxLineBytes: config.maxLineBytes,
      rotateWaitMs: config.rotateWaitMs,
      flushIdleMs: config.flushIdleMs,
      intake: pipeline,
      metrics,
      log,
      startAt: config.startAt,
      rescanMs: config.rescanMs,
      store,
    };
    if (config.qemuLogDir) {
      const qemu = new FileSource({
        ...common,
        source: 'qemu',
        dir: config.qemuLogDir,
        pattern: globToRegExp(config.qemuLogGlob),
        tagFor: (name) => `${config.tagPrefix}.qemu.${domainOf(name)}`,
        parserFor: (name) => (uuid) => LOG_FORMATS.qemu.create({ domain: domainOf(name), uuid }),
      });
      this.inputs.push({ source: 'qemu', input: config.qemuLogDir, reader: qemu });
      await qemu.start();
    }
    if (config.libvirtdSource === 'cri') {
      const path = config.criLog!;
      const cri = new GlobSource(path, {
        ...common,
        source: 'cri',
        tagFor: () => `${config.tagPrefix}.libvirtd`,
        parserFor: () => () => LOG_FORMATS.cri.create({ domain: null }),
      });
      this.inputs.push({ source: 'cri', input: path, reader: cri });
      await cri.start();
    } else if (config.libvirtdSource === 'journal') {
      const journal = new JournalSource({
        ...config.journal,
        startAt: config.startAt,
        maxLineBytes: config.maxLineBytes,
        tag: `${config.tagPrefix}.libvirtd`,
        intake: pipeline,
        metrics,
        log,
        store,
        identities,
        newParser: () => LOG_FORMATS.journal.create(),
      });
      this.journal = journal;
      this.inputs.push({ source: 'journal', input: config.journal.matches.join(' '), reader: journal });
      await journal.start();
    }
    // The start positions of new streams are checkpoints already: save them before reading on.
    await this.pipeline.snapshot();
    this.running = this.pipeline.run().catch((err: Error) => {
      this.fatal = err;
      log.warn(`stopping: ${err.message}`);
    });
    // Not unref'd: it keeps a quiet daemon alive when nothing else is pending (no HTTP server,
    // watchers and rescans unref'd), until stop() clears it.
    this.updateGauges();
    this.gaugeTimer = setInterval(() => this.updateGauges(), 1000);
  }

  private updateGauges(): void {
    for (const entry of this.inputs) {
      const state = entry.reader.state();
      this.metrics.inputUp.set({ source: entry.source, input: entry.input }, state.up ? 1 : 0);
      // Logged when it changes; the process keeps running and follows the input once it is there.
      if (!state.up && (entry.last === undefined || entry.last.up))
        this.log.warn(`input ${entry.source} ${entry.input}: ${state.reason}; waiting for it (input_up 0, /healthz lists it)`);
      else if (state.up && entry.last !== undefined && !entry.last.up) this.log.info(`input ${entry.source} ${entry.input} is there now`);
      entry.last = state;
    }
    this.metrics.queueBytes.set(this.queue.bytes);
    const oldest = this.pipeline.oldestPending();
    this.metrics.lag.set(oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
  }

  health() {
    this.updateGauges();
    const failingSince = this.pipeline.failing;
    const outputOk = failingSince === undefined || Date.now() - failingSince < UNHEALTHY_AFTER_MS;
    const journalOk = this.journal === undefined || this.journal.running;
    return {
      healthy: outputOk && this.fatal === undefined,
      output: { name: this.sink.name, failing_since: failingSince === undefined ? null : new Date(failingSince).toISOString() },
      journalctl: this.journal === undefined ? null : journalOk ? 'running' : 'restarting',
      // A missing input leaves the status at 200: /healthz is the liveness probe, and a restart
      // does not bring an input; the input is followed once it appears.
      inputs: this.inputs.map(({ source, input, last }) => ({ source, input, up: last?.up ?? true, reason: last?.reason ?? null })),
      queue_bytes: this.queue.bytes,
      error: this.fatal?.message ?? null,
    };
  }

  /**
   * Stops reading, delivers what is queued, saves the checkpoints. Returns false if the deadline
   * cut the drain short (what was not confirmed is read again on the next start).
   */
  async stop(): Promise<boolean> {
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    clearInterval(this.gaugeTimer);
    this.queue.close();
    await Promise.all(this.inputs.map((i) => i.reader.stop()));
    await this.lookup?.stop();
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      (this.running ?? Promise.resolve()).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now())))),
    ]);
    clearTimeout(timer);
    if (!drained) {
      this.pipeline.cancel();
      this.log.warn('shutdown deadline reached before the queue was drained; unconfirmed records are read again on the next start');
    }
    // A snapshot stuck on a hung disk must not hold the exit for longer than this.
    let snapshotTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.pipeline.snapshot().catch(() => undefined),
      new Promise((r) => (snapshotTimer = setTimeout(r, SNAPSHOT_ON_STOP_MS))),
    ]);
    clearTimeout(snapshotTimer);
    await this.sink.close();
    await this.store.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
    return drained;
  }
}

function domainOf(name: string): string {
  return domainFromFileName(name) ?? name;
}
