// JSON lines appended to a file. Delivery guarantee: exactly once, across kill -9 and a full
// disk. Before each write the sink records an intent (output device, inode, size before and
// after) in the checkpoint WAL; on restart the file's size tells which intents were written, and
// a write torn by the kill is cut off so that the batch is written whole again. A write that
// fails part-way while running (ENOSPC) is cut back the same way before it is retried.
import { constants, fdatasync, ftruncate, open } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Batch, Mark } from '../batch.js';
import type { CheckpointStore } from '../checkpoint-store.js';
import { closeFd, fstatFd } from '../fd.js';
import { writevAll } from './fd-writer.js';
import type { Sink } from './sink.js';

function openAppend(path: string): Promise<number> {
  return new Promise((resolve, reject) =>
    open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644, (err, fd) => (err ? reject(err) : resolve(fd))),
  );
}

export class FileSink implements Sink {
  readonly name = 'file';
  readonly recordsIntents = true;
  readonly encoding = 'json_lines';
  private fd = -1;
  private dev = 0;
  private ino = 0;
  /** Where a failed write began: its torn bytes are cut off before anything else is written. */
  private tornFrom: number | undefined;

  private constructor(
    readonly path: string,
    private readonly store: CheckpointStore,
  ) {}

  /** Opens the output and settles the previous run's intents against it. */
  static async open(path: string, store: CheckpointStore): Promise<FileSink> {
    const sink = new FileSink(path, store);
    await sink.reopen();
    let size = (await fstatFd(sink.fd)).size;
    let confirmed = 0;
    for (const { witness } of store.pendingIntents()) {
      if (witness.dev !== sink.dev || witness.ino !== sink.ino) break;
      if (size >= witness.to) {
        confirmed++;
        continue;
      }
      if (size > witness.from) {
        await sink.cutBack(witness.from);
        size = witness.from;
      }
      break;
    }
    store.resolveIntents(confirmed);
    return sink;
  }

  private async reopen(): Promise<void> {
    if (this.fd >= 0) await closeFd(this.fd);
    this.fd = await openAppend(this.path);
    const st = await fstatFd(this.fd);
    this.dev = st.dev;
    this.ino = st.ino;
  }

  async deliver(batches: readonly Batch[], marks: readonly Mark[]): Promise<void> {
    const data = batches.map((b) => b.payload);
    const length = data.reduce((n, b) => n + b.length, 0);
    // The output file was rotated or removed by someone else: continue in a new one.
    const current = await stat(this.path).catch(() => undefined);
    if (!current || current.ino !== this.ino || current.dev !== this.dev) {
      await this.reopen();
      this.tornFrom = undefined;
    }
    if (this.tornFrom !== undefined) await this.cutBack(this.tornFrom);
    const from = (await fstatFd(this.fd)).size;
    await this.store.intend(marks, { dev: this.dev, ino: this.ino, from, to: from + length });
    if (!length) return;
    try {
      await writevAll(this.fd, data);
    } catch (err) {
      // Part of the batch may be in the file: the retry writes it whole, so these bytes must go.
      this.tornFrom = from;
      await this.cutBack(from).catch(() => undefined);
      throw err;
    }
  }

  private async cutBack(size: number): Promise<void> {
    await new Promise<void>((resolve, reject) => ftruncate(this.fd, size, (err) => (err ? reject(err) : resolve())));
    this.tornFrom = undefined;
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => fdatasync(this.fd, (err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {
    if (this.fd >= 0) await closeFd(this.fd);
    this.fd = -1;
  }
}
