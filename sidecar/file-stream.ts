// Follows one log path (`<dir>/<domain>.log`) across rotations with `tail -F` semantics:
// a renamed or deleted file is read to its end before the file that replaced it, a
// copytruncate copy supplies what the truncated file lost, and one parser sees the whole
// stream in order: the files of a path are one byte stream, so a line or a multi-line record
// that a rotation cut in two is read as one. Every batch carries the stream's checkpoint as of
// its last record.
import { stat } from 'node:fs/promises';
import { readSync, statSync, type Stats } from 'node:fs';
import { makeBatch, type Batch, type FilePosition, type RecordEncoder, type SourceName, type StreamCheckpoint } from './batch.js';
import { closeFd, fstatFd, openRegular, OpenError } from './fd.js';
import { FINGERPRINT_BYTES, fingerprintFd, startsWith, type FileIdentity } from './file-identity.js';
import { LineSplitter } from '../parsers/lines.js';
import type { Logger } from '../runtime/log.js';
import type { Metrics } from './metrics.js';
import { LINE_INVALID_UTF8, LINE_TRUNCATED, type LogRecord, type RecordParser } from '../parsers/record.js';
import type { ByteQueue } from './queue.js';
import { canHaveMoved, siblingsOf, successorOf, type PlannedFile, type StartPlan } from './siblings.js';

/** Bytes read per call: large enough for throughput; small enough that the objects made of one chunk die young (a 256 KiB chunk doubled the V8 heap). */
const CHUNK_BYTES = 64 * 1024;
/**
 * One read buffer for every stream: reads are synchronous and the splitter consumes a chunk
 * before anything else runs (a buffer per stream held 64 MiB for a thousand idle files).
 */
const readBuffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
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
  readonly queue: ByteQueue<Batch>;
  readonly encode: RecordEncoder;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly newParser: () => RecordParser;
}

interface Handle extends Omit<FileIdentity, 'fpLen' | 'fpHash'> {
  fpLen: number;
  fpHash: string;
  readonly fd: number;
  readonly name: string;
  /** Next byte to read. */
  readOffset: number;
  /** Offset just past the last complete line handed to the parser. */
  lineEnd: number;
  size: number;
  mtimeMs: number;
  /** When this file stopped being the one at the stream's path (renamed, deleted, or a copy). */
  detachedAt: number | null;
  lastGrowth: number;
  splitter: LineSplitter;
  /** A rotation overrun after this file was counted already. */
  overrunCounted?: boolean;
}

export class FileStream {
  private files: Handle[] = [];
  private parser: RecordParser;
  /** Where the parser was last empty (at a line start): a restart reads again from here. */
  private clean: FilePosition | null = null;
  /** Records produced since `clean`. */
  private sinceClean = 0;
  /**
   * `clean` lies in a file that was finished with a line or record still open, carried over
   * into its successor; it moves to the first line end after which the parser holds nothing.
   */
  private cleanBehind = false;
  /** The file in which the last complete line ended; its `lineEnd` is where the open line began. */
  private lastLineFile: Handle | undefined;
  /** Records still to drop after a restart (they were confirmed before it). */
  private toSkip = 0;
  private floor: number;
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
  private readonly failures = new Set<string>();

  // Per-chunk collection (reused to avoid allocations on the hot path).
  private out: LogRecord[] = [];
  private current: Handle | undefined;
  private chunkLines = 0;
  private chunkTruncated = 0;
  private chunkInvalid = 0;

  constructor(
    readonly path: string,
    private readonly opts: StreamOptions,
    since: number,
  ) {
    this.parser = opts.newParser();
    this.floor = since;
  }

  get openFiles(): number {
    return this.files.length;
  }

  /** The checkpoint as of the records produced so far. */
  checkpoint(): StreamCheckpoint {
    return { file: this.clean, skip: this.sinceClean, since: this.floor };
  }

