// A directory of log files matching a glob (the QEMU domain logs, or libvirtd's CRI log):
// one FileStream per path, new paths found through inotify (fs.watch) within moments and by a
// slow rescan as the safety net, which also re-checks every stream for missed changes.
import { watch, type FSWatcher } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { CheckpointStore } from './checkpoint-store.js';
import { FileStream, type StreamOptions } from './file-stream.js';
import type { InputState, Source } from './source.js';
import { pathExists, planNew, planResume } from './siblings.js';

export interface FileSourceOptions extends Omit<StreamOptions, 'tag' | 'newParser'> {
  readonly dir: string;
  /** Matches the base names of the files to follow. */
  readonly pattern: RegExp;
  readonly tagFor: (name: string) => string;
  readonly parserFor: (name: string) => StreamOptions['newParser'];
  /** Where files that exist at the very first start begin. */
  readonly startAt: 'head' | 'tail';
  readonly rescanMs: number;
  readonly store: CheckpointStore;
}

/** `*.log`-style glob (`*`, `?`, `[...]`) to an anchored RegExp over a base name. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) out += '\\[';
      else {
        const body = glob.slice(i + 1, close);
        out += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`;
        i = close;
      }
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

export class FileSource implements Source {
  private readonly streams = new Map<string, FileStream>();
  private readonly creating = new Set<string>();
  private watcher: FSWatcher | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** When the source started, and when a name's stream was last given up: copies newer than that are unread. */
  private startedAt = Date.now();
  private readonly forgottenAt = new Map<string, number>();
  /** Why the directory could not be read at the last scan (null: it could). */
  private dirError: string | null = null;

  constructor(private readonly opts: FileSourceOptions) {}

  get streamCount(): number {
    return this.streams.size;
  }

  /** Up while its directory can be read (a directory without matching files is a quiet host, not a fault). */
  state(): InputState {
    return { up: this.dirError === null, reason: this.dirError };
  }

  async start(): Promise<void> {
    const { store, dir, pattern } = this.opts;
    this.startedAt = Date.now();
    // Paths the previous run followed resume from their checkpoints.
    for (const path of store.streamPaths()) {
      if (dirname(path) !== dir || !pattern.test(basename(path))) continue;
      const cp = store.stream(path)!;
      const plan = await planResume(path, cp);
      if (plan.replaced) {
        const { path: file, size, offset } = plan.replaced;
        const why = size < offset ? `is shorter (${size} bytes) than its checkpoint (${offset} bytes)` : 'no longer starts with the bytes its checkpoint saw';
        this.opts.metrics.rotations.inc({ type: 'truncate' });
        this.opts.log.warn(
          `${file === path ? path : `${path}: ${file}`} ${why}: it was truncated or replaced while the sidecar was down; it is read again from its head ` +
            `(lines written to it after the checkpoint and before the truncation were never read)`,
        );
      }
      if (plan.lost) {
        this.opts.metrics.drops.inc({ reason: 'checkpoint_file_vanished' });
        const at = cp.file!;
        this.opts.log.warn(
          `${path}: the file of its checkpoint (inode ${at.ino}, read up to byte ${at.offset}) is gone (rotated away or deleted while the sidecar was down), ` +
            `or cannot be told from a newer file with its inode number; what it got after byte ${at.offset} is lost, the files newer than it are read from their head`,
        );
      }
      if (plan.files.length === 0 && !(await pathExists(path))) {
        store.forgetStream(path);
        continue;
      }
      await this.add(path, cp.since, async (stream) => stream.begin(plan));
    }
    await this.rescan(true);
    this.watchDir();
    this.rescanTimer = setInterval(() => void this.rescan(false), this.opts.rescanMs).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.rescanTimer);
    this.watcher?.close();
    await Promise.all([...this.streams.values()].map((s) => s.stop()));
    this.streams.clear();
  }

  /** Checkpoints of every stream as of what it produced (for tests and diagnostics). */
  paths(): string[] {
    return [...this.streams.keys()];
  }

  private async add(path: string, since: number, begin: (stream: FileStream) => Promise<void>): Promise<void> {
    const name = basename(path);
    const stream = new FileStream(path, { ...this.opts, tag: this.opts.tagFor(name), newParser: this.opts.parserFor(name) }, since);
    this.streams.set(name, stream);
    await begin(stream);
  }

  /** A path seen for the first time: from the head (or per --read-from on the very first start). */
  private async discover(name: string, atStartup: boolean): Promise<void> {
    if (this.streams.has(name) || this.creating.has(name) || this.stopped) return;
    this.creating.add(name);
    try {
      const { store } = this.opts;
      const path = join(this.opts.dir, name);
      const firstStart = atStartup && store.firstStart;
      // Found while running: rotated copies written since we last could have seen the name are
      // unread too (a writer can rotate before inotify tells us about the file).
      const newerThan = atStartup ? (store.firstStart ? null : store.previousSavedAt) : (this.forgottenAt.get(name) ?? this.startedAt);
      const plan = await planNew(path, firstStart ? this.opts.startAt : 'head', newerThan);
      if (this.stopped) return;
      await this.add(path, Date.now(), async (stream) => {
        await stream.begin(plan);
        // The start position holds before any record is confirmed: a restart must not move it.
        await store.commit([{ stream: path, at: stream.checkpoint() }]);
      });
    } finally {
      this.creating.delete(name);
    }
  }

  private async rescan(atStartup: boolean): Promise<void> {
    if (this.stopped) return;
    let names: string[] = [];
    try {
      names = await readdir(this.opts.dir);
      this.dirError = null;
      this.opts.log.clear(`dir:${this.opts.dir}`);
    } catch (err) {
      this.dirError = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (err as Error).message;
      this.opts.log.warnOnce(`dir:${this.opts.dir}`, `cannot read ${this.opts.dir}: ${(err as Error).message}; retrying every rescan`);
    }
    if (!this.watcher && !atStartup) this.watchDir();
    for (const name of names) if (this.opts.pattern.test(name)) await this.discover(name, atStartup);
    if (atStartup) return;
    const present = new Set(names);
    for (const [name, stream] of this.streams) {
      if (!present.has(name) && stream.openFiles === 0) {
        this.streams.delete(name);
        this.forgottenAt.set(name, Date.now());
        await stream.stop();
      } else stream.recheck();
    }
  }

  private watchDir(): void {
    try {
      this.watcher = watch(this.opts.dir, { persistent: false }, (_event, filename) => this.onEvent(filename));
      this.watcher.on('error', () => {
        // The directory went away; the rescan watches it again once it is back.
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined;
    }
  }

  private onEvent(filename: string | Buffer | null): void {
    if (filename === null) return void this.rescan(false);
    const name = filename.toString();
    const stream = this.streams.get(name);
    if (stream) return stream.poke();
    if (this.opts.pattern.test(name)) return void this.discover(name, false);
    // A rotated copy (`x.log.0`): its stream may be draining it.
    const dot = name.lastIndexOf('.');
    if (dot > 0) this.streams.get(name.slice(0, dot))?.poke();
  }
}
