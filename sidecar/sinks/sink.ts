// The output side: a sink delivers batches and says when the output has them.
import type { Batch, Mark } from '../batch.js';
import type { CheckpointStore } from '../checkpoint-store.js';
import type { LogRecord } from '../../parsers/record.js';

export interface Sink {
  readonly name: 'stdout' | 'file' | 'forward';
  /**
   * True when the sink writes an intent to the checkpoint WAL before each write and the output
   * itself proves the write on recovery (the file sink): the pipeline then only applies marks.
   */
  readonly recordsIntents: boolean;
  /** Resolves once the output confirmed every record of `batches`; rejects on failure (the caller retries). */
  deliver(batches: readonly Batch[], marks: readonly Mark[]): Promise<void>;
  /** Makes confirmed output durable before a snapshot claims it. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** An output failure that retrying cannot fix (stdout closed): the sidecar stops. */
export class FatalOutputError extends Error {}

export interface SinkContext {
  readonly store: CheckpointStore;
}

/** One JSON object per line, as stdout and the file output write them. */
export function jsonLines(batches: readonly Batch[]): Buffer {
  const parts: string[] = [];
  for (const batch of batches) for (const record of batch.records as LogRecord[]) parts.push(JSON.stringify(record));
  return parts.length ? Buffer.from(parts.join('\n') + '\n') : Buffer.alloc(0);
}
