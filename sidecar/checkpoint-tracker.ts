// Where a followed path may resume once the records produced so far are confirmed. Parsers fold
// lines (QEMU's command-line block, CRI partials), so a byte offset alone cannot say which
// records are out: the resume point is where the parser was last empty (at a line start), plus
// how many records it has produced since, skipped when that part is read again. The checkpoint
// of each batch rides with it through the queue; the store saves it only after the output
// confirmed the batch (pipeline.ts), so a restart re-reads exactly what was not confirmed.
import type { FilePosition, StreamCheckpoint } from './batch.js';

/** A file of the stream as the tracker needs it: where its last complete line ended, and how a checkpoint names an offset in it. */
export interface TrackedFile {
  readonly lineEnd: number;
  positionAt(offset: number): FilePosition;
  /**
   * Its identity as known now: the fingerprint grows with the file and its birth time shows once
   * it was written to, so a position taken while it was young names it better with them. `epoch`
   * changes when the file is read again from its head (truncated): earlier positions then no
   * longer describe it.
   */
  identityNow?(): FileIdentityNow;
}

export interface FileIdentityNow {
  readonly epoch: number;
  readonly fpLen: number;
  readonly fpHash: string;
  readonly bornMs: number | undefined;
}

/** Whether the parser holds part of a record (lines of a multi-line record, not yet emitted). */
export interface ParserState {
  readonly pending: boolean;
}

export class CheckpointTracker<F extends TrackedFile = TrackedFile> {
  /** Where the parser was last empty (at a line start): a restart reads again from here. */
  private clean: FilePosition | null = null;
  /** The file `clean` lies in, and its identity epoch then. */
  private cleanFile: F | undefined;
  private cleanEpoch: number | undefined;
  /** The parser's uuid when it was last empty: a restart's parser starts with it. */
  private cleanUuid: string | null = null;
  /** Records produced since `clean`. */
  private sinceClean = 0;
  /**
   * `clean` lies in a file that was finished with a line or record still open, carried over
   * into its successor; it moves to the first line end after which the parser holds nothing.
   */
  private carried = false;
  /** Records still to drop after a restart (they were confirmed before it). */
  private toSkip = 0;
  /** When the path began to be followed, or the mtime of its last file when no file follows yet. */
  private floor: number;
  /** The file in which the last complete line ended: its `lineEnd` is where an open line began. */
  private lastLine: F | undefined;

  constructor(
    since: number,
    /** The parser's domain uuid (QEMU logs), asked whenever the parser is empty; null while unknown. */
    private readonly uuidNow: () => string | null = () => null,
  ) {
    this.floor = since;
  }

  /** The checkpoint as of the records produced so far. */
  checkpoint(): StreamCheckpoint {
    const at = { file: this.cleanPosition(), skip: this.sinceClean, since: this.floor };
    return this.cleanUuid === null ? at : { ...at, uuid: this.cleanUuid };
  }

  /** `clean`, naming its file by the identity known now (see TrackedFile.identityNow). */
  private cleanPosition(): FilePosition | null {
    const now = this.cleanFile?.identityNow?.();
    if (!this.clean || !now || now.epoch !== this.cleanEpoch || now.fpLen < this.clean.fpLen) return this.clean;
    const grown = { ...this.clean, fpLen: now.fpLen, fpHash: now.fpHash };
    return now.bornMs === undefined ? grown : { ...grown, bornMs: now.bornMs };
  }

  /** The parser is empty at `offset` of `file`: what it knows holds for what is read from there on. */
  private cleanAt(file: F | undefined, offset = 0): void {
    this.clean = file ? file.positionAt(offset) : null;
    this.cleanFile = file;
    this.cleanEpoch = file?.identityNow?.().epoch;
    this.cleanUuid = this.uuidNow();
  }

  /** Reading starts at `first`'s line end, where the parser is empty; the first `skip` records were confirmed before. */
  begin(first: F | undefined, skip: number): void {
    this.toSkip = skip;
    this.sinceClean = 0;
    if (!first) return;
    this.cleanAt(first, first.lineEnd);
    this.lastLine = first;
  }

  /** `count` records were produced; returns how many of them, from the first, to drop (confirmed before a restart). */
  produced(count: number): number {
    this.sinceClean += count;
    const drop = Math.min(this.toSkip, count);
    this.toSkip -= drop;
    return drop;
  }

  /** A complete line of `file` ended at `end` and went to the parser. */
  lineEnded(file: F, end: number, parser: ParserState): void {
    this.lastLine = file;
    if (this.carried && !parser.pending) {
      // The carried record is complete (its records are out with this batch): resume after this line.
      this.cleanAt(file, end);
      this.sinceClean = 0;
      this.carried = false;
    }
  }

  /** Where the open line (the one the splitter holds) began: the end of the last complete line. */
  openLineStart(fallback: F): F {
    return this.lastLine ?? fallback;
  }

  /**
   * The parser was emptied (flushed) at `offset` of `file`, its records produced: the checkpoint
   * moves here. `inFinishedFile`: `file` is done and an open line carries over into its successor.
   */
  emptied(file: F, offset: number, inFinishedFile: boolean): void {
    this.cleanAt(file, offset);
    this.carried = inFinishedFile;
    this.sinceClean = 0;
    this.toSkip = 0;
  }

  /**
   * The head file is finished and `next` continues the stream. With a line or a record open, the
   * checkpoint stays where the parser was last empty until that record is complete; false then:
   * nothing moved. Otherwise the checkpoint moves to where `next` is read from.
   */
  continued(next: F, open: boolean): boolean {
    if (open) {
      this.carried = true;
      return false;
    }
    this.cleanAt(next, next.lineEnd);
    this.lastLine = next;
    this.restarted();
    return true;
  }

  /**
   * The last file is finished with no successor, its records produced: files at the path newer
   * than this one (last modified at `mtimeMs`) are unread.
   */
  ended(mtimeMs: number): void {
    this.cleanAt(undefined);
    this.floor = mtimeMs;
    this.restarted();
  }

  /** A file at the path is read from its head; with no position yet, the checkpoint begins there. */
  attached(file: F): void {
    this.lastLine = file;
    if (this.clean !== null) return;
    this.cleanAt(file, 0);
    this.sinceClean = 0;
  }

  /** A copytruncate copy with the unread rest of the head is read first; the open line went on there. */
  switchedTo(copy: F): void {
    this.lastLine = copy;
  }

  private restarted(): void {
    this.carried = false;
    this.sinceClean = 0;
    this.toSkip = 0;
  }
}
