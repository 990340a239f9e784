// How records become the bytes an output writes, by name: each sink names the encoding it takes,
// and the pipeline encodes a source's batch with it as the batch enters the queue (pipeline.ts says
// why not after), so no output's code runs inside a source. Encoded payloads go into reused slabs
// (payload-slabs.ts), given back once the output confirmed them.
import type { LogRecord } from '../parsers/record.js';
import { forwardEntries } from './forward-entries.js';
import { slabCopy, withRoom } from './payload-slabs.js';

export type RecordEncoder = (records: readonly LogRecord[]) => Buffer;

let pool: Buffer = Buffer.allocUnsafe(1024 * 1024);

/**
 * One JSON object per line, as stdout and the file output write them. Each line is written
 * into a reused buffer: one large string converted at the end costs several times more.
 */
export function encodeJsonLines(records: readonly LogRecord[]): Buffer {
  let length = 0;
  for (const record of records) {
    const text = JSON.stringify(record);
    pool = withRoom(pool, length, text.length * 3 + 1);
    length += pool.write(text, length);
    pool[length++] = 0x0a;
  }
  return slabCopy(pool, length);
}

export const ENCODINGS = {
  /** One JSON object per line (stdout, file). */
  json_lines: encodeJsonLines,
  /** Fluent Forward `[EventTime, record]` entries, concatenated: a PackedForward message's body. */
  forward_entries: (records: readonly LogRecord[]): Buffer => forwardEntries(records),
} satisfies Record<string, RecordEncoder>;

export type EncodingName = keyof typeof ENCODINGS;
