// JSON lines on stdout, the container model's default: the container runtime's log pipeline
// picks them up. Confirmed once the kernel accepted the bytes; a reader that went away (EPIPE)
// is fatal, because no retry can reach it.
//
// A pipe or socket is written as a non-blocking libuv stream: a blocking write of a stalled pipe
// would hold a thread-pool thread forever, and Node joins those threads at exit, so the
// shutdown deadline could not be kept. Files and terminals are written with writev.
import { fstatSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Batch } from '../batch.js';
import { writevAll } from './fd-writer.js';
import { FatalOutputError, type Sink } from './sink.js';

export class StdoutSink implements Sink {
  readonly name = 'stdout';
  readonly recordsIntents = false;
  readonly encoding = 'json_lines';
  private readonly stream: Socket | undefined;
  private broken: Error | undefined;

  constructor(private readonly fd = 1) {
    const st = fstatSync(fd);
    if (st.isFIFO() || st.isSocket()) {
      this.stream = new Socket({ fd, readable: false, writable: true });
      this.stream.on('error', (err) => (this.broken = err));
    }
  }

  async deliver(batches: readonly Batch[]): Promise<void> {
    const data = batches.map((b) => b.payload).filter((b) => b.length > 0);
    if (data.length === 0) return;
    try {
      if (this.stream) await this.streamWrite(data);
      else await writevAll(this.fd, data);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE' || code === 'EBADF' || code === 'ERR_STREAM_DESTROYED') throw new FatalOutputError(`stdout is closed (${code})`);
      throw err;
    }
  }

  private streamWrite(data: readonly Buffer[]): Promise<void> {
    const stream = this.stream!;
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      stream.cork();
      for (let i = 0; i < data.length - 1; i++) stream.write(data[i]!);
      stream.write(data[data.length - 1]!, (err) => (err ? reject(err) : resolve()));
      stream.uncork();
    });
  }

  async sync(): Promise<void> {}

  async close(): Promise<void> {
    // Never wait for a reader that stopped reading: the shutdown deadline rules.
    this.stream?.unref();
  }
}
