// JSON lines on stdout, the container model's default: the container runtime's log pipeline
// picks them up. Confirmed once the kernel accepted the bytes; a reader that went away (EPIPE)
// is fatal, because no retry can reach it.
import type { Batch } from '../batch.js';
import { writevAll } from './fd-writer.js';
import { encodeJsonLines, FatalOutputError, type Sink } from './sink.js';

export class StdoutSink implements Sink {
  readonly name = 'stdout';
  readonly recordsIntents = false;
  readonly encode = encodeJsonLines;

  constructor(private readonly fd = 1) {}

  async deliver(batches: readonly Batch[]): Promise<void> {
    const data = batches.map((b) => b.payload);
    const length = data.reduce((n, b) => n + b.length, 0);
    if (length === 0) return;
    try {
      await writevAll(this.fd, data);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE' || code === 'EBADF') throw new FatalOutputError(`stdout is closed (${code})`);
      throw err;
    }
  }

  async sync(): Promise<void> {}

  async close(): Promise<void> {}
}
