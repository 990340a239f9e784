// Checkpoints in the state directory: a snapshot (`state.json`, replaced atomically by
// temp file + fsync + rename) and a write-ahead log (`state.wal`, one JSON line per confirmed
// batch) so that a confirmation costs one small append, not a rewrite of every file's entry.
// A WAL line is either a commit (the sink confirmed) or an intent (written before a file
// write; true on recovery if the output file holds the bytes it names).
import { closeSync, constants, fsyncSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { JournalCheckpoint, Mark, StreamCheckpoint } from './batch.js';

const SNAPSHOT = 'state.json';
const WAL = 'state.wal';
const LOCK = 'state.lock';
const VERSION = 1;

/** What an intent claims: the output file (device, inode) grew from `from` to `to` bytes. */
export interface OutputWitness {
  readonly dev: number;
  readonly ino: number;
  readonly from: number;
  readonly to: number;
}

export interface Intent {
  readonly marks: readonly Mark[];
  readonly witness: OutputWitness;
}

interface Snapshot {
  version: number;
  savedAt: number;
  streams: Record<string, StreamCheckpoint>;
  journal?: JournalCheckpoint;
}

type WalLine = { t: number; c: Mark[] } | { t: number; i: Mark[]; w: OutputWitness };

/** writeSync until every byte of `text` is written (a regular file takes all at once as a rule). */
function writeAllSync(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
}

/**
 * Creates `dir` and its missing parents. Not Node's recursive mkdir: it spins forever where a
 * parent exists but refuses children with ENOENT (/proc, /sys).
 */
async function makeDirectory(dir: string): Promise<void> {
  const make = async (at: string): Promise<void> => {
    try {
      await mkdir(at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return;
      if (code !== 'ENOENT' || dirname(at) === at) throw err;
      await make(dirname(at));
      await mkdir(at).catch((again: NodeJS.ErrnoException) => {
        if (again.code !== 'EEXIST') throw again;
      });
    }
  };
  await make(dir).catch((err: Error) => {
    throw new Error(`cannot create the state directory ${dir}: ${err.message}`);
  });
}

/** A WAL line as written by append(); anything else in the file is garbage. */
function isWalLine(value: unknown): value is WalLine {
  if (typeof value !== 'object' || value === null) return false;
  const line = value as Record<string, unknown>;
  if (typeof line['t'] !== 'number') return false;
  if (Array.isArray(line['c'])) return true;
  return Array.isArray(line['i']) && typeof line['w'] === 'object' && line['w'] !== null;
}

function pidAlive(pid: number): boolean {
  try {
    // A zombie still answers kill -0; its state letter in /proc/PID/stat is Z.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Takes the state directory for this process; throws if a live process holds it. */
function lock(dir: string): void {
  const path = join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (holder !== process.pid && Number.isInteger(holder) && holder > 0 && pidAlive(holder))
        throw new Error(`state directory ${dir} is in use by pid ${holder}`);
      // Left behind by a process that died (kill -9): take it over.
      unlinkSync(path);
    }
  }
  throw new Error(`cannot lock state directory ${dir}`);
}

export class CheckpointStore {
  private streamState = new Map<string, StreamCheckpoint>();
  private journalState: JournalCheckpoint | undefined;
  private wal: FileHandle | undefined;
  private walBytes = 0;
  private appendChain: Promise<void> = Promise.resolve();
  private intents: Intent[] = [];
  private dirty = false;

  /** No snapshot existed: the sidecar runs for the first time with this state directory. */
  readonly firstStart: boolean;
  /** When the previous run last saved anything (ms), or null on a first start. */
  readonly previousSavedAt: number | null;
  /** Lines of state.wal that were not WAL lines (skipped): their line numbers, 1-based. */
  readonly walGarbage: readonly number[];

  private constructor(
    readonly dir: string,
    snapshot: Snapshot | undefined,
    walLines: WalLine[],
    walGarbage: number[],
  ) {
    this.walGarbage = walGarbage;
    this.firstStart = snapshot === undefined && walLines.length === 0;
    let savedAt = snapshot?.savedAt ?? null;
    if (snapshot) {
      for (const [path, at] of Object.entries(snapshot.streams)) this.streamState.set(path, at);
      this.journalState = snapshot.journal;
    }
    for (const line of walLines) {
      savedAt = Math.max(savedAt ?? 0, line.t);
      if ('c' in line) this.apply(line.c);
      else this.intents.push({ marks: line.i, witness: line.w });
    }
    this.previousSavedAt = savedAt;
  }

  static async open(dir: string): Promise<CheckpointStore> {
    await makeDirectory(dir);
    lock(dir);
    try {
      return await CheckpointStore.load(dir);
    } catch (err) {
      await rm(join(dir, LOCK), { force: true });
      throw err;
    }
  }

  private static async load(dir: string): Promise<CheckpointStore> {
    const snapshotPath = join(dir, SNAPSHOT);
    let snapshot: Snapshot | undefined;
    try {
      snapshot = JSON.parse(await readFile(snapshotPath, 'utf8')) as Snapshot;
      if (snapshot?.version !== VERSION) throw new Error(`unknown state version ${snapshot?.version}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new Error(
          `cannot read ${snapshotPath}: ${(err as Error).message}; to start without it, move it aside ` +
            `(mv ${snapshotPath} ${snapshotPath}.bad): inputs then resume from ${WAL} where it has them and are otherwise read as on a first start (--read-from)`,
        );
    }
    const walLines: WalLine[] = [];
    const walGarbage: number[] = [];
    let tornTail = false;
    try {
      const whole = await readFile(join(dir, WAL), 'utf8');
      tornTail = whole.length > 0 && !whole.endsWith('\n');
      const texts = whole.split('\n');
      for (let i = 0; i < texts.length; i++) {
        const text = texts[i]!;
        if (!text) continue;
        let line: unknown;
        try {
          line = JSON.parse(text);
        } catch {
          line = undefined;
        }
        // Marks are absolute positions: a good line after a bad one (a torn append, a stray
        // edit) is still true, so only the bad line is skipped.
        if (isWalLine(line)) walLines.push(line);
        else walGarbage.push(i + 1);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const store = new CheckpointStore(dir, snapshot, walLines, walGarbage);
    store.wal = await open(join(dir, WAL), 'a');
    store.walBytes = (await store.wal.stat()).size;
    // A torn last line (power loss) must not swallow the next append.
    if (tornTail) await store.append('\n');
    return store;
  }

  stream(path: string): StreamCheckpoint | undefined {
    return this.streamState.get(path);
  }

  streamPaths(): string[] {
    return [...this.streamState.keys()];
  }

  journal(): JournalCheckpoint | undefined {
    return this.journalState;
  }

  /** Intents the previous run wrote whose outcome the output file must decide. */
  pendingIntents(): readonly Intent[] {
    return this.intents;
  }

  /** Applies the first `count` pending intents (confirmed by the output) and drops the rest. */
  resolveIntents(count: number): void {
    for (const intent of this.intents.slice(0, count)) this.apply(intent.marks);
    this.intents = [];
    this.dirty = true;
  }

  /** Updates the in-memory state; marks are absolute positions, so replaying one is harmless. */
  apply(marks: readonly Mark[]): void {
    for (const mark of marks) {
      if ('stream' in mark) this.streamState.set(mark.stream, mark.at);
      else this.journalState = mark.journal;
    }
    if (marks.length) this.dirty = true;
  }

  forgetStream(path: string): void {
    if (this.streamState.delete(path)) this.dirty = true;
  }

  forgetJournal(): void {
    if (this.journalState) this.dirty = true;
    this.journalState = undefined;
  }

  /** Records marks the sink confirmed: in memory now, on disk with one append. */
  commit(marks: readonly Mark[]): Promise<void> {
    if (marks.length === 0) return Promise.resolve();
    this.apply(marks);
    return this.append({ t: Date.now(), c: [...marks] });
  }

  /** Records, before a file write, which marks the write will make true. */
  intend(marks: readonly Mark[], witness: OutputWitness): Promise<void> {
    return this.append({ t: Date.now(), i: [...marks], w: witness });
  }

  get walSize(): number {
    return this.walBytes;
  }

  private append(line: WalLine | '\n'): Promise<void> {
    const text = line === '\n' ? line : JSON.stringify(line) + '\n';
    this.walBytes += Buffer.byteLength(text);
    // Synchronous (a small write to the page cache): a thread-pool round trip per delivery was
    // a tenth of a busy sidecar's CPU time. Still in the chain, so never inside a snapshot.
    this.appendChain = this.appendChain.then(() => {
      writeAllSync(this.wal!.fd, text);
    });
    return this.appendChain;
  }

  /**
   * Writes the whole state as a new snapshot and empties the WAL. `sync` runs first so that
   * the output is on disk before a snapshot that claims it is.
   */
  async snapshot(sync?: () => Promise<void>): Promise<void> {
    if (!this.dirty && this.walBytes === 0) return;
    if (sync) await sync();
    // Runs in the append chain: no WAL line can land between building the state and emptying the WAL.
    const work = this.appendChain.then(() => this.writeSnapshot());
    this.appendChain = work.catch(() => undefined);
    await work;
  }

  private async writeSnapshot(): Promise<void> {
    this.dirty = false;
    const state: Snapshot = {
      version: VERSION,
      savedAt: Date.now(),
      streams: Object.fromEntries(this.streamState),
      ...(this.journalState ? { journal: this.journalState } : {}),
    };
    const tmp = join(this.dir, `${SNAPSHOT}.tmp`);
    const handle = await open(tmp, 'w');
    try {
      await handle.write(JSON.stringify(state));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, join(this.dir, SNAPSHOT));
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    // Everything in the WAL is in the snapshot now (replaying it over the snapshot would be
    // harmless, so a crash between rename and truncate loses nothing).
    await this.wal!.truncate(0);
    this.walBytes = 0;
  }

  async close(): Promise<void> {
    await this.appendChain;
    await this.wal?.close();
    this.wal = undefined;
    await rm(join(this.dir, LOCK), { force: true });
  }
}