  /** Opens the files of a start plan (in reading order) and begins reading. */
  async begin(plan: StartPlan): Promise<void> {
    for (const f of plan.files) {
      const h = await this.openRotated(f);
      if (h) this.files.push(h);
    }
    // Re-reading from the clean point produces the confirmed records again: drop that many.
    this.toSkip = plan.skip;
    this.sinceClean = 0;
    const first = this.files[0];
    if (first) {
      this.clean = this.positionOf(first, first.lineEnd);
      this.lastLineFile = first;
    }
    this.begun = true;
    this.poke();
  }

  /** Something may have changed (data, rename, truncation): read, then look at the path and the first bytes. */
  poke(): void {
    this.wanted = true;
    if (!this.pumping && !this.stopped && this.begun) this.pumping = this.pump().finally(() => (this.pumping = undefined));
  }

  /**
   * The rescan's safety-net look, cheap enough for a thousand idle files: one stat of the path,
   * and a full pass (read, identity and first-bytes checks) only when something changed.
   */
  recheck(): void {
    const head = this.files[0];
    if (head && this.files.length === 1 && head.detachedAt === null && !this.pumping && !this.flushWanted) {
      // Synchronous: a thousand thread-pool round trips per rescan cost more than the stats
      // themselves (a local directory answers in microseconds).
      const st = statSync(this.path, { throwIfNoEntry: false });
      if (st && st.ino === head.ino && st.dev === head.dev && st.size === head.readOffset && st.mtimeMs === head.mtimeMs) return;
    }
    this.poke();
  }

  /** Stops reading; held records stay unconfirmed and are read again after a restart. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.flushTimer);
    clearTimeout(this.retryTimer);
    await this.pumping?.catch(() => undefined);
    for (const h of this.files) await closeFd(h.fd);
    this.opts.metrics.filesWatched.dec({ source: this.opts.source }, this.files.length);
    this.files = [];
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
      const head = this.files[0];
      if (!head) {
        if (!(await this.attachCurrent())) return;
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
        if (this.files.length === 1) {
          await this.followRotation();
          if (this.files.length > 1) continue;
        }
        if (!(await this.drained(head))) return this.retryLater(DRAIN_POLL_MS);
        await this.finishHead(head);
        continue;
      }
      if (!(await this.checkPath(head))) return;
    }
  }

  /** Reads one chunk of `h`; false at its end. */
  private async readChunk(h: Handle): Promise<boolean> {
    // Synchronous: a regular file's data is in the page cache as a rule (just written), and a
    // round trip through the thread pool cost a fifth of the sidecar's CPU time.
    const n = readSync(h.fd, readBuffer, 0, CHUNK_BYTES, h.readOffset);
    if (n === 0) return false;
    const start = h.readOffset;
    h.readOffset += n;
    this.current = h;
    h.splitter.feed(readBuffer.subarray(0, n), start, this.onLine);
    h.lastGrowth = Date.now();
    if (h.readOffset > h.size) h.size = h.readOffset;
    const skipped = h.splitter.takeSkipped();
    if (h.fpLen < FINGERPRINT_BYTES && h.fpLen < h.readOffset) await this.refreshFingerprint(h);
    this.opts.metrics.bytesRead.inc({ source: this.opts.source }, n);
    if (skipped) this.opts.metrics.truncatedBytes.inc({ source: this.opts.source }, skipped);
    await this.emit();
    return true;
  }

  private readonly onLine = (line: string, flags: number, end: number): void => {
    const h = this.current!;
    h.lineEnd = end;
    this.lastLineFile = h;
    this.chunkLines++;
    if (flags & LINE_TRUNCATED) this.chunkTruncated++;
    if (flags & LINE_INVALID_UTF8) this.chunkInvalid++;
    const produced = this.parser.push(line, flags);
    if (produced.length) this.take(produced);
    if (this.cleanBehind && !this.parser.pending) {
      // The carried record is complete (its records are in this batch): resume after this line.
      this.clean = this.positionOf(h, end);
      this.sinceClean = 0;
      this.cleanBehind = false;
    }
  };

