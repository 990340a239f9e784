// The files of one followed path (`<dir>/<domain>.log`) in reading order, with `tail -F`
// semantics: a renamed or deleted file stays in the chain, read to its end from the descriptor
// held, before the files that replaced it; successors are opened one by one along the rename chain
// (virtlogd `x.log` -> `x.log.0` -> ...), each found by its identity (device, inode, birth time,
// first bytes), never by a name that rotation may have given to another file; a copytruncate
// copy supplies what the truncated file lost. Which bytes of the head file were read is its
// reader's business (file-reader.ts).
import { stat } from 'node:fs/promises';
import { statSync, type Stats } from 'node:fs';
import type { SourceName } from './batch.js';
import { closeFd, fstatFd, openRegular, OpenError } from './fd.js';
import { fingerprintFd } from './file-identity.js';
import { FileReader } from './file-reader.js';
import type { Logger } from '../runtime/log.js';
import type { Metrics } from './metrics.js';
import { canHaveMoved, siblingsOf, successorOf, type PlannedFile } from './siblings.js';

export interface ChainOptions {
  readonly source: SourceName;
  readonly maxLineBytes: number;
  readonly metrics: Metrics;
  readonly log: Logger;
}

/** What a look at the path found about the head file. */
export type PathChange =
  /** Still the file at the path, not truncated: nothing to do until it grows. */
  | 'none'
  /** Renamed or deleted: it is detached, its successors (if any) are in the chain. */
  | 'moved'
  /** Truncated, no copy of the lost bytes: it is read again from its head. */
  | 'truncated'
  /** Truncated, and a copytruncate copy with the unread bytes is the new head. */
  | 'copied';

/**
 * How much older than our last read a copy's mtime may look and still count as made after it: file times
 * come from the kernel's coarse clock, a tick or more behind Date.now().
 */
const MTIME_SLACK_MS = 1000;

export class RotationChain {
  private files: FileReader[] = [];
  /** Open failures logged already, by `path:reason`. */
  private readonly failures = new Set<string>();

  constructor(
    readonly path: string,
    private readonly opts: ChainOptions,
  ) {}

  /** The file being read. */
  get head(): FileReader | undefined {
    return this.files[0];
  }

  /** The file after the head, if it is open yet. */
  get successor(): FileReader | undefined {
    return this.files[1];
  }

  get length(): number {
    return this.files.length;
  }

  /** Opens the files of a start plan, in reading order; a file rotated away meanwhile is counted and skipped. */
  async open(files: readonly PlannedFile[]): Promise<void> {
    for (const f of files) {
      const reader = await this.openRotated(f);
      if (reader) this.files.push(reader);
    }
  }

  /** Opens the file now at the path (from its head) as the new head; undefined if there is none. */
  async attachCurrent(): Promise<FileReader | undefined> {
    const reader = await this.openReader(this.path, 0, false);
    if (reader) this.files.push(reader);
    return reader;
  }

  /**
   * The rescan's safety-net look, cheap enough for a thousand idle files: one synchronous stat
   * (a thousand thread-pool round trips per rescan cost more than the stats themselves). True when
   * the one file followed is still at the path, read to its end, and unchanged.
   */
  unchangedSinceRead(): boolean {
    const head = this.files[0];
    if (!head || this.files.length !== 1 || head.detachedAt !== null) return false;
    const st = statSync(this.path, { throwIfNoEntry: false });
    return st !== undefined && st.ino === head.ino && st.dev === head.dev && st.size === head.readOffset && st.mtimeMs === head.mtimeMs;
  }

