// Fluent Forward entries, `[EventTime, record]` one after another (the body of a PackedForward
// message), written as msgpack by hand into one reused buffer. A record is a flat map of strings,
// numbers, booleans and nulls: a general msgpack encoder spends most of its time finding out per
// value what this writer knows (bench/RESULTS.md#sidecar). The bytes are the ones @msgpack/msgpack
// writes for the same entries (the smallest header for every length, fixext 8 for the time), so any
// msgpack reader takes them; test/unit/sidecar/forward-entries.test.ts checks both.
// Forward protocol v1: https://github.com/fluent/fluentd/wiki/Forward-Protocol-Specification-v1
import { slabCopy, withRoom } from './payload-slabs.js';

/** What the writer takes: a record's fields; `undefined` fields are left out, as JSON leaves them out. */
export type FlatRecord = { readonly time: string | null } & object;

/** msgpack ext type of Fluent's EventTime. */
const EVENT_TIME_EXT = 0;

let buf: Buffer = Buffer.allocUnsafe(1024 * 1024);
let pos = 0;

/** `[EventTime, record]` entries, concatenated, copied into a payload slab. */
export function forwardEntries(records: readonly FlatRecord[], now = Date.now()): Buffer {
  pos = 0;
  for (const record of records) {
    reserve(11);
    buf[pos++] = 0x92; // fixarray of 2
    writeEventTime(record.time, now);
    writeMap(record);
  }
  return slabCopy(buf, pos);
}

function reserve(bytes: number): void {
  buf = withRoom(buf, pos, bytes);
}

/**
 * EventTime as fixext 8: seconds and nanoseconds, each a big-endian uint32 (modulo 2^32, as
 * DataView.setUint32 writes them). A time that does not parse takes `fallbackMs`.
 */
function writeEventTime(iso: string | null | undefined, fallbackMs: number): void {
  let ms = iso ? Date.parse(iso) : NaN;
  let nanos: number;
  if (Number.isNaN(ms)) {
    ms = fallbackMs;
    nanos = (ms % 1000) * 1e6;
  } else nanos = fractionNanos(iso!);
  const seconds = Math.floor(ms / 1000);
  buf[pos] = 0xd7;
  buf[pos + 1] = EVENT_TIME_EXT;
  buf[pos + 2] = seconds >>> 24;
  buf[pos + 3] = seconds >>> 16;
  buf[pos + 4] = seconds >>> 8;
  buf[pos + 5] = seconds;
  buf[pos + 6] = nanos >>> 24;
  buf[pos + 7] = nanos >>> 16;
  buf[pos + 8] = nanos >>> 8;
  buf[pos + 9] = nanos;
  pos += 10;
}

/**
 * The first 9 digits after the first `.` followed by a digit, as nanoseconds: Date.parse keeps
 * milliseconds only, the record's time may carry µs (QEMU, journal) or ns (CRI).
 */
function fractionNanos(iso: string): number {
  let at = iso.indexOf('.') + 1;
  if (at === 0) return 0;
  if (!isDigit(iso.charCodeAt(at))) {
    const m = /\.(\d)/.exec(iso);
    if (!m) return 0;
    at = m.index + 1;
  }
  let nanos = 0;
  for (let i = 0; i < 9; i++) {
    const c = iso.charCodeAt(at);
    const digit = isDigit(c);
    nanos = nanos * 10 + (digit ? c - 48 : 0);
    if (digit) at++;
    else at = iso.length;
  }
  return nanos;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

function writeMap(record: object): void {
  const fields = record as Record<string, unknown>;
  // The header's size depends on the field count, known only after the walk: one byte (fixmap)
  // is reserved, the rare larger header moves the fields.
  reserve(1);
  const header = pos++;
  let count = 0;
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined) continue;
    count++;
    writeString(key);
    if (typeof value === 'string') writeString(value);
    else if (typeof value === 'number') writeNumber(value);
    else if (typeof value === 'boolean') {
      reserve(1);
      buf[pos++] = value ? 0xc3 : 0xc2;
    } else if (value === null) {
      reserve(1);
      buf[pos++] = 0xc0;
    } else throw new TypeError(`record field ${key} is a ${typeof value}; a Forward entry takes strings, numbers, booleans and null`);
  }
  if (count < 16) buf[header] = 0x80 | count;
  else {
    reserve(2);
    buf.copyWithin(header + 3, header + 1, pos);
    pos += 2;
    buf[header] = 0xde; // map 16
    buf.writeUInt16BE(count, header + 1);
  }
}

function writeString(s: string): void {
  const n = s.length;
  reserve(5 + n * 3);
  if (n < 32) {
    // Keys, kinds, levels: short and nearly always ASCII, where a loop beats a call into C++.
    let at = pos + 1;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return writeUtf8(s);
      buf[at++] = c;
    }
    buf[pos] = 0xa0 | n;
    pos = at;
    return;
  }
  writeUtf8(s);
}

/** Writes the UTF-8 behind the header its length in UTF-16 units asks for; moves it in the rare case the bytes need a larger one. */
function writeUtf8(s: string): void {
  const guess = stringHeaderLength(s.length);
  const bytes = buf.write(s, pos + guess);
  const header = stringHeaderLength(bytes);
  if (header !== guess) buf.copyWithin(pos + header, pos + guess, pos + guess + bytes);
  if (header === 1) buf[pos] = 0xa0 | bytes;
  else if (header === 2) {
    buf[pos] = 0xd9; // str 8
    buf[pos + 1] = bytes;
  } else if (header === 3) {
    buf[pos] = 0xda; // str 16
    buf.writeUInt16BE(bytes, pos + 1);
  } else {
    buf[pos] = 0xdb; // str 32
    buf.writeUInt32BE(bytes, pos + 1);
  }
  pos += header + bytes;
}

const stringHeaderLength = (bytes: number): number => (bytes < 32 ? 1 : bytes < 0x100 ? 2 : bytes < 0x10000 ? 3 : 5);

function writeNumber(n: number): void {
  reserve(9);
  if (!Number.isSafeInteger(n)) {
    buf[pos] = 0xcb; // float 64
    buf.writeDoubleBE(n, pos + 1);
    pos += 9;
  } else if (n >= 0) {
    if (n < 0x80) buf[pos++] = n;
    else if (n < 0x100) {
      buf[pos++] = 0xcc;
      buf[pos++] = n;
    } else if (n < 0x10000) {
      buf[pos] = 0xcd;
      pos = buf.writeUInt16BE(n, pos + 1);
    } else if (n < 0x100000000) {
      buf[pos] = 0xce;
      pos = buf.writeUInt32BE(n, pos + 1);
    } else {
      buf[pos] = 0xcf;
      buf.writeUInt32BE(Math.floor(n / 0x100000000), pos + 1);
      pos = buf.writeUInt32BE(n >>> 0, pos + 5);
    }
  } else if (n >= -0x20) buf[pos++] = 0xe0 | (n + 0x20);
  else if (n >= -0x80) {
    buf[pos] = 0xd0;
    pos = buf.writeInt8(n, pos + 1);
  } else if (n >= -0x8000) {
    buf[pos] = 0xd1;
    pos = buf.writeInt16BE(n, pos + 1);
  } else if (n >= -0x80000000) {
    buf[pos] = 0xd2;
    pos = buf.writeInt32BE(n, pos + 1);
  } else {
    buf[pos] = 0xd3;
    const high = Math.floor(n / 0x100000000);
    buf.writeInt32BE(high, pos + 1);
    pos = buf.writeUInt32BE(n - high * 0x100000000, pos + 5);
  }
}
