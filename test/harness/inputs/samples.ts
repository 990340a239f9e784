// The log and capture samples in test/fixtures/samples/ (see test/fixtures/README.md) and small helpers over them.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../repo.js';

export { CLI, REPO_ROOT } from '../repo.js';
export const SAMPLES = path.join(REPO_ROOT, 'test', 'fixtures', 'samples');

export function sample(relative: string): string {
  return path.join(SAMPLES, relative);
}

/** Sample files under `dir` whose name matches `pattern`. */
export function samplesIn(dir: string, pattern: RegExp): string[] {
  return readdirSync(path.join(SAMPLES, dir))
    .filter((f) => pattern.test(f))
    .sort()
    .map((f) => path.join(SAMPLES, dir, f));
}

export const QEMU_LOG_SAMPLES = [...samplesIn('qemu', /\.log$/), ...samplesIn('real', /^qemu-.*\.log$/)];
export const JOURNAL_SAMPLES = [...samplesIn('journal', /\.json$/), ...samplesIn('real', /^journal-.*\.json$/)];
export const CRI_SAMPLES = samplesIn('containers', /\.log$/);

/** The lines of a text file, without the empty string after its final newline. */
export function linesOf(file: string): string[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
