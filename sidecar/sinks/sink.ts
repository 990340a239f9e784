// The output side: a sink delivers batches and says when the output has them.
import type { Batch, Mark, RecordEncoder } from '../batch.js';
import type { LogRecord } from '../../parsers/record.js';
import { slabCopy } from '../payload-slabs.js';

export interface Sink {
  readonly name: 'stdout' | 'file' | 'forward';
  /**
   * True when the sink writes an intent to the checkpoint WAL before each write and the output
   * itself proves the write on recovery (the file sink): the pipeline then only applies marks.
   */
  readonly recordsIntents: boolean;
  /** How sources encode records for this sink. */
  readonly encode: RecordEncoder;
  /** Resolves once the output confirmed every record of `batches`; rejects on failure (the caller retries). */
  deliver(batches: readonly Batch[], marks: readonly Mark[]): Promise<void>;
  /** Makes confirmed output durable before a snapshot claims it. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** An output failure that retrying cannot fix (stdout closed): the sidecar stops. */
export class FatalOutputError extends Error {}

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
