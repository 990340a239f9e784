// Writes a set of files as one directory, all or nothing: the files go to a temporary directory
// next to the target, which is then renamed into place. A crash leaves either the old directory,
// the new one, or (between the two renames) the old one under a backup name — never a mix.
import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rename, rm, stat, chmod } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../runtime/options.js';

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? (err instanceof Error ? err.message : String(err));
}

async function statOrUndefined(p: string) {
  try {
    return await stat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot use ${p}: ${reason(err)}`);
  }
}

/** Refuses targets that are not a directory of files this tool may replace. */
async function checkTarget(target: string, replaceable: readonly string[]): Promise<boolean> {
  const st = await statOrUndefined(target);
  if (!st) return false;
  if (!st.isDirectory()) throw new UsageError(`${target} exists and is not a directory`);
  const foreign = (await readdir(target)).filter((f) => !replaceable.includes(f));
  if (foreign.length)
    throw new UsageError(`${target} holds files generate did not write (${foreign.slice(0, 3).join(', ')}); choose another --out`);
  return true;
}

async function writeFileSynced(file: string, content: string, mode: number): Promise<void> {
  const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface WriteOptions {
  /** File names an existing target directory may hold (it is replaced as a whole). */
  readonly replaceable: readonly string[];
  /** Content carries secrets: owner-only permissions. */
  readonly secret: boolean;
}

/**
 * Replaces `outDir` with a directory holding exactly `files` (name → content); missing parents are created.
 * Bad targets (not a directory, foreign files, a parent that is a file or cannot be created) are UsageErrors.
 */
export async function writeDirectory(outDir: string, files: ReadonlyMap<string, string>, options: WriteOptions): Promise<void> {
  const target = path.resolve(outDir);
  const parent = path.dirname(target);
  try {
    await mkdir(parent, { recursive: true });
  } catch (err) {
    throw new UsageError(`cannot write ${target}: cannot create its parent ${parent}: ${reason(err)}`);
  }
  const parentStat = await statOrUndefined(parent);
  if (!parentStat?.isDirectory()) throw new UsageError(`cannot write ${target}: ${parent} is not a directory`);
  const exists = await checkTarget(target, options.replaceable);

  let tmp: string;
  try {
    tmp = await mkdtemp(path.join(parent, `.${path.basename(target)}.tmp-`));
  } catch (err) {
    throw new UsageError(`cannot write to ${parent}: ${reason(err)}`);
  }
  try {
    for (const [name, content] of files) await writeFileSynced(path.join(tmp, name), content, options.secret ? 0o600 : 0o644);
    await chmod(tmp, options.secret ? 0o700 : 0o755);
    if (!exists) {
      await rename(tmp, target);
      return;
    }
    const backup = `${tmp}.old`;
    await rename(target, backup);
    try {
      await rename(tmp, target);
    } catch (err) {
      await rename(backup, target);
      throw err;
    }
    await rm(backup, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
