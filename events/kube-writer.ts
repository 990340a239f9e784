// Writes to the Kubernetes API without ever holding up event intake: `enqueue` returns at once, a bounded
// queue holds the writes, a few workers run them, and failures that can heal (5xx, 429, 408, timeouts,
// connection errors) are retried with exponential backoff until `retryForMs` has passed. A full queue is a
// counted, logged rejection, never a blocked caller.
import { performance } from 'node:perf_hooks';
import { httpStatus, retryAfterMs } from './kube-client.js';
import { releasedDeadline } from '../runtime/deadline.js';

export type JobKind = 'eviction' | 'hypervisor-status';

export interface WriteJob {
  readonly kind: JobKind;
  /** Jobs with the same key are the same write: a newer one replaces a queued one (status patches coalesce). */
  readonly key: string;
  /** What is written, in words, for the log (an Eviction's reason). */
  readonly summary: string;
  /** Performs the write once; resolves to the outcome (`created`, `exists`, `patched`). */
  run(signal: AbortSignal): Promise<string>;
}

export type FailureReason = 'permanent' | 'gave-up' | 'queue-full' | 'shutdown';

export interface WriterHooks {
  done(job: WriteJob, outcome: string, attempts: number, latencyMs: number): void;
  retry(job: WriteJob, error: unknown, attempt: number, delayMs: number): void;
  failed(job: WriteJob, error: unknown, reason: FailureReason): void;
}

export interface KubeWriterOptions {
  /** Writes queued, running or waiting to retry, at most. */
  readonly capacity: number;
  readonly concurrency: number;
  readonly requestTimeoutMs: number;
  /** Give a write up when this long has passed since it was enqueued. */
  readonly retryForMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
}

interface Entry {
  job: WriteJob;
  attempts: number;
  readonly enqueuedAt: number;
  timer?: NodeJS.Timeout;
}

/** Whether a failed attempt may succeed when repeated: not a 4xx answer other than 408 and 429. */
export function isRetryable(err: unknown): boolean {
  const status = httpStatus(err);
  if (status === undefined) return true; // timeout, connection refused or reset: the API server did not answer
  return status === 408 || status === 429 || status >= 500;
}

export class KubeWriter {
  private readonly ready: Entry[] = [];
  private readonly waiting = new Set<Entry>();
  /** Entries not yet started (ready or waiting), by key. */
  private readonly pendingByKey = new Map<string, Entry>();
  private running = 0;
  private closed = false;
  private readonly stop = new AbortController();
  private idle: (() => void)[] = [];

  constructor(
    private readonly options: KubeWriterOptions,
    private readonly hooks: WriterHooks,
  ) {}

  /** Writes not finished yet (queued, running, waiting to retry). */
  get size(): number {
    return this.ready.length + this.waiting.size + this.running;
  }

  /** Queues a write; false when the queue is full or the writer closed (reported through hooks.failed). */
  enqueue(job: WriteJob): boolean {
    if (this.closed) {
      this.hooks.failed(job, new Error('writer closed'), 'shutdown');
      return false;
    }
    const queued = this.pendingByKey.get(job.key);
    if (queued) {
      queued.job = job;
      return true;
    }
    if (this.size >= this.options.capacity) {
      this.hooks.failed(job, new Error(`Kubernetes write queue full (${this.options.capacity})`), 'queue-full');
      return false;
    }
    const entry: Entry = { job, attempts: 0, enqueuedAt: performance.now() };
    this.pendingByKey.set(job.key, entry);
    this.ready.push(entry);
    this.pump();
    return true;
  }

  /** Resolves when every write has finished, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.size === 0) return true;
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Stops: aborts running requests and fails everything still queued. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort(new Error('writer closed'));
    const abandoned = [...this.ready, ...this.waiting];
    this.ready.length = 0;
    for (const entry of this.waiting) clearTimeout(entry.timer);
    this.waiting.clear();
    this.pendingByKey.clear();
    for (const entry of abandoned) this.hooks.failed(entry.job, new Error('writer closed'), 'shutdown');
    this.settle();
  }

  private pump(): void {
    while (!this.closed && this.running < this.options.concurrency && this.ready.length > 0) {
      const entry = this.ready.shift()!;
      if (this.pendingByKey.get(entry.job.key) === entry) this.pendingByKey.delete(entry.job.key);
      this.running += 1;
      void this.attempt(entry).finally(() => {
        this.running -= 1;
        this.pump();
        this.settle();
      });
    }
  }

  private async attempt(entry: Entry): Promise<void> {
    entry.attempts += 1;
    // Released when the attempt ends: a burst of writes would otherwise hold a timer per request until its deadline.
    const request = releasedDeadline(this.options.requestTimeoutMs, this.stop.signal);
    try {
      const outcome = await entry.job.run(request.signal);
      this.hooks.done(entry.job, outcome, entry.attempts, performance.now() - entry.enqueuedAt);
    } catch (err) {
      if (this.closed) {
        this.hooks.failed(entry.job, err, 'shutdown');
        return;
      }
      if (!isRetryable(err)) {
        this.hooks.failed(entry.job, err, 'permanent');
        return;
      }
      const exponential = Math.min(this.options.backoffMaxMs, this.options.backoffMinMs * 2 ** (entry.attempts - 1));
      const delay = Math.max(exponential * (0.5 + Math.random() / 2), retryAfterMs(err) ?? 0);
      if (performance.now() + delay - entry.enqueuedAt > this.options.retryForMs) {
        this.hooks.failed(entry.job, err, 'gave-up');
        return;
      }
      this.hooks.retry(entry.job, err, entry.attempts, delay);
      this.waiting.add(entry);
      this.pendingByKey.set(entry.job.key, entry);
      entry.timer = setTimeout(() => {
        this.waiting.delete(entry);
        if (this.closed) return;
        this.ready.push(entry);
        this.pump();
      }, delay);
    } finally {
      request.done();
    }
  }

  private settle(): void {
    if (this.size > 0) return;
    const waiters = this.idle;
    this.idle = [];
    for (const resolve of waiters) resolve();
  }
}
