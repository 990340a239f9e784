// How records become the bytes an output writes, by name: each sink names the encoding it takes,
// and the pipeline encodes a source's batch with it as the batch enters the queue (pipeline.ts says
// why not after), so no output's code runs inside a source. Encoded payloads go into reused slabs
// (payload-slabs.ts), given back once the output confirmed them.
import { Encoder, ExtData } from '@msgpack/msgpack';
import type { LogRecord } from '../parsers/record.js';
import { slabCopy } from './payload-slabs.js';

export type RecordEncoder = (records: readonly LogRecord[]) => Buffer;

let pool = Buffer.allocUnsafe(1024 * 1024);

/**
 * One JSON object per line, as stdout and the file output write them. Each line is written
 * into a reused buffer: one large string converted at the end costs several times more.
 */
export function encodeJsonLines(records: readonly LogRecord[]): Buffer {
  let length = 0;
  for (const record of records) {
    const text = JSON.stringify(record);
    const worst = length + text.length * 3 + 1;
    if (worst > pool.length) {
      const grown = Buffer.allocUnsafe(Math.max(pool.length * 2, worst));
      pool.copy(grown, 0, 0, length);
      pool = grown;
    }
    length += pool.write(text, length);
    pool[length++] = 0x0a;
  }
  return slabCopy(pool, length);
}

export const EVENT_TIME_EXT = 0;

const msgpack = new Encoder({ ignoreUndefined: true });

/** EventTime: seconds and nanoseconds, each a big-endian uint32. */
export function eventTime(iso: string | null | undefined, fallbackMs: number): ExtData {
  let ms = iso ? Date.parse(iso) : NaN;
  let nanos: number;
  if (Number.isNaN(ms)) {
    ms = fallbackMs;
    nanos = (ms % 1000) * 1e6;
  } else nanos = fractionNanos(iso!);
  const seconds = Math.floor(ms / 1000);
  // What DataView.setUint32 writes (both take the value modulo 2^32), without a DataView per record.
  const data = new Uint8Array(8);
  data[0] = seconds >>> 24;
  data[1] = seconds >>> 16;
  data[2] = seconds >>> 8;
  data[3] = seconds;
  data[4] = nanos >>> 24;
  data[5] = nanos >>> 16;
  data[6] = nanos >>> 8;
  data[7] = nanos;
  return new ExtData(EVENT_TIME_EXT, data);
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

/** Length of a msgpack array header at `bytes[0]`. */
function arrayHeaderLength(bytes: Uint8Array): number {
  const b = bytes[0]!;
  if (b >= 0x90 && b <= 0x9f) return 1;
  if (b === 0xdc) return 3;
  if (b === 0xdd) return 5;
  throw new Error(`not a msgpack array (0x${b.toString(16)})`);
}

export interface TimedRecord {
  readonly time: string | null;
}

/** `[EventTime, record]` entries, concatenated: the body of a PackedForward message. */
export function forwardEntries(records: readonly TimedRecord[], now = Date.now()): Buffer {
  const entries = records.map((r) => [eventTime(r.time, now), r]);
  // One encode of the array, minus its header, is exactly the concatenated entries.
  const all = msgpack.encodeSharedRef(entries);
  const header = arrayHeaderLength(all);
  return slabCopy(Buffer.from(all.buffer, all.byteOffset + header, all.length - header), all.length - header);
}

export const ENCODINGS = {
  /** One JSON object per line (stdout, file). */
  json_lines: encodeJsonLines,
  /** Fluent Forward `[EventTime, record]` entries, concatenated: a PackedForward message's body. */
  forward_entries: (records: readonly LogRecord[]): Buffer => forwardEntries(records),
} satisfies Record<string, RecordEncoder>;

export type EncodingName = keyof typeof ENCODINGS;
