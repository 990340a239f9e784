// Writes a whole buffer to a file descriptor from the thread pool (so a slow pipe reader blocks
// a worker thread, not the event loop), coping with short writes and non-blocking pipes.
import { write } from 'node:fs';

function writeOnce(fd: number, buf: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) =>
    write(fd, buf, offset, buf.length - offset, null, (err, n) => (err ? reject(err) : resolve(n))),
  );
}

export async function writeAll(fd: number, buf: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buf.length) {
    try {
      offset += await writeOnce(fd, buf, offset);
    } catch (err) {
      // A non-blocking pipe that is full: wait for the reader.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
