// The one line splitter of every log input (`parse` and the sidecar's sources): turns a byte
// stream into lines with the stream offset just past each line's newline, never holding more
// than the line limit of one line.
//
// Rules, the same for any chunking of the same bytes:
// - `\n` ends a line; a `\r` right before it belongs to the line end (CRLF), a `\r` elsewhere is
//   content;
// - a line longer than the limit keeps its first `maxLineBytes` (cut at a UTF-8 character
//   boundary), is flagged LINE_TRUNCATED, and the rest up to its newline is skipped and counted;
// - invalid UTF-8 is decoded with U+FFFD and flagged LINE_INVALID_UTF8;
// - a last line without a newline is delivered by finish().
import { isAscii, isUtf8 } from 'node:buffer';
import { LINE_INVALID_UTF8, LINE_TRUNCATED } from './record.js';

/** Default line limit of `parse` and the sidecar: far above any libvirt/QEMU line, far below anything that could hurt. */
export const DEFAULT_MAX_LINE_BYTES = 256 * 1024;

/** Receives one complete line (without its line end), its flags and the stream offset just past its newline. */
export type LineHandler = (line: string, flags: number, end: number) => void;

const NEWLINE = 0x0a;
const CR = 0x0d;

/** Largest length <= `length` that does not split a UTF-8 sequence at its end. */
function charBoundary(buf: Buffer, start: number, length: number): number {
  let end = start + length;
  // Step back over continuation bytes (10xxxxxx) to the lead byte, then drop the lead byte
  // too if its sequence would not fit.
  let back = 0;
  while (back < 3 && end - back > start && (buf[end - back - 1]! & 0xc0) === 0x80) back++;
  const lead = end - back - 1;
  if (lead >= start) {
    const b = buf[lead]!;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    if (need > back + 1) end = lead;
  }
  return end - start;
}

function decode(buf: Buffer, start: number, end: number): [string, number] {
  const text = buf.toString('utf8', start, end);
  // U+FFFD is rare in real logs, so the exact validity check runs only when one appears.
  if (text.includes('\ufffd') && !isUtf8(buf.subarray(start, end))) return [text, LINE_INVALID_UTF8];
  return [text, 0];
}

export class LineSplitter {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** Inside a line that already exceeded the limit: bytes are skipped up to its newline. */
  private overLong = false;
  /** Bytes skipped from over-long lines since the last call of takeSkipped(). */
  private skipped = 0;
  /** Bytes of one line held at most: the limit plus a `\r` that may turn out to be the line end. */
  private readonly holdLimit: number;

  constructor(readonly maxLineBytes: number = DEFAULT_MAX_LINE_BYTES) {
    this.holdLimit = maxLineBytes + 1;
  }

  /** Bytes of an unterminated line held back (0 when the stream ended at a newline). */
  get pendingBytes(): number {
    return this.carryBytes + (this.overLong ? 1 : 0);
  }

  /** Bytes of over-long lines skipped (not delivered) since the last call; a truncated line's `\r` counts. */
  takeSkipped(): number {
    const n = this.skipped;
    this.skipped = 0;
    return n;
  }

  /** Feeds `chunk`, whose first byte is at stream offset `start`. The chunk may be reused afterwards. */
  feed(chunk: Buffer, start: number, onLine: LineHandler): void {
    let pos = 0;
    if (this.carryBytes > 0 || this.overLong) {
      // The line held from the previous chunk ends at the first newline.
      const nl = chunk.indexOf(NEWLINE);
      if (nl === -1) return this.hold(chunk, 0, chunk.length);
      this.hold(chunk, 0, nl);
      this.emitCarry(start + nl + 1, onLine);
      pos = nl + 1;
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= pos) {
      if (isAscii(chunk.subarray(pos, last))) this.linesAscii(chunk, pos, last, start, onLine);
      else this.lines(chunk, pos, last, start, onLine);
      pos = last + 1;
    }
    this.hold(chunk, pos, chunk.length);
  }

  /** Emits a held unterminated line (the stream will not grow any more); false if none. */
  finish(end: number, onLine: LineHandler): boolean {
    if (this.carryBytes === 0 && !this.overLong) return false;
    this.emitCarry(end, onLine);
    return true;
  }

  /** Forgets a held partial line (its file was truncated under it). */
  reset(): void {
    this.carry = [];
    this.carryBytes = 0;
    this.overLong = false;
  }

  /**
   * The lines of `chunk[pos, last]` (`last` is a newline), all ASCII, the common case: one decode
   * for all of them, lines cut from that string (V8 slices share its characters), byte offsets =
   * string indexes.
   */
  private linesAscii(chunk: Buffer, pos: number, last: number, start: number, onLine: LineHandler): void {
    const text = chunk.toString('latin1', pos, last + 1);
    const base = start + pos;
    const max = this.maxLineBytes;
    for (let s = 0; s < text.length; ) {
      const nl = text.indexOf('\n', s);
      const e = nl > s && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
      if (e - s <= max) onLine(text.slice(s, e), 0, base + nl + 1);
      else {
        this.skipped += nl - s - max;
        onLine(text.slice(s, s + max), LINE_TRUNCATED, base + nl + 1);
      }
      s = nl + 1;
    }
  }

  /** The lines of `chunk[pos, last]` (`last` is a newline), one by one. */
  private lines(chunk: Buffer, pos: number, last: number, start: number, onLine: LineHandler): void {
    while (pos <= last) {
      const nl = chunk.indexOf(NEWLINE, pos);
      this.deliver(chunk, pos, nl, start + nl + 1, onLine);
      pos = nl + 1;
    }
  }

  /** One whole line `buf[s, nl)` (its newline excluded), not longer than the limit when over-long. */
  private deliver(buf: Buffer, s: number, nl: number, end: number, onLine: LineHandler): void {
    const e = nl > s && buf[nl - 1] === CR ? nl - 1 : nl;
    if (e - s <= this.maxLineBytes) {
      const [text, flags] = decode(buf, s, e);
      onLine(text, flags, end);
      return;
    }
    const keep = charBoundary(buf, s, this.maxLineBytes);
    const [text, flags] = decode(buf, s, s + keep);
    this.skipped += nl - s - keep;
    onLine(text, flags | LINE_TRUNCATED, end);
  }

  private hold(chunk: Buffer, start: number, end: number): void {
    if (end <= start) return;
    if (this.overLong) {
      this.skipped += end - start;
      return;
    }
    const room = this.holdLimit - this.carryBytes;
    if (end - start <= room) {
      this.carry.push(Buffer.from(chunk.subarray(start, end)));
      this.carryBytes += end - start;
      return;
    }
    // The line passes the limit here (even a `\r` at its end would not make it fit): keep what
    // fits, at a character boundary.
    const joined = Buffer.concat([...this.carry, chunk.subarray(start, start + room)]);
    const keep = charBoundary(joined, 0, this.maxLineBytes);
    this.skipped += joined.length - keep + (end - start - room);
    this.carry = [joined.subarray(0, keep)];
    this.carryBytes = keep;
    this.overLong = true;
  }

  private emitCarry(end: number, onLine: LineHandler): void {
    const joined = this.carry.length === 1 ? this.carry[0]! : Buffer.concat(this.carry);
    const overLong = this.overLong;
    this.reset();
    if (!overLong) return this.deliver(joined, 0, joined.length, end, onLine);
    const [text, flags] = decode(joined, 0, joined.length);
    onLine(text, flags | LINE_TRUNCATED, end);
  }
}
