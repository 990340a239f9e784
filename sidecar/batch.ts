// What flows from a source through the queue to a sink: records plus the checkpoint marks
// that become true once the sink confirmed them.
import type { RecordEncoder } from './encodings.js';
import type { FileIdentity } from './file-identity.js';
import type { LogRecord } from '../parsers/record.js';

/** A place in a file: its identity and a byte offset. */
export interface FilePosition extends FileIdentity {
  readonly offset: number;
  /** The file's mtime when the position was taken; orders rotated siblings on recovery. */
  readonly mtimeMs: number;
  /**
   * The file's birth time (see bornMsOf) where the filesystem reports one: it tells the file from
   * a newer file that got its inode number after it was deleted, which a young file's short (or
   * empty) fingerprint cannot. Absent in state files written before it existed.
   */
  readonly bornMs?: number;
}

/**
 * Resume point of one followed path. Parsers fold lines (the QEMU command line, CRI partials),
 * so a byte offset alone cannot say which records are out: the position is where the parser
 * was last empty, plus how many records it has produced since (skipped when re-reading).
 */
export interface StreamCheckpoint {
  readonly file: FilePosition | null;
  readonly skip: number;
  /** When the sidecar began following the path (ms since epoch). */
  readonly since: number;
  /**
   * The domain's uuid at `file` (QEMU logs): what records read from there get until the log's next
   * command line. Absent when unknown, and in state files written before it existed.
   */
  readonly uuid?: string;
}

export interface JournalCheckpoint {
  /** `__CURSOR` of the last journal entry whose records were confirmed. */
  readonly cursor: string;
}

export type Mark =
  | { readonly stream: string; readonly at: StreamCheckpoint }
  | { readonly journal: JournalCheckpoint };

/** Label of the source a batch came from, for metrics. */
export type SourceName = 'qemu' | 'journal' | 'cri';

/** What a source hands on: the records of one read, and the marks that hold once they are delivered. */
export interface RecordBatch {
  readonly source: SourceName;
  readonly tag: string;
  readonly records: readonly LogRecord[];
  readonly marks: readonly Mark[];
  /** When the source read it (ms), for the lag gauge. */
  readonly readAt: number;
}

/** Where a source hands its batches (the pipeline); resolves once there is room, rejects once the sidecar stops. */
export interface BatchIntake {
  accept(batch: RecordBatch): Promise<void>;
}

export function recordBatch(source: SourceName, tag: string, records: readonly LogRecord[], marks: readonly Mark[]): RecordBatch {
  return { source, tag, records, marks, readAt: Date.now() };
}

/** A batch in the queue: its records encoded for the sink. */
export interface Batch {
  readonly source: SourceName;
  /** Fluent Forward tag (the stdout and file outputs ignore it). */
  readonly tag: string;
  /**
   * The records, already encoded for the sink: a Buffer lives off the JS heap, so a full queue
   * costs no garbage-collector time, and its length is what the bounded queue counts.
   */
  readonly payload: Buffer;
  readonly count: number;
  /** Records per kind, for records_total once confirmed. */
  readonly kinds: ReadonlyMap<string, number>;
  readonly bytes: number;
  readonly marks: readonly Mark[];
  /** When the source read it (ms), for the lag gauge. */
  readonly readAt: number;
}

export function encodeBatch({ source, tag, records, marks, readAt }: RecordBatch, encode: RecordEncoder): Batch {
  const kinds = new Map<string, number>();
  for (const r of records) kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
  const payload = records.length ? encode(records) : EMPTY;
  return { source, tag, payload, count: records.length, kinds, bytes: payload.length, marks, readAt };
}

const EMPTY = Buffer.alloc(0);
