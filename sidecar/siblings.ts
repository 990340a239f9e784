// A followed path and its rotated copies (`x.log`, `x.log.0`, `x.log.1`, `0.log.20240501-101530`),
// oldest first, and the start plan of a stream built from them and its checkpoint.
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { StreamCheckpoint } from './batch.js';
import { closeFd, openRegular, preadInto } from './fd.js';
import { bornMsOf, FINGERPRINT_BYTES, startsWith } from './file-identity.js';
import { DOMAIN_UUID } from '../parsers/shapes.js';

/** A file of the chain as a listing saw it; `bornMs` (when known, see bornMsOf) tells it from a later file with its inode number. */
export interface PlannedFile {
  readonly path: string;
  readonly ino: number;
  readonly bornMs?: number;
  readonly offset: number;
  readonly detached: boolean;
}

/** Where a stream begins: a file and offset, how many records to skip from there. */
export interface StartPlan {
  readonly files: readonly PlannedFile[];
  readonly skip: number;
  /** The domain's uuid known where the plan begins (from the checkpoint): the parser starts with it. */
  readonly uuid?: string;
}

export interface Sibling {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  /** See bornMsOf. */
  readonly bornMs: number | undefined;
  readonly isBase: boolean;
}

export interface RankedSibling extends Sibling {
  /** N of a numbered copy `x.log.N`, -1 otherwise. */
  readonly rank: number;
}

/** Rotated files that are compressed are not read (their content was read before compression). */
const COMPRESSED = /\.(gz|xz|bz2|zst|lz4|zip)$/;

/**
 * Older first. Numbered copies (`x.log.2`, `x.log.1`, `x.log.0`) are ordered by their number,
 * which is exact at any instant, while mtimes tie within a clock tick; other suffixes (dates)
 * by mtime; the path itself is always newest.
 */
function age(a: RankedSibling, b: RankedSibling): number {
  if (a.isBase !== b.isBase) return a.isBase ? 1 : -1;
  if (a.rank >= 0 && b.rank >= 0) return b.rank - a.rank;
  return a.mtimeMs - b.mtimeMs || b.rank - a.rank;
}

/** One pass over the directory: readdir, then a stat per name (not atomic against renames). */
async function listOnce(dir: string, base: string): Promise<RankedSibling[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const found: RankedSibling[] = [];
  for (const name of names) {
    if (name !== base && !(name.startsWith(`${base}.`) && !COMPRESSED.test(name))) continue;
    const full = join(dir, name);
    try {
      const st = await stat(full);
      if (!st.isFile()) continue;
      const suffix = name.slice(base.length + 1);
      const rank = /^\d+$/.test(suffix) ? Number(suffix) : -1;
      found.push({ path: full, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, bornMs: bornMsOf(st), isBase: name === base, rank });
    } catch {
      // vanished between readdir and stat
    }
  }
  return found.sort(age);
}

const sameListing = (a: readonly Sibling[], b: readonly Sibling[]): boolean =>
  a.length === b.length && a.every((s, i) => s.path === b[i]!.path && s.ino === b[i]!.ino && s.dev === b[i]!.dev);

/** Passes tried before a listing that keeps changing is taken as it is. */
const LISTING_ATTEMPTS = 50;

/**
 * The path and its copies, oldest first. A rotation between the stats of one pass can hide a
 * file (stat `.1` before and `.0` after the rename chain moved on), so passes repeat until two in
 * a row agree: every rotation gives the path a new inode, so agreement means no rotation ran
 * during the first of them.
 */
