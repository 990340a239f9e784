// Thin promise wrappers over the callback fd API (cheaper than FileHandle on the hot path),
// and the one way the sidecar opens an input: never blocking, regular files only.
import { close, constants, fstat, open, read, type Stats } from 'node:fs';

export function preadInto(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, 0, length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

export function fstatFd(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => fstat(fd, (err, st) => (err ? reject(err) : resolve(st))));
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve) => close(fd, () => resolve()));
}

/** Why a path that matched could not be followed; the label of file_errors_total. */
export type OpenFailure = 'not_regular' | 'permission_denied' | 'missing' | 'io_error';

export class OpenError extends Error {
  constructor(
    readonly reason: OpenFailure,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Opens a file for reading. O_NONBLOCK keeps a FIFO from blocking the open; the fstat
 * afterwards (on the fd, so no race with a rename) rejects anything that is not a regular file.
 */
export async function openRegular(path: string): Promise<{ fd: number; stats: Stats }> {
  const fd = await new Promise<number>((resolve, reject) =>
    open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY, (err, fd) => {
      if (!err) return resolve(fd);
      const code = err.code;
      if (code === 'ENOENT') reject(new OpenError('missing', `${path}: no such file`));
      else if (code === 'EACCES' || code === 'EPERM') reject(new OpenError('permission_denied', `${path}: permission denied`));
      else if (code === 'EISDIR' || code === 'ENXIO') reject(new OpenError('not_regular', `${path}: not a regular file`));
      else reject(new OpenError('io_error', `${path}: ${err.message}`));
    }),
  );
  const stats = await fstatFd(fd).catch(async (err: Error) => {
    await closeFd(fd);
    throw new OpenError('io_error', `${path}: ${err.message}`);
  });
  if (!stats.isFile()) {
    await closeFd(fd);
    throw new OpenError('not_regular', `${path}: not a regular file`);
  }
  return { fd, stats };
}