  /** Looks at the path for the head file, read to its end: same file (maybe truncated), a new file, or none. */
  async look(head: FileReader): Promise<PathChange> {
    let st: Stats | undefined;
    try {
      st = await stat(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (!st) {
      head.detachedAt = Date.now();
      this.opts.metrics.rotations.inc({ type: 'delete' });
      return 'moved';
    }
    if (st.ino !== head.ino || st.dev !== head.dev) {
      head.detachedAt = Date.now();
      this.opts.metrics.rotations.inc({ type: 'rename' });
      await this.followRotation();
      return 'moved';
    }
    await head.restat();
    // Truncated and written again past our offset before we looked: only the first bytes tell.
    if (!(await head.wasTruncated())) return 'none';
    return (await this.truncated(head)) ? 'copied' : 'truncated';
  }

  /** A detached head at its end is done when its successor has data or it stayed quiet for `rotateWaitMs`. */
  async drained(head: FileReader, rotateWaitMs: number): Promise<boolean> {
    const next = this.files[1];
    if (next) {
      const st = await fstatFd(next.fd);
      if (st.size > 0) return true;
    }
    return Date.now() - Math.max(head.lastGrowth, head.detachedAt!) >= rotateWaitMs;
  }

  /** Closes the finished head; its successor (if open) is the new head. */
  async finishHead(): Promise<FileReader> {
    const head = this.files.shift()!;
    await this.discard(head);
    return head;
  }

  async close(): Promise<void> {
    for (const reader of this.files) await reader.close();
    this.opts.metrics.filesWatched.dec({ source: this.opts.source }, this.files.length);
    this.files = [];
  }

  /**
   * The newest file we hold was renamed. A fast writer may have rotated several times since:
   * open its successors one by one along the rotation chain, up to the file now at the path,
   * so that no intermediate file is skipped.
   */
  async followRotation(): Promise<void> {
    for (let step = 0; step < 64; step++) {
      const newest = this.files[this.files.length - 1]!;
      const next = await successorOf(this.path, newest);
      if (next.kind === 'at_path') {
        newest.detachedAt = null;
        return;
      }
      newest.detachedAt ??= Date.now();
      if (next.kind === 'none') return;
      if (next.kind === 'gone') return this.afterOverrun(newest);
      const reader = await this.openRotated({ path: next.path, ino: next.ino, bornMs: next.bornMs, offset: 0, detached: true });
      if (reader) this.files.push(reader);
    }
  }

  /**
   * The newest file we hold left the chain (rotated past the last backup, or deleted) before its
   * successor was opened. Its successors are the files written after it; whether whole files
   * went by unseen in between cannot be known (timestamps tie within a burst), so an overrun is
   * counted and logged, not a drop.
   */
  private async afterOverrun(newest: FileReader): Promise<void> {
    const last = await fstatFd(newest.fd);
    // Still linked: the listings raced a rotation and missed it; look again at the next poll.
    if (last.nlink > 0) return;
    const held = new Set(this.files.map((f) => `${f.dev}:${f.ino}`));
    const newer = (await siblingsOf(this.path)).filter((s) => !held.has(`${s.dev}:${s.ino}`) && s.mtimeMs >= last.mtimeMs);
    // A file deleted and created again has no rotated copy newer than itself.
    if (newer.some((s) => !s.isBase) && !newest.overrunCounted) {
      newest.overrunCounted = true;
      this.opts.metrics.rotationOverruns.inc({ source: this.opts.source });
      this.opts.log.warn(
        `${this.path}: ${newest.name} (inode ${newest.ino}) was rotated past the last backup before its successor was opened; whole rotated files written in between may have been lost`,
      );
    }
    for (const s of newer) {
      // A listing raced by a rotation can show one file under two names.
      if (held.has(`${s.dev}:${s.ino}`)) continue;
      const reader = await this.openRotated({ path: s.path, ino: s.ino, bornMs: s.bornMs, offset: 0, detached: true });
      if (!reader) continue;
      this.files.push(reader);
      held.add(`${reader.dev}:${reader.ino}`);
    }
    if (this.files[this.files.length - 1] !== newest) await this.followRotation();
  }

  /**
   * The head was truncated (copytruncate, or a writer that truncates): it is read again from its
   * head. A copytruncate copy next to it still starts with its fingerprint: what we had not read
   * is read from there first (true: a copy is the new head). Copies newer than that one were made
   * by later truncations before we looked (each holds what was written between two of them): they
   * follow it, oldest first, from their heads. When no copy has our bytes any more (pushed past the
   * last backup), the copies made since we last read are read whole and the loss is counted.
   */
  private async truncated(head: FileReader): Promise<boolean> {
    this.opts.metrics.rotations.inc({ type: 'truncate' });
    const copies = (await siblingsOf(this.path)).filter((s) => !s.isBase && s.ino !== head.ino);
    // Newest first: the copy made by the last truncation is the likeliest to start with the bytes we fingerprinted.
    let ours = copies.length;
    let copy: FileReader | undefined;
    while (ours-- > 0) {
      const candidate = await this.openReader(copies[ours]!.path, head.lineEnd, true, copies[ours]!.ino);
      if (!candidate) continue;
      if (await head.sameStartAs(candidate.fd)) {
        // A copy with nothing we have not read yet is not read again.
        if (candidate.size > head.lineEnd) copy = candidate;
        else await this.discard(candidate);
        break;
      }
      await this.discard(candidate);
    }
    if (ours < 0 && head.readOffset > head.lineEnd) this.opts.log.warn(`${this.path}: truncated with a partial line unread and no copy found`);
    const later = ours >= 0 ? copies.slice(ours + 1) : copies.filter((s) => s.mtimeMs >= head.lastGrowth - MTIME_SLACK_MS);
    if (ours < 0 && (later.length > 0 || head.size > head.lineEnd)) {
      this.opts.metrics.drops.inc({ reason: 'truncated_unread' });
      this.opts.log.warn(`${this.path}: truncated, and no copy holds the lines after offset ${head.lineEnd} any more; they are lost`);
    }
    await head.restart();
    const chained: FileReader[] = copy ? [copy] : [];
    for (const sibling of later) {
      const reader = await this.openReader(sibling.path, 0, true, sibling.ino, sibling.bornMs);
      if (reader) chained.push(reader);
    }
    this.files.unshift(...chained);
    return chained.length > 0;
  }

  /**
   * Opens a file of the rotation chain by its inode: rotation may have renamed it since it was
   * listed, so it is looked for among the siblings again: only at an older name than where it
   * was, and born when it was, since a deleted file's inode number goes to a newer file at once.
   * Undefined when it is gone: rotated past the last backup before we could open it, which is
   * logged and counted.
   */
  private async openRotated(file: PlannedFile): Promise<FileReader | undefined> {
    const { path, ino, bornMs, offset, detached } = file;
    let at = path;
    for (let attempt = 0; attempt < 8; attempt++) {
      const reader = await this.openReader(at, offset, detached || at !== path, ino, bornMs);
      if (reader) return reader;
      const from = at;
      const found = (await siblingsOf(this.path)).find((s) => s.ino === ino && (bornMs === undefined || s.bornMs === bornMs));
      if (!found) break;
      if (found.path === at) return undefined; // there, but unreadable: counted by openReader
      if (!canHaveMoved(this.path, from, found.path)) break;
      at = found.path;
    }
    this.opts.metrics.drops.inc({ reason: 'rotation_overrun' });
    this.opts.log.warn(`${this.path}: ${path} (inode ${ino}) was rotated past the last backup before it could be opened; its unread lines are lost`);
    return undefined;
  }

  private async discard(reader: FileReader): Promise<void> {
    await reader.close();
    this.opts.metrics.filesWatched.dec({ source: this.opts.source });
  }

  private async openReader(path: string, offset: number, detached: boolean, expectIno?: number, expectBornMs?: number): Promise<FileReader | undefined> {
    let opened: { fd: number; stats: Stats };
    try {
      opened = await openRegular(path);
    } catch (err) {
      if (err instanceof OpenError) {
        if (err.reason !== 'missing' && !this.failures.has(`${path}:${err.reason}`)) {
          // Counted and logged once per path and reason, however often the rescan retries it.
          this.failures.add(`${path}:${err.reason}`);
          this.opts.metrics.fileErrors.inc({ reason: err.reason });
          this.opts.log.warn(`${err.message}; skipped (retried at each rescan)`);
        }
        return undefined;
      }
      throw err;
    }
    const { fd, stats } = opened;
    if ((expectIno !== undefined && stats.ino !== expectIno) || (expectBornMs !== undefined && stats.birthtimeMs !== expectBornMs)) {
      await closeFd(fd);
      return undefined;
    }
    for (const key of this.failures) if (key.startsWith(`${path}:`)) this.failures.delete(key);
    const fp = await fingerprintFd(fd, stats.size);
    this.opts.metrics.filesWatched.inc({ source: this.opts.source });
    return new FileReader(fd, path, stats, fp, offset, detached, this.opts.maxLineBytes);
  }
}