export async function siblingsOf(path: string): Promise<Sibling[]> {
  const dir = dirname(path);
  const base = basename(path);
  let previous = await listOnce(dir, base);
  for (let i = 0; i < LISTING_ATTEMPTS; i++) {
    const next = await listOnce(dir, base);
    if (sameListing(previous, next)) return next;
    previous = next;
  }
  return previous;
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

const fromHead = (s: Sibling) => ({ path: s.path, ino: s.ino, bornMs: s.bornMs, offset: 0, detached: !s.isBase });

/** The checkpointed file (its inode) is still there but no longer holds what the checkpoint saw. */
export interface ReplacedFile {
  readonly path: string;
  readonly size: number;
  readonly offset: number;
}

/**
 * Where a stream with a checkpoint resumes: at the checkpointed file (found by device + inode +
 * fingerprint, or by fingerprint alone when copytruncate moved its content to a copy), then every
 * newer file from its head. `lost` when the checkpointed file no longer exists, or cannot be told
 * from a newer file that got its inode number (then every file not older than the checkpoint is
 * read: duplicates rather than a silent gap); `replaced` when its
 * inode is there, shorter than the checkpoint's offset or with other first bytes (truncated and
 * written again, or a new file that took the inode number): it is read again from its head.
 */
const CANONICAL_UUID = new RegExp(`^${DOMAIN_UUID}$`);

export async function planResume(path: string, cp: StreamCheckpoint): Promise<StartPlan & { lost: boolean; replaced?: ReplacedFile }> {
  const plan = await resumeFiles(path, cp);
  // The uuid known at the checkpoint holds for whatever is read next, as the running parser would have carried it.
  // A state file edited by hand may hold anything there: only a uuid is one.
  return typeof cp.uuid === 'string' && CANONICAL_UUID.test(cp.uuid) ? { ...plan, uuid: cp.uuid } : plan;
}

async function resumeFiles(path: string, cp: StreamCheckpoint): Promise<StartPlan & { lost: boolean; replaced?: ReplacedFile }> {
  const sibs = await siblingsOf(path);
  const at = cp.file;
  if (!at) return { files: sibs.filter((s) => s.mtimeMs > cp.since).map(fromHead), skip: 0, lost: false };
  let index = -1;
  let replaced = -1;
  for (let i = 0; i < sibs.length && index < 0; i++) {
    const s = sibs[i]!;
    if (s.dev !== at.dev || s.ino !== at.ino) continue;
    // A newer file with the number of the checkpointed one, deleted meanwhile (ext4 hands a freed
    // number to the next file created, the new file at the path): a young file's short or empty
    // fingerprint may match it too, taking it for the checkpointed file would skip the copies between.
    if (at.bornMs !== undefined && s.bornMs !== undefined && s.bornMs !== at.bornMs) continue;
    if (s.size >= at.offset && (await fingerprintMatches(s.path, at))) index = i;
    else replaced = i;
  }
  // A copy (copytruncate) is recognised by its first bytes alone; an empty fingerprint (the file
  // was empty at the checkpoint) would match any file.
  for (let i = 0; i < sibs.length && index < 0 && at.fpLen > 0; i++) {
    const s = sibs[i]!;
    if (s.size >= at.offset && (await fingerprintMatches(s.path, at))) index = i;
  }
  // Files not older than the checkpointed file as the checkpoint saw it: itself and its successors.
  const notOlder = sibs.findIndex((s) => s.mtimeMs >= at.mtimeMs);
  if (index < 0 && replaced >= 0) {
    const s = sibs[replaced]!;
    // Truncated, or a newer file that took the number of the deleted one: files written after
    // the checkpoint and older than it are read too.
    const from = notOlder >= 0 ? Math.min(notOlder, replaced) : replaced;
    return { files: sibs.slice(from).map(fromHead), skip: 0, lost: false, replaced: { path: s.path, size: s.size, offset: at.offset } };
  }
  const gone = { files: notOlder < 0 ? [] : sibs.slice(notOlder).map(fromHead), skip: 0, lost: true };
  if (index < 0) return gone;
  const found = sibs[index]!;
  // A young file's fingerprint (short, or empty) with no birth time to compare (a fresh file's
  // btime equals its ctime, see bornMsOf) cannot tell it from a newer file that got its inode
  // number: it is taken only if no file between them may have followed it.
  const proven = at.fpLen >= FINGERPRINT_BYTES || (at.bornMs !== undefined && found.bornMs === at.bornMs);
  if (!proven && notOlder >= 0 && notOlder < index) return gone;
  return {
    files: [{ path: found.path, ino: found.ino, bornMs: found.bornMs, offset: at.offset, detached: !found.isBase }, ...sibs.slice(index + 1).map(fromHead)],
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
  if (newerThan === null) {
    // The file alone: no directory listing (a thousand files would list the directory a thousand times).
    const st = await stat(path).catch(() => undefined);
    return { files: st?.isFile() ? [{ path, ino: st.ino, offset: 0, detached: false }] : [], skip: 0 };
  }
  const sibs = await siblingsOf(path);
  const pick = sibs.filter((s) => s.isBase || s.mtimeMs > newerThan);
  return { files: pick.map(fromHead), skip: 0 };
}

export async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const sameFile = (a: { dev: number; ino: number }, b: { dev: number; ino: number }): boolean => a.dev === b.dev && a.ino === b.ino;

async function statIdentity(path: string): Promise<{ dev: number; ino: number } | undefined> {
  return stat(path).then(
    (st) => ({ dev: st.dev, ino: st.ino }),
    () => undefined,
  );
}

export type Successor =
  | { readonly kind: 'at_path' }
  | { readonly kind: 'none' }
  | { readonly kind: 'gone' }
  | { readonly kind: 'file'; readonly path: string; readonly ino: number; readonly bornMs: number | undefined };

/** Attempts before a chain that keeps rotating under us is looked at again later. */
const SUCCESSOR_ATTEMPTS = 100;

/**
 * The file that followed `file` at `path` in the rotation chain: `at_path` when `file` is still
 * the one at the path, `none` when nothing newer exists (the path is absent), `gone` when `file`
 * left the chain (rotated past the last backup or deleted). One listing is not atomic against
 * renames, so a candidate counts only if, afterwards, both files are still where the listing
 * saw them: each rotation moves every file, so then no rotation ran between the two stats.
 */
export async function successorOf(path: string, file: { dev: number; ino: number }): Promise<Successor> {
  const dir = dirname(path);
  const base = basename(path);
  let missing = 0;
  let previous: RankedSibling[] = [];
  for (let attempt = 0; attempt < SUCCESSOR_ATTEMPTS; attempt++) {
    const sibs = await listOnce(dir, base);
    const stable = sameListing(previous, sibs);
    previous = sibs;
    const at = sibs.findIndex((s) => sameFile(s, file));
    if (at < 0) {
      // Two passes in a row without it: it is gone (one pass can miss it mid-rotation).
      if (++missing >= 2) return { kind: 'gone' };
      continue;
    }
    missing = 0;
    const self = sibs[at]!;
    if (self.isBase) return { kind: 'at_path' };
    const next = sibs[at + 1];
    if (!next) return { kind: 'none' };
    // Numbered copies are consecutive during a rotation chain; a gap means the listing raced a
    // rotation, unless two listings in a row show it (a copy removed by hand).
    const gap = self.rank >= 0 && (next.isBase ? self.rank !== 0 : next.rank !== self.rank - 1);
    if (gap && !stable) continue;
    const [selfNow, nextNow] = [await statIdentity(self.path), await statIdentity(next.path)];
    if (selfNow && nextNow && sameFile(selfNow, self) && sameFile(nextNow, next)) return { kind: 'file', path: next.path, ino: next.ino, bornMs: next.bornMs };
  }
  return { kind: 'none' };
}

/**
 * Whether rotation can have moved a file from `from` to `to` (both in the chain of `path`):
 * renames only move a file to an older name (`x.log` -> `x.log.0` -> `x.log.1`, or to a dated
 * copy, which stays put). A file found by its inode number anywhere else is a newer file that
 * reuses the number of one deleted meanwhile (ext4 hands the freed number to the next file).
 */
export function canHaveMoved(path: string, from: string, to: string): boolean {
  const rankOf = (p: string): number | 'base' | 'other' => {
    if (p === path) return 'base';
    const suffix = p.slice(path.length + 1);
    return p.startsWith(`${path}.`) && /^\d+$/.test(suffix) ? Number(suffix) : 'other';
  };
  const [a, b] = [rankOf(from), rankOf(to)];
  if (a === 'base') return b !== 'base';
  return typeof a === 'number' && typeof b === 'number' && b > a;
}
