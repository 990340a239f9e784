// One FileStream of the sidecar run in-process on a real file, with an output that confirms every
// batch at once: `confirmed` are its records (as the JSON the sinks write), `marks` its checkpoints,
// so the last mark is what a kill -9 leaves in the state directory.
import type { RecordBatch, StreamCheckpoint } from '../../../sidecar/batch.js';
import { ENCODINGS } from '../../../sidecar/encodings.js';
import { FileStream } from '../../../sidecar/file-stream.js';
import { recycle } from '../../../sidecar/payload-slabs.js';
import { createLogger } from '../../../runtime/log.js';
import { createMetrics, type Metrics } from '../../../sidecar/metrics.js';
import { createQemuLogParser } from '../../../parsers/textlog.js';
import { checkedRecords } from '../checks/record-schema.js';
import { DomainIdentities } from '../../../sidecar/domain-identities.js';

type Rec = Record<string, unknown>;

export interface StreamRunOptions {
  readonly maxLineBytes?: number;
  /** Default: a minute, so that a rotated file is drained only when a test says so. */
  readonly rotateWaitMs?: number;
  /** Default: a minute, so that a record cut in two could only be the rotation's doing. */
  readonly flushIdleMs?: number;
}

export class StreamRun {
  readonly metrics: Metrics = createMetrics();
  readonly confirmed: Rec[] = [];
  readonly marks: StreamCheckpoint[] = [];
  readonly stream: FileStream;

  constructor(
    readonly file: string,
    domain: string,
    options: StreamRunOptions = {},
  ) {
    this.stream = new FileStream(
      file,
      {
        source: 'qemu',
        tag: 'test',
        maxLineBytes: options.maxLineBytes ?? 256 * 1024,
        rotateWaitMs: options.rotateWaitMs ?? 60_000,
        flushIdleMs: options.flushIdleMs ?? 60_000,
        intake: { accept: async (batch) => this.confirm(batch) },
        metrics: this.metrics,
        log: createLogger({ write: () => undefined }),
        newParser: (uuid) => createQemuLogParser({ domain, uuid }),
        identities: new DomainIdentities(),
      },
      Date.now(),
    );
  }

  private confirm(batch: RecordBatch): void {
    const payload = ENCODINGS.json_lines(batch.records);
    for (const l of payload.toString('utf8').split('\n')) if (l) this.confirmed.push(...checkedRecords([JSON.parse(l) as Rec]));
    recycle(payload);
    for (const m of batch.marks) if ('stream' in m) this.marks.push(m.at);
  }

  async linesRead(): Promise<number> {
    return (await this.metrics.linesRead.get()).values.reduce((n, v) => n + v.value, 0);
  }

  async bytesRead(): Promise<number> {
    return (await this.metrics.bytesRead.get()).values.reduce((n, v) => n + v.value, 0);
  }

  /** Pokes the stream (as inotify would) until it has read `n` lines and produced `records` records. */
  async settle(n: number, records?: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while ((await this.linesRead()) < n || (records !== undefined && this.confirmed.length < records)) {
      if (Date.now() > deadline) throw new Error(`read ${await this.linesRead()} of ${n} lines, ${this.confirmed.length} records`);
      this.stream.poke();
      await new Promise((r) => setTimeout(r, 10));
    }
    // Anything still in flight would be a record too many.
    await new Promise((r) => setTimeout(r, 50));
  }

  /** Pokes the stream until `condition` holds. */
  async until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      this.stream.poke();
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Like kill -9: reading stops; what the stream holds was never confirmed. */
  async kill(): Promise<void> {
    await this.stream.stop();
  }

  get checkpoint(): StreamCheckpoint {
    return this.marks[this.marks.length - 1]!;
  }
}
