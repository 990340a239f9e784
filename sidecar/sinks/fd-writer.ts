// Writes a whole buffer to a file descriptor from the thread pool (so a slow pipe reader blocks
// a worker thread, not the event loop), coping with short writes and non-blocking pipes.
import { writev } from 'node:fs';

function writevOnce(fd: number, bufs: readonly Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => writev(fd, bufs, null, (err, n) => (err ? reject(err) : resolve(n))));
}

/** Writes several buffers with as few syscalls as possible (no concatenation copy). */
export async function writevAll(fd: number, bufs: readonly Buffer[]): Promise<void> {
  let rest = bufs.filter((b) => b.length > 0);
  while (rest.length > 0) {
    let n: number;
    try {
      // IOV_MAX is 1024 on Linux.
      n = await writevOnce(fd, rest.slice(0, 1024));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    while (n > 0 && rest.length > 0) {
      const first = rest[0]!;
      if (n >= first.length) {
        n -= first.length;
        rest = rest.slice(1);
      } else {
        rest = [first.subarray(n), ...rest.slice(1)];
        n = 0;
      }
    }
  }
}
