// A reader of one open file of a followed path: its identity, the byte offsets read and handed on
// as complete lines, and the line splitter of the stream's bytes (parsers/lines.ts). It reads;
// deciding which file to read next is the rotation chain's job (rotation-chain.ts).
import { readSync, type Stats } from 'node:fs';
import type { FilePosition } from './batch.js';
import type { FileIdentityNow } from './checkpoint-tracker.js';
import { closeFd, fstatFd } from './fd.js';
import { bornMsOf, FINGERPRINT_BYTES, fingerprintFd, startsWith } from './file-identity.js';
import { LineSplitter, type LineHandler } from '../parsers/lines.js';

/** Bytes read per call: large enough for throughput; small enough that the objects made of one chunk die young (bench/RESULTS.md#sidecar). */
const CHUNK_BYTES = 64 * 1024;
/**
 * One read buffer for every reader: reads are synchronous and the splitter consumes a chunk
 * before anything else runs (a buffer per file would cost memory per idle file).
 */
const readBuffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);

export class FileReader {
  readonly dev: number;
  readonly ino: number;
  /** See bornMsOf: unknown while the file is as it was created (btime equals ctime), learnt once it was written to. */
  bornMs: number | undefined;
  /** Bumped when the file is read again from its head (truncated): positions taken before no longer describe it. */
  private epoch = 0;
  /** How many leading bytes `fpHash` covers; grows with the file up to FINGERPRINT_BYTES. */
  fpLen: number;
  fpHash: string;
  /** Next byte to read. */
  readOffset: number;
  /** Offset just past the last complete line handed on. */
  lineEnd: number;
  size: number;
  mtimeMs: number;
  /** When this file stopped being the one at the stream's path (renamed, deleted, or a copy). */
  detachedAt: number | null;
  lastGrowth: number;
  /** A rotation overrun after this file was counted already. */
  overrunCounted = false;
  /** The stream's splitter: a successor takes it over, with the unterminated line it may hold. */
  private splitter: LineSplitter;
  private handler: LineHandler | undefined;

  constructor(
    readonly fd: number,
    /** The name it was opened under. */
    readonly name: string,
    stats: Stats,
    fp: { fpLen: number; fpHash: string },
    offset: number,
    detached: boolean,
    maxLineBytes: number,
  ) {
    const now = Date.now();
    this.dev = stats.dev;
    this.ino = stats.ino;
    this.bornMs = bornMsOf(stats);
    this.fpLen = fp.fpLen;
    this.fpHash = fp.fpHash;
    this.readOffset = offset;
    this.lineEnd = offset;
    this.size = stats.size;
    this.mtimeMs = stats.mtimeMs;
    this.detachedAt = detached ? now : null;
    this.lastGrowth = now;
    this.splitter = new LineSplitter(maxLineBytes);
  }

  /** Bytes of an unterminated line held back (it continues in a successor, if there is one). */
  get pendingBytes(): number {
    return this.splitter.pendingBytes;
  }

  /**
   * Reads the next chunk and hands its complete lines to `onLine`; returns the bytes read (0 at
   * the end). Synchronous: a regular file's data is in the page cache as a rule (just written),
   * and a round trip through the thread pool costs more than the read (bench/RESULTS.md#sidecar).
   */
  read(onLine: LineHandler): number {
    const n = readSync(this.fd, readBuffer, 0, CHUNK_BYTES, this.readOffset);
    if (n === 0) return 0;
    const start = this.readOffset;
    this.readOffset += n;
    this.handler = onLine;
    this.splitter.feed(readBuffer.subarray(0, n), start, this.onLine);
    this.lastGrowth = Date.now();
    if (this.readOffset > this.size) this.size = this.readOffset;
    return n;
  }

  /** Hands on the unterminated last line, if any: the file will not grow any more and has no successor. */
  finish(onLine: LineHandler): void {
    this.handler = onLine;
    this.splitter.finish(this.readOffset, this.onLine);
  }

  private readonly onLine = (line: string, flags: number, end: number): void => {
    this.lineEnd = end;
    this.handler!(line, flags, end);
  };

  /** Bytes of over-long lines skipped since the last call. */
  takeSkipped(): number {
    return this.splitter.takeSkipped();
  }

  /** The successor of `finished` continues its byte stream: an unterminated line carries over. */
  continues(finished: FileReader): void {
    this.splitter = finished.splitter;
  }

  /** The fingerprint covers the first bytes once the file has them (it may have been empty when opened). */
  async growFingerprint(): Promise<void> {
    if (this.fpLen >= FINGERPRINT_BYTES || this.fpLen >= this.readOffset) return;
    const fp = await fingerprintFd(this.fd, Math.min(this.readOffset, FINGERPRINT_BYTES));
    this.fpLen = fp.fpLen;
    this.fpHash = fp.fpHash;
    this.bornMs ??= bornMsOf(await fstatFd(this.fd));
  }

  /** Size and mtime as the file is now. */
  async restat(): Promise<void> {
    const st = await fstatFd(this.fd);
    this.size = st.size;
    this.mtimeMs = st.mtimeMs;
  }

  /** Whether the file was truncated under us: shorter than what we read, or other first bytes (truncated and written again). */
  async wasTruncated(): Promise<boolean> {
    if (this.size < this.readOffset) return true;
    return this.fpLen > 0 && !(await startsWith(this.fd, this));
  }

  /** Whether the file at `fd` (a copytruncate copy) starts with the bytes this one started with. */
  sameStartAs(fd: number): Promise<boolean> {
    return startsWith(fd, this);
  }

  /** After a truncation: read from the head again, with what it holds now as its identity. */
  async restart(): Promise<void> {
    this.epoch++;
    this.splitter.reset();
    this.readOffset = 0;
    this.lineEnd = 0;
    Object.assign(this, await fingerprintFd(this.fd, (await fstatFd(this.fd)).size));
  }

  /** Where `offset` of this file is, as a checkpoint names it. */
  positionAt(offset: number): FilePosition {
    const at = { dev: this.dev, ino: this.ino, fpLen: this.fpLen, fpHash: this.fpHash, offset, mtimeMs: this.mtimeMs };
    return this.bornMs === undefined ? at : { ...at, bornMs: this.bornMs };
  }

  identityNow(): FileIdentityNow {
    return { epoch: this.epoch, fpLen: this.fpLen, fpHash: this.fpHash, bornMs: this.bornMs };
  }

  close(): Promise<void> {
    return closeFd(this.fd);
  }
}
