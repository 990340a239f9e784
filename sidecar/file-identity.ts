// What makes a followed file the same file after a restart: device + inode, confirmed by a
// fingerprint of its first bytes (an inode number can be reused by a new file, and a
// copytruncate copy has a new inode but the same first bytes).
import { createHash } from 'node:crypto';
import { read } from 'node:fs';

/** Bytes at the start of a file that the fingerprint covers (fewer while the file is shorter). */
export const FINGERPRINT_BYTES = 256;

export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
  /** How many leading bytes `fpHash` covers. */
  readonly fpLen: number;
  readonly fpHash: string;
}

export function fingerprintOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url').slice(0, 22);
}

export function preadAll(fd: number, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  return new Promise((resolve, reject) => {
    let got = 0;
    const step = (): void =>
      read(fd, buf, got, length - got, position + got, (err, n) => {
        if (err) return reject(err);
        got += n;
        if (n === 0 || got === length) resolve(buf.subarray(0, got));
        else step();
      });
    step();
  });
}

/**
 * Birth time (statx btime) when the filesystem reports one: it tells a file from a later file
 * that reuses its inode number. Undefined without one: 0, or libuv's fallback without statx,
 * which reports the change time (it moves on every rename), seen as btime equal to ctime.
 */
export function bornMsOf(st: { birthtimeMs: number; ctimeMs: number }): number | undefined {
  return st.birthtimeMs > 0 && st.birthtimeMs !== st.ctimeMs ? st.birthtimeMs : undefined;
}

/** Fingerprint of the first min(size, FINGERPRINT_BYTES) bytes of an open file. */
export async function fingerprintFd(fd: number, size: number): Promise<{ fpLen: number; fpHash: string }> {
  const head = await preadAll(fd, Math.min(size, FINGERPRINT_BYTES), 0);
  return { fpLen: head.length, fpHash: fingerprintOf(head) };
}

/** Whether an open file still starts with the bytes `id` fingerprinted. */
export async function startsWith(fd: number, id: Pick<FileIdentity, 'fpLen' | 'fpHash'>): Promise<boolean> {
  const head = await preadAll(fd, id.fpLen, 0);
  return head.length === id.fpLen && fingerprintOf(head) === id.fpHash;
}
