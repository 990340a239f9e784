// An input given as a path with globs in any element (`/var/log/pods/openstack_libvirt-*/libvirtd/0.log`:
// the pod directory changes with every pod): one FileSource per matching directory, found again at
// every rescan, so a new pod's directory is followed once it appears. Delivery guarantee: that of
// FileSource (at least once; checkpoints follow the output's confirmations) for every file it follows.
import { readdir } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { FileSource, globToRegExp, type FileSourceOptions } from './file-source.js';
import type { InputState, Source } from './source.js';

const GLOB = /[*?[]/;

/** The directories matching `dirPattern` (an absolute path whose elements may hold globs). */
export async function matchingDirectories(dirPattern: string): Promise<string[]> {
  let found: string[] = [sep];
  for (const element of dirPattern.split(sep).filter(Boolean)) {
    const next: string[] = [];
    for (const dir of found) {
      if (!GLOB.test(element)) {
        next.push(join(dir, element));
        continue;
      }
      const pattern = globToRegExp(element);
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) if (e.isDirectory() && pattern.test(e.name)) next.push(join(dir, e.name));
    }
    found = next;
  }
  return found.sort();
}

export class GlobSource implements Source {
  private readonly sources = new Map<string, FileSource>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private scanning: Promise<void> = Promise.resolve();

  constructor(
    /** The configured path, globs allowed in any element. */
    readonly path: string,
    private readonly opts: Omit<FileSourceOptions, 'dir' | 'pattern'>,
  ) {}

  async start(): Promise<void> {
    await this.scan();
    this.timer = setInterval(() => {
      this.scanning = this.scanning.then(() => this.scan());
    }, this.opts.rescanMs).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.scanning;
    await Promise.all([...this.sources.values()].map((s) => s.stop()));
    this.sources.clear();
  }

  /** Up while at least one file matches the path. */
  state(): InputState {
    for (const s of this.sources.values()) if (s.streamCount > 0) return { up: true, reason: null };
    const dirs = this.sources.size;
    return { up: false, reason: dirs === 0 ? 'no directory matches' : `no file matches in ${dirs} matching director${dirs === 1 ? 'y' : 'ies'}` };
  }

  private async scan(): Promise<void> {
    if (this.stopped) return;
    const dirs = new Set(await matchingDirectories(dirname(this.path)));
    for (const dir of dirs) {
      if (this.sources.has(dir) || this.stopped) continue;
      const source = new FileSource({ ...this.opts, dir, pattern: globToRegExp(basename(this.path)) });
      this.sources.set(dir, source);
      await source.start();
    }
    // A directory that went away (its pod was deleted) is given up once its files are finished.
    for (const [dir, source] of this.sources) {
      if (dirs.has(dir) || source.streamCount > 0) continue;
      this.sources.delete(dir);
      await source.stop();
    }
  }
}
