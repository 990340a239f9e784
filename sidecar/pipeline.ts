// Between the sources and the sink. Takes the sources' record batches, encodes them with the
// encoding the sink names and queues them; moves batches from the queue to the sink, one delivery
// at a time and in order, and advances the checkpoints only after the sink confirmed. A failed
// delivery is retried with backoff for as long as it takes: the queue fills and the sources
// pause, nothing is dropped.
//
// Records are encoded as they enter the queue, not after it: the queue then holds Buffers off the
// JS heap, counted exactly. Records waiting in the queue would outlive V8's small young generation
// (runtime/heap.ts), and moving them to the old generation costs CPU and peak memory
// (bench/RESULTS.md, sidecar).
import { encodeBatch, type Batch, type BatchIntake, type Mark, type RecordBatch } from './batch.js';
import { ENCODINGS, type RecordEncoder } from './encodings.js';
import { recycle } from './payload-slabs.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { Logger } from '../runtime/log.js';
import type { Metrics } from './metrics.js';
import type { ByteQueue } from './queue.js';
import { FatalOutputError, type Sink } from './sinks/sink.js';

export interface PipelineOptions {
  /** Input bytes handed to the sink per delivery. */
  readonly deliveryBytes: number;
  readonly snapshotIntervalMs: number;
  /** WAL size that triggers a snapshot before the interval is up. */
  readonly walLimitBytes: number;
}

const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 10_000;

/** The last mark per stream and for the journal: marks are absolute, earlier ones add nothing. */
export function latestMarks(batches: readonly Batch[]): Mark[] {
  const byKey = new Map<string, Mark>();
  for (const batch of batches) for (const mark of batch.marks) byKey.set('stream' in mark ? `s:${mark.stream}` : 'journal', mark);
  return [...byKey.values()];
}

export class Pipeline implements BatchIntake {
  private lastSnapshot = Date.now();
  private inFlightSince: number | undefined;
  private failingSince: number | undefined;
  private readonly encode: RecordEncoder;
  private readonly abort = new AbortController();
  private readonly abortedPromise = new Promise<void>((resolve) =>
    this.abort.signal.addEventListener('abort', () => resolve(), { once: true }),
  );

  constructor(
    private readonly queue: ByteQueue<Batch>,
    private readonly sink: Sink,
    private readonly store: CheckpointStore,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly opts: PipelineOptions,
  ) {
    this.encode = ENCODINGS[sink.encoding];
  }

  /** A source's batch: encoded for the sink and queued; waits while the queue is full. */
  accept(batch: RecordBatch): Promise<void> {
    return this.queue.put(encodeBatch(batch, this.encode));
  }

  /** Read time of the oldest batch not yet confirmed, if any. */
  oldestPending(): number | undefined {
    return this.inFlightSince ?? this.queue.peek()?.readAt;
  }

  /** Since when deliveries keep failing (undefined while they succeed). */
  get failing(): number | undefined {
    return this.failingSince;
  }

  /** Gives up the delivery in progress (shutdown deadline). */
  cancel(): void {
    this.abort.abort();
  }

  /** Runs until the queue is closed and empty, or `cancel()`. */
  async run(): Promise<void> {
    for (;;) {
      const batches = await this.queue.take(this.opts.deliveryBytes);
      if (batches.length === 0) break;
      this.inFlightSince = batches[0]!.readAt;
      const marks = latestMarks(batches);
      if (!(await this.deliver(batches, marks))) return;
      if (this.sink.recordsIntents) this.store.apply(marks);
      else await this.store.commit(marks);
      this.count(batches);
      this.queue.release(batches);
      for (const batch of batches) recycle(batch.payload);
      this.inFlightSince = undefined;
      if (Date.now() - this.lastSnapshot >= this.opts.snapshotIntervalMs || this.store.walSize >= this.opts.walLimitBytes)
        await this.snapshot();
    }
    await this.snapshot();
  }

  async snapshot(): Promise<void> {
    await this.store.snapshot(() => this.sink.sync());
    this.lastSnapshot = Date.now();
    this.metrics.checkpointWrites.inc();
  }

  /** False when cancelled before the sink confirmed. */
  private async deliver(batches: readonly Batch[], marks: readonly Mark[]): Promise<boolean> {
    let wait = RETRY_FIRST_MS;
    for (;;) {
      if (this.abort.signal.aborted) return false;
      try {
        await Promise.race([this.sink.deliver(batches, marks), this.aborted()]);
        if (this.abort.signal.aborted) return false;
        if (this.failingSince !== undefined) this.log.info(`${this.sink.name} output recovered`);
        this.failingSince = undefined;
        return true;
      } catch (err) {
        if (this.abort.signal.aborted) return false;
        if (err instanceof FatalOutputError) throw err;
        this.metrics.outputErrors.inc({ output: this.sink.name });
        if (this.failingSince === undefined) {
          this.failingSince = Date.now();
          this.log.warn(`${this.sink.name} output failed: ${(err as Error).message}; retrying with backoff`);
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
        wait = Math.min(wait * 2, RETRY_MAX_MS);
      }
    }
  }

  private aborted(): Promise<void> {
    return this.abortedPromise;
  }

  private count(batches: readonly Batch[]): void {
    // Tallied first: a labelled inc() per batch and kind would add up.
    const tally = new Map<string, number>();
    for (const batch of batches) {
      for (const [kind, n] of batch.kinds) {
        const key = `${batch.source}\0${kind}`;
        tally.set(key, (tally.get(key) ?? 0) + n);
      }
    }
    for (const [key, n] of tally) {
      const [source, kind] = key.split('\0') as [string, string];
      this.metrics.records.inc({ source, kind }, n);
      if (kind === 'unparsed') this.metrics.unparsed.inc({ source }, n);
    }
  }
}
