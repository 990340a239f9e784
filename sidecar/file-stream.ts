// The source of one followed path: reads the head of its rotation chain (rotation-chain.ts)
// through that file's reader (file-reader.ts), hands each line to the path's one parser, and
// queues the records with the checkpoint of the tracker (checkpoint-tracker.ts). The files of a
// path are one byte stream: a line or a multi-line record that a rotation cut in two is read as
// one, exactly as `parse` reads the copies concatenated.
import { recordBatch, type BatchIntake, type SourceName, type StreamCheckpoint } from './batch.js';
import { CheckpointTracker } from './checkpoint-tracker.js';
import type { DomainIdentities } from './domain-identities.js';
import type { FileReader } from './file-reader.js';
import type { Logger } from '../runtime/log.js';
import type { Metrics } from './metrics.js';
import { LINE_INVALID_UTF8, LINE_TRUNCATED, type LogRecord, type RecordParser } from '../parsers/record.js';
import { RotationChain } from './rotation-chain.js';
import type { StartPlan } from './siblings.js';

/** Chunks read in a row before the event loop gets a turn (output completions, HTTP, timers). */
const CHUNKS_PER_TURN = 4;
/** How often a drained-but-maybe-still-written file is looked at again. */
const DRAIN_POLL_MS = 200;

export interface StreamOptions {
  readonly source: SourceName;
  readonly tag: string;
  readonly maxLineBytes: number;
  /** How long a rotated or deleted file is still watched for late writes. */
  readonly rotateWaitMs: number;
  /** Idle time after which records held by the parser (multi-line folding) are emitted. */
  readonly flushIdleMs: number;
  /** The pipeline: it encodes the records for the sink and queues them. */
  readonly intake: BatchIntake;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** The stream's parser; `uuid`: the domain's uuid where reading resumes (QEMU logs, from the checkpoint). */
  readonly newParser: (uuid: string | null) => RecordParser;
  /** Gives the records what is known of their domain's identity (and learns from them). */
  readonly identities: DomainIdentities;
}

export class FileStream {
  private readonly chain: RotationChain;
  private readonly tracker: CheckpointTracker<FileReader>;
  private parser: RecordParser;
  private pumping: Promise<void> | undefined;
  private wanted = false;
  private flushWanted = false;
  private linesSinceFlush = 0;
  private chunksInRow = 0;
  private lastLineAt = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Pokes (inotify) that arrive while begin() still opens files wait for it. */
  private begun = false;

  // What the reads since the last emit produced (reused to avoid allocations on the hot path).
  private out: LogRecord[] = [];
  /** The file whose lines the parser is being fed. */
  private current: FileReader | undefined;
  private chunkLines = 0;
  private chunkTruncated = 0;
  private chunkInvalid = 0;

  constructor(
    readonly path: string,
    private readonly opts: StreamOptions,
    since: number,
  ) {
    this.chain = new RotationChain(path, opts);
    this.tracker = new CheckpointTracker<FileReader>(since, () => this.parser.uuid ?? null);
    this.parser = opts.newParser(null);
  }

  get openFiles(): number {
    return this.chain.length;
  }

  /** The checkpoint as of the records produced so far. */
  checkpoint(): StreamCheckpoint {
    return this.tracker.checkpoint();
  }

  /** Opens the files of a start plan (in reading order) and begins reading. */
  async begin(plan: StartPlan): Promise<void> {
    await this.chain.open(plan.files);
    // What the checkpoint knew of the domain holds until the log says otherwise.
    if (plan.uuid !== undefined) this.parser = this.opts.newParser(plan.uuid);
    // Re-reading from the clean point produces the confirmed records again: drop that many.
    this.tracker.begin(this.chain.head, plan.skip);
    this.begun = true;
    this.poke();
  }

  /** Something may have changed (data, rename, truncation): read, then look at the path and the first bytes. */
  poke(): void {
    this.wanted = true;
    if (!this.pumping && !this.stopped && this.begun) this.pumping = this.pump().finally(() => (this.pumping = undefined));
  }

  /** The rescan's safety-net look: a full pass (read, identity and first-bytes checks) only when something changed. */
  recheck(): void {
    if (!this.pumping && !this.flushWanted && this.chain.unchangedSinceRead()) return;
    this.poke();
  }

