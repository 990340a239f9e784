// Splits a byte stream into lines with bounded memory: `\n` or `\r\n` ends a line; a line longer
// than the limit is cut to the limit and flagged (the rest up to its newline is skipped, never
// buffered); invalid UTF-8 is decoded with U+FFFD and flagged; a last line without a newline is
// still delivered.

import { isUtf8 } from 'node:buffer';
import { LINE_INVALID_UTF8, LINE_TRUNCATED } from './record.js';

/** Default line limit: far above any libvirt/QEMU line, far below anything that could hurt. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

export type LineSink = (line: string, flags: number) => void;

const NEWLINE = 0x0a;
const CR = 13;

export class LineSplitter {
  /** Bytes of an unfinished line (no newline seen yet), at most `maxLineBytes`. */
  private pending: Buffer | null = null;
  /** An over-long line was already delivered cut; skip its bytes up to the next newline. */
  private skipping = false;

  constructor(
    private readonly sink: LineSink,
    private readonly maxLineBytes: number = DEFAULT_MAX_LINE_BYTES,
  ) {}

  write(chunk: Buffer): void {
    let start = 0;
    if (this.skipping) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl === -1) return;
      this.skipping = false;
      start = nl + 1;
    }
    if (this.pending !== null) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      const joined = Buffer.concat([this.pending, chunk.subarray(start, end)]);
      this.pending = null;
      if (nl === -1) {
        this.keepPending(joined);
        return;
      }
      this.deliverBytes(joined, 0, joined.length);
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= start) {
      this.deliverRegion(chunk.subarray(start, last));
      start = last + 1;
    }
    if (start < chunk.length) this.keepPending(Buffer.from(chunk.subarray(start)));
  }

  /** Delivers the last line if the input did not end with a newline. */
  end(): void {
    const pending = this.pending;
    this.pending = null;
    this.skipping = false;
    if (pending !== null) this.deliverBytes(pending, 0, pending.length);
  }

  private keepPending(bytes: Buffer): void {
    if (bytes.length <= this.maxLineBytes) {
      this.pending = bytes;
      return;
    }
    this.deliverBytes(bytes, 0, bytes.length);
    this.skipping = true;
  }

  /** Complete lines separated by `\n`, the last one without its newline. */
  private deliverRegion(region: Buffer): void {
    if (!isUtf8(region)) {
      // Rare: find the offending lines one by one.
      let s = 0;
      for (let nl = region.indexOf(NEWLINE); nl !== -1; nl = region.indexOf(NEWLINE, s)) {
        this.deliverBytes(region, s, nl);
        s = nl + 1;
      }
      this.deliverBytes(region, s, region.length);
      return;
    }
    const text = region.toString('utf8');
    // All ASCII: string offsets are byte offsets, so the limit can be checked on lengths.
    const ascii = text.length === region.length;
    let s = 0;
    for (;;) {
      const nl = text.indexOf('\n', s);
      const e = nl === -1 ? text.length : nl;
      const end = e > s && text.charCodeAt(e - 1) === CR ? e - 1 : e;
      if (ascii) {
        if (end - s > this.maxLineBytes) this.sink(text.slice(s, s + this.maxLineBytes), LINE_TRUNCATED);
        else this.sink(text.slice(s, end), 0);
      } else {
        const line = text.slice(s, end);
        if (line.length * 3 <= this.maxLineBytes || Buffer.byteLength(line) <= this.maxLineBytes) this.sink(line, 0);
        else this.deliverLong(Buffer.from(line));
      }
      if (nl === -1) return;
      s = nl + 1;
    }
  }

  /** One line given as bytes [s, e) without its newline. */
  private deliverBytes(bytes: Buffer, s: number, e: number): void {
    if (e > s && bytes[e - 1] === CR) e--;
    if (e - s > this.maxLineBytes) {
      this.deliverLong(bytes.subarray(s, e));
      return;
    }
    const line = bytes.subarray(s, e);
    this.sink(line.toString('utf8'), isUtf8(line) ? 0 : LINE_INVALID_UTF8);
  }

  private deliverLong(bytes: Buffer): void {
    const cut = bytes.subarray(0, this.maxLineBytes);
    // A multi-byte character cut in half at the limit is not an encoding error of the input.
    const flags = LINE_TRUNCATED | (isUtf8(bytes) ? 0 : LINE_INVALID_UTF8);
    this.sink(cut.toString('utf8'), flags);
  }
}
