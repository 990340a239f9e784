// JSON lines appended to a file. Exactly once across kill -9: before each write the sink records
// an intent (output device, inode, size before and after) in the checkpoint WAL; on restart the
// file's size tells which intents were written, and a write torn by the kill is cut off so that
// the batch is written whole again.
import { constants, fdatasync, ftruncate, open } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Batch, Mark } from '../batch.js';
import type { CheckpointStore } from '../checkpoint-store.js';
import { closeFd, fstatFd } from '../fd.js';
import { writevAll } from './fd-writer.js';
import { encodeJsonLines, type Sink } from './sink.js';

function openAppend(path: string): Promise<number> {
  return new Promise((resolve, reject) =>
    open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644, (err, fd) => (err ? reject(err) : resolve(fd))),
  );
}

export class FileSink implements Sink {
  readonly name = 'file';
  readonly recordsIntents = true;
  readonly encode = encodeJsonLines;
  private fd = -1;
  private dev = 0;
  private ino = 0;

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
        await new Promise<void>((resolve, reject) => ftruncate(sink.fd, witness.from, (err) => (err ? reject(err) : resolve())));
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
    if (!current || current.ino !== this.ino || current.dev !== this.dev) await this.reopen();
    const from = (await fstatFd(this.fd)).size;
    await this.store.intend(marks, { dev: this.dev, ino: this.ino, from, to: from + length });
    if (length) await writevAll(this.fd, data);
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => fdatasync(this.fd, (err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {
    if (this.fd >= 0) await closeFd(this.fd);
    this.fd = -1;
  }
}