  /** Stops reading; held records stay unconfirmed and are read again after a restart. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.flushTimer);
    clearTimeout(this.retryTimer);
    await this.pumping?.catch(() => undefined);
    await this.chain.close();
  }

  private async pump(): Promise<void> {
    try {
      while (this.wanted && !this.stopped) {
        this.wanted = false;
        await this.step();
      }
    } catch (err) {
      if (this.stopped) return;
      this.opts.log.warn(`${this.path}: ${(err as Error).message}`);
      this.opts.metrics.fileErrors.inc({ reason: 'io_error' });
      this.retryLater(1000);
    }
  }

  private async step(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const head = this.chain.head;
      if (!head) {
        const attached = await this.chain.attachCurrent();
        if (!attached) return;
        this.tracker.attached(attached);
        continue;
      }
      if (await this.readChunk(head)) {
        if (++this.chunksInRow >= CHUNKS_PER_TURN) {
          this.chunksInRow = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
        continue;
      }
      // head is at its end
      if (this.flushWanted) await this.flushIdle(head);
      if (head.detachedAt !== null) {
        // Deleted, or renamed while the new file did not exist yet: look for its successors.
        if (this.chain.length === 1) {
          await this.chain.followRotation();
          if (this.chain.length > 1) continue;
        }
        if (!(await this.chain.drained(head, this.opts.rotateWaitMs))) return this.retryLater(DRAIN_POLL_MS);
        await this.finishHead();
        continue;
      }
      const change = await this.chain.look(head);
      if (change === 'none') return;
      // No copy: the new content is unrelated to what the parser holds.
      if (change === 'truncated') await this.flushAt(head, 0);
      else if (change === 'copied') this.tracker.switchedTo(this.chain.head!);
    }
  }

  /** Reads one chunk of `reader` and queues its records; false at its end. */
  private async readChunk(reader: FileReader): Promise<boolean> {
    this.current = reader;
    const n = reader.read(this.onLine);
    if (n === 0) return false;
    const skipped = reader.takeSkipped();
    await reader.growFingerprint();
    this.opts.metrics.bytesRead.inc({ source: this.opts.source }, n);
    if (skipped) this.opts.metrics.truncatedBytes.inc({ source: this.opts.source }, skipped);
    await this.emit();
    return true;
  }

  private readonly onLine = (line: string, flags: number, end: number): void => {
    this.chunkLines++;
    if (flags & LINE_TRUNCATED) this.chunkTruncated++;
    if (flags & LINE_INVALID_UTF8) this.chunkInvalid++;
    const produced = this.parser.push(line, flags);
    if (produced.length) this.take(produced);
    this.tracker.lineEnded(this.current!, end, this.parser);
  };

  private take(produced: readonly LogRecord[]): void {
    for (let i = this.tracker.produced(produced.length); i < produced.length; i++) this.out.push(produced[i]!);
  }

  /** Hands on what the last read produced, with the stream's checkpoint; waits while the queue is full. */
  private async emit(force = false): Promise<void> {
    const { metrics, source } = this.opts;
    if (this.chunkLines) {
      metrics.linesRead.inc({ source }, this.chunkLines);
      this.linesSinceFlush += this.chunkLines;
      this.lastLineAt = Date.now();
      this.armFlush();
    }
    if (this.chunkTruncated) metrics.truncations.inc({ source }, this.chunkTruncated);
    if (this.chunkInvalid) metrics.invalidUtf8.inc({ source }, this.chunkInvalid);
    this.chunkLines = this.chunkTruncated = this.chunkInvalid = 0;
    const records = this.out;
    if (records.length === 0 && !force) return;
    this.out = [];
    const asking = this.opts.identities.identify(records);
    if (asking) {
      await asking;
      // libvirt named the domain the log has not named yet: the records that follow are the same domain's.
      const learnt = records.at(-1)?.uuid;
      if (this.parser.uuid === null && learnt !== undefined) this.parser.uuid = learnt;
    }
    await this.opts.intake.accept(recordBatch(source, this.opts.tag, records, [{ stream: this.path, at: this.checkpoint() }]));
  }

  private armFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      if (this.linesSinceFlush === 0) return;
      const idle = Date.now() - this.lastLineAt;
      if (idle >= this.opts.flushIdleMs) {
        this.flushWanted = true;
        this.poke();
      } else this.armFlush();
    }, this.opts.flushIdleMs).unref();
  }

  /** Emits what the parser holds; the parser is empty afterwards, so the checkpoint moves here. */
  private async flushAt(file: FileReader, offset: number): Promise<void> {
    this.take(this.parser.flush());
    this.linesSinceFlush = 0;
    this.flushWanted = false;
    // A line carried over from a finished file still began in that file.
    this.tracker.emptied(file, offset, file !== this.chain.head);
    await this.emit(true);
  }

  private async flushIdle(head: FileReader): Promise<void> {
    if (this.linesSinceFlush === 0) {
      this.flushWanted = false;
      return;
    }
    // Where the open line began: `head`, or the finished file whose last line `head` continues.
    const at = this.tracker.openLineStart(head);
    await this.flushAt(at, at.lineEnd);
  }

  /**
   * Closes a finished rotated/deleted file. Its successor continues the byte stream (virtlogd
   * rotates by size: inside the multi-line command line, or even inside a line), so an
   * unterminated last line and a record the parser holds carry over into it. With no successor,
   * they go out now.
   */
  private async finishHead(): Promise<void> {
    const done = await this.chain.finishHead();
    const next = this.chain.head;
    if (next) {
      // Only the head is ever read: the successor's own splitter has seen nothing yet.
      next.continues(done);
      if (!this.tracker.continued(next, this.parser.pending || done.pendingBytes > 0)) return;
    } else {
      this.current = done;
      done.finish(this.onLine);
      this.take(this.parser.flush());
      this.linesSinceFlush = 0;
      this.tracker.ended(done.mtimeMs);
    }
    await this.emit(true);
  }

  private retryLater(ms: number): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.poke();
    }, ms).unref();
  }
}