  private take(produced: readonly LogRecord[]): void {
    this.sinceClean += produced.length;
    let from = 0;
    if (this.toSkip > 0) {
      from = Math.min(this.toSkip, produced.length);
      this.toSkip -= from;
    }
    for (let i = from; i < produced.length; i++) this.out.push(produced[i]!);
  }

  /** Queues what the last read produced, with the stream's checkpoint; waits while the queue is full. */
  private async emit(force = false): Promise<void> {
    const { metrics, source } = { metrics: this.opts.metrics, source: this.opts.source };
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
    await this.opts.queue.put(makeBatch(source, this.opts.tag, records, this.opts.encode, [{ stream: this.path, at: this.checkpoint() }]));
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
  private async flushAt(h: Handle, offset: number): Promise<void> {
    this.take(this.parser.flush());
    this.linesSinceFlush = 0;
    this.flushWanted = false;
    this.clean = this.positionOf(h, offset);
    // A line carried over from a finished file still began in that file.
    this.cleanBehind = h !== this.files[0];
    this.sinceClean = 0;
    this.toSkip = 0;
    await this.emit(true);
  }

  private async flushIdle(h: Handle): Promise<void> {
    if (this.linesSinceFlush === 0) {
      this.flushWanted = false;
      return;
    }
    // Where the open line began: `h`, or the finished file whose last line `h` continues.
    const at = this.lastLineFile ?? h;
    await this.flushAt(at, at.lineEnd);
  }

  /** A detached file at its end is done when its successor has data or it stayed quiet for rotate-wait. */
  private async drained(h: Handle): Promise<boolean> {
    const next = this.files[1];
    if (next) {
      const st = await fstatFd(next.fd);
      if (st.size > 0) return true;
    }
    return Date.now() - Math.max(h.lastGrowth, h.detachedAt!) >= this.opts.rotateWaitMs;
  }

  /**
   * Closes a finished rotated/deleted file. Its successor continues the byte stream (virtlogd
   * rotates by size: inside the multi-line command line, or even inside a line), so an
   * unterminated last line and a record the parser holds carry over into it, and the checkpoint
   * stays where the parser was last empty until that record is complete. With no successor,
   * they go out now.
   */
  private async finishHead(h: Handle): Promise<void> {
    this.files.shift();
    await closeFd(h.fd);
    this.opts.metrics.filesWatched.dec({ source: this.opts.source });
    const next = this.files[0];
    if (next) {
      // Only the head is ever read: the successor's own splitter has seen nothing yet.
      next.splitter = h.splitter;
      if (this.parser.pending || h.splitter.pendingBytes > 0) {
        this.cleanBehind = true;
        return;
      }
      this.clean = this.positionOf(next, next.lineEnd);
      this.lastLineFile = next;
    } else {
      this.current = h;
      h.splitter.finish(h.readOffset, this.onLine);
      this.take(this.parser.flush());
      this.linesSinceFlush = 0;
      // Nothing follows yet: files at this path newer than this one are unread.
      this.clean = null;
      this.floor = h.mtimeMs;
    }
    this.cleanBehind = false;
    this.sinceClean = 0;
    this.toSkip = 0;
    await this.emit(true);
  }

  /** Opens the file now at the stream's path (from its head); false if there is none. */
  private async attachCurrent(): Promise<boolean> {
    const h = await this.openHandle(this.path, 0, false);
    if (!h) return false;
    this.files.push(h);
    this.lastLineFile = h;
    if (this.clean === null) {
      this.clean = this.positionOf(h, 0);
      this.sinceClean = 0;
    }
    return true;
  }

  /**
   * The newest file we hold was renamed. A fast writer may have rotated several times since:
   * open its successors one by one along the rotation chain, up to the file now at the path,
   * so that no intermediate file is skipped.
   */
  private async followRotation(): Promise<void> {
    for (let step = 0; step < 64; step++) {
      const newest = this.files[this.files.length - 1]!;
      const next = await successorOf(this.path, newest);
      if (next.kind === 'at_path') {
        newest.detachedAt = null;
        return;
      }
      newest.detachedAt ??= Date.now();
      if (next.kind === 'none') return;
      if (next.kind === 'gone') return this.afterOverrun(newest);
      const h = await this.openRotated({ path: next.path, ino: next.ino, bornMs: next.bornMs, offset: 0, detached: true });
      if (h) this.files.push(h);
    }
  }

  /**
   * The newest file we hold left the chain (rotated past the last backup, or deleted) before its
   * successor was opened. Its successors are the files written after it; whether whole files
   * went by unseen in between cannot be known (timestamps tie within a burst), so an overrun is
   * counted and logged, not a drop.
   */
  private async afterOverrun(newest: Handle): Promise<void> {
    const last = await fstatFd(newest.fd);
    // Still linked: the listings raced a rotation and missed it; look again at the next poll.
    if (last.nlink > 0) return;
    const held = new Set(this.files.map((f) => `${f.dev}:${f.ino}`));
    const newer = (await siblingsOf(this.path)).filter((s) => !held.has(`${s.dev}:${s.ino}`) && s.mtimeMs >= last.mtimeMs);
    // A file deleted and created again has no rotated copy newer than itself.
    if (newer.some((s) => !s.isBase) && !newest.overrunCounted) {
      newest.overrunCounted = true;
      this.opts.metrics.rotationOverruns.inc({ source: this.opts.source });
      this.opts.log.warn(
        `${this.path}: ${newest.name} (inode ${newest.ino}) was rotated past the last backup before its successor was opened; whole rotated files written in between may have been lost`,
      );
    }
    for (const s of newer) {
      // A listing raced by a rotation can show one file under two names.
      if (held.has(`${s.dev}:${s.ino}`)) continue;
      const h = await this.openRotated({ path: s.path, ino: s.ino, bornMs: s.bornMs, offset: 0, detached: true });
      if (!h) continue;
      this.files.push(h);
      held.add(`${h.dev}:${h.ino}`);
    }
    const last2 = this.files[this.files.length - 1]!;
    if (last2 !== newest) await this.followRotation();
  }

  /** Looks at the path: same file (maybe truncated), a new file, or none. False: nothing to do now. */
  private async checkPath(h: Handle): Promise<boolean> {
    let st: Stats | undefined;
    try {
      st = await stat(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (!st) {
      h.detachedAt = Date.now();
      this.opts.metrics.rotations.inc({ type: 'delete' });
      return true;
    }
    if (st.ino !== h.ino || st.dev !== h.dev) {
      h.detachedAt = Date.now();
      this.opts.metrics.rotations.inc({ type: 'rename' });
      await this.followRotation();
      return true;
    }
    const fst = await fstatFd(h.fd);
    h.size = fst.size;
    h.mtimeMs = fst.mtimeMs;
    // Truncated and written again past our offset before we looked: only the first bytes tell.
    let truncated = fst.size < h.readOffset;
    if (!truncated && h.fpLen > 0) truncated = !(await startsWith(h.fd, h));
    if (!truncated) return false;
    await this.truncated(h);
    return true;
  }

  /**
   * The file was truncated (copytruncate, or a writer that truncates). A copytruncate copy
   * next to it still starts with our fingerprint: read what we had not read from there first.
   */
  private async truncated(h: Handle): Promise<void> {
    this.opts.metrics.rotations.inc({ type: 'truncate' });
    let drained: Handle | undefined;
    // Newest copy first: the one made by this truncation starts with the bytes we fingerprinted.
    for (const copy of (await siblingsOf(this.path)).reverse()) {
      if (copy.ino === h.ino || copy.size <= h.lineEnd) continue;
      const candidate = await this.openHandle(copy.path, h.lineEnd, true, copy.ino);
      if (candidate && (await startsWith(candidate.fd, h))) {
        drained = candidate;
        break;
      }
      if (candidate) await this.discard(candidate);
    }
    const lost = drained ? 0 : Math.max(0, h.size - h.lineEnd);
    if (!drained && h.readOffset > h.lineEnd)
      this.opts.log.warn(`${this.path}: truncated with a partial line unread and no copy found`);
    if (lost) this.opts.metrics.drops.inc({ reason: 'truncated_unread' });
    h.splitter.reset();
    h.readOffset = 0;
    h.lineEnd = 0;
    Object.assign(h, await fingerprintFd(h.fd, (await fstatFd(h.fd)).size));
    if (drained) {
      this.files.unshift(drained);
      this.lastLineFile = drained;
      return;
    }
    // No copy: the new content is unrelated to what the parser holds.
    await this.flushAt(h, 0);
  }

  /**
   * Opens a file of the rotation chain by its inode: rotation may have renamed it since it was
   * listed, so it is looked for among the siblings again: only at an older name than where it
   * was, and born when it was, since a deleted file's inode number goes to a newer file at once.
   * Undefined when it is gone: rotated past the last backup before we could open it, which is
   * logged and counted.
   */
  private async openRotated(file: PlannedFile): Promise<Handle | undefined> {
    const { path, ino, bornMs, offset, detached } = file;
    let at = path;
    for (let attempt = 0; attempt < 8; attempt++) {
      const h = await this.openHandle(at, offset, detached || at !== path, ino, bornMs);
      if (h) return h;
      const from = at;
      const found = (await siblingsOf(this.path)).find((s) => s.ino === ino && (bornMs === undefined || s.bornMs === bornMs));
      if (!found) break;
      if (found.path === at) return undefined; // there, but unreadable: counted by openHandle
      if (!canHaveMoved(this.path, from, found.path)) break;
      at = found.path;
    }
    this.opts.metrics.drops.inc({ reason: 'rotation_overrun' });
    this.opts.log.warn(`${this.path}: ${path} (inode ${ino}) was rotated past the last backup before it could be opened; its unread lines are lost`);
    return undefined;
  }

  private async discard(h: Handle): Promise<void> {
    await closeFd(h.fd);
    this.opts.metrics.filesWatched.dec({ source: this.opts.source });
  }

  private async openHandle(path: string, offset: number, detached: boolean, expectIno?: number, expectBornMs?: number): Promise<Handle | undefined> {
    let opened: { fd: number; stats: Stats };
    try {
      opened = await openRegular(path);
    } catch (err) {
      if (err instanceof OpenError) {
        if (err.reason !== 'missing' && !this.failures.has(`${path}:${err.reason}`)) {
          // Counted and logged once per path and reason, however often the rescan retries it.
          this.failures.add(`${path}:${err.reason}`);
          this.opts.metrics.fileErrors.inc({ reason: err.reason });
          this.opts.log.warn(`${err.message}; skipped (retried at each rescan)`);
        }
        return undefined;
      }
      throw err;
    }
    const { fd, stats } = opened;
    if ((expectIno !== undefined && stats.ino !== expectIno) || (expectBornMs !== undefined && stats.birthtimeMs !== expectBornMs)) {
      await closeFd(fd);
      return undefined;
    }
    for (const key of this.failures) if (key.startsWith(`${path}:`)) this.failures.delete(key);
    const fp = await fingerprintFd(fd, stats.size);
    this.opts.metrics.filesWatched.inc({ source: this.opts.source });
    const now = Date.now();
    return {
      fd,
      name: path,
      dev: stats.dev,
      ino: stats.ino,
      ...fp,
      readOffset: offset,
      lineEnd: offset,
      size: stats.size,
      mtimeMs: stats.mtimeMs,
      detachedAt: detached ? now : null,
      lastGrowth: now,
      splitter: new LineSplitter(this.opts.maxLineBytes),
    };
  }

  private positionOf(h: Handle, offset: number): FilePosition {
    return { dev: h.dev, ino: h.ino, fpLen: h.fpLen, fpHash: h.fpHash, offset, mtimeMs: h.mtimeMs };
  }

  private async refreshFingerprint(h: Handle): Promise<void> {
    const fp = await fingerprintFd(h.fd, Math.min(h.readOffset, FINGERPRINT_BYTES));
    h.fpLen = fp.fpLen;
    h.fpHash = fp.fpHash;
  }

  private retryLater(ms: number): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.poke();
    }, ms).unref();
  }
}

