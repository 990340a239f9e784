// A followed path and its rotated copies (`x.log`, `x.log.0`, `x.log.1`, `0.log.20240501-101530`),
// oldest first, and the start plan of a stream built from them and its checkpoint.
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { StreamCheckpoint } from './batch.js';
import { closeFd, openRegular, preadInto } from './fd.js';
import { startsWith } from './file-identity.js';
import type { StartPlan } from './file-stream.js';

export interface Sibling {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly isBase: boolean;
}

/** Rotated files that are compressed are not read (their content was read before compression). */
const COMPRESSED = /\.(gz|xz|bz2|zst|lz4|zip)$/;

/**
 * Older first. Numbered copies (`x.log.2`, `x.log.1`, `x.log.0`) are ordered by their number,
 * which is exact at any instant, while mtimes tie within a clock tick; other suffixes (dates)
 * by mtime; the path itself is always newest.
 */
function age(a: Sibling & { rank: number }, b: Sibling & { rank: number }): number {
  if (a.isBase !== b.isBase) return a.isBase ? 1 : -1;
  if (a.rank >= 0 && b.rank >= 0) return b.rank - a.rank;
  return a.mtimeMs - b.mtimeMs || b.rank - a.rank;
}

export async function siblingsOf(path: string): Promise<Sibling[]> {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const found: (Sibling & { rank: number })[] = [];
  for (const name of names) {
    if (name !== base && !(name.startsWith(`${base}.`) && !COMPRESSED.test(name))) continue;
    const full = join(dir, name);
    try {
      const st = await stat(full);
      if (!st.isFile()) continue;
      const suffix = name.slice(base.length + 1);
      const rank = /^\d+$/.test(suffix) ? Number(suffix) : -1;
      found.push({ path: full, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, isBase: name === base, rank });
    } catch {
      // vanished between readdir and stat
    }
  }
  return found.sort(age);
}

async function fingerprintMatches(path: string, fp: { fpLen: number; fpHash: string }): Promise<boolean> {
  try {
    const { fd } = await openRegular(path);
    try {
      return await startsWith(fd, fp);
    } finally {
      await closeFd(fd);
    }
  } catch {
    return false;
  }
}

const fromHead = (s: Sibling) => ({ path: s.path, ino: s.ino, offset: 0, detached: !s.isBase });

/**
 * Where a stream with a checkpoint resumes: at the checkpointed file (found by device + inode +
 * fingerprint, or by fingerprint alone when copytruncate moved its content to a copy), then every
 * newer file from its head. `lost` when the checkpointed file no longer exists.
 */
export async function planResume(path: string, cp: StreamCheckpoint): Promise<StartPlan & { lost: boolean }> {
  const sibs = await siblingsOf(path);
  const at = cp.file;
  if (!at) return { files: sibs.filter((s) => s.mtimeMs > cp.since).map(fromHead), skip: 0, lost: false };
  let index = -1;
  for (let i = 0; i < sibs.length && index < 0; i++) {
    const s = sibs[i]!;
    if (s.dev === at.dev && s.ino === at.ino && s.size >= at.offset && (await fingerprintMatches(s.path, at))) index = i;
  }
  for (let i = 0; i < sibs.length && index < 0; i++) {
    const s = sibs[i]!;
    if (s.size >= at.offset && (await fingerprintMatches(s.path, at))) index = i;
  }
  if (index < 0) {
    return { files: sibs.filter((s) => s.mtimeMs >= at.mtimeMs).map(fromHead), skip: 0, lost: true };
  }
  const found = sibs[index]!;
  return {
    files: [{ path: found.path, ino: found.ino, offset: at.offset, detached: !found.isBase }, ...sibs.slice(index + 1).map(fromHead)],
    skip: cp.skip,
    lost: false,
  };
}

/** Offset just past the last newline, so that a tail start never begins mid-line. */
async function lastLineStart(path: string): Promise<{ ino: number; offset: number } | undefined> {
  try {
    const { fd, stats } = await openRegular(path);
    try {
      const buf = Buffer.allocUnsafe(64 * 1024);
      for (let end = stats.size; end > 0; ) {
        const start = Math.max(0, end - buf.length);
        const n = await preadInto(fd, buf, end - start, start);
        const nl = buf.subarray(0, n).lastIndexOf(0x0a);
        if (nl >= 0) return { ino: stats.ino, offset: start + nl + 1 };
        end = start;
      }
      return { ino: stats.ino, offset: 0 };
    } finally {
      await closeFd(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * Where a stream without a checkpoint starts. On the first start: the file itself, at its head or
 * tail. Later (the path appeared while the sidecar was down): its rotated copies newer than the
 * previous run's last save, then the file, all from the head.
 */
export async function planNew(path: string, mode: 'head' | 'tail', newerThan: number | null): Promise<StartPlan> {
  if (mode === 'tail') {
    const tail = await lastLineStart(path);
    return { files: tail ? [{ path, ino: tail.ino, offset: tail.offset, detached: false }] : [], skip: 0 };
  }
  const sibs = await siblingsOf(path);
  const pick = newerThan === null ? sibs.filter((s) => s.isBase) : sibs.filter((s) => s.isBase || s.mtimeMs > newerThan);
  return { files: pick.map(fromHead), skip: 0 };
}

export async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
