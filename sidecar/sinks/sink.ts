// The output side: a sink delivers batches and says when the output has them.
import type { Batch, Mark } from '../batch.js';
import type { EncodingName } from '../encodings.js';

export interface Sink {
  readonly name: 'stdout' | 'file' | 'forward';
  /** The encoding (encodings.ts) the pipeline gives this sink's records. */
  readonly encoding: EncodingName;
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
