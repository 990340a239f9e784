// What the environment started and created, so that `down` undoes exactly that.
// Read and written only under the lock (lock.ts).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { paths } from './layout.js';
import type { ProcessRef } from './proc.js';

export type DaemonName = 'journald' | 'virtlogd' | 'libvirtd';

export interface TestenvState {
  startedAt: string;
  daemons: Partial<Record<DaemonName, ProcessRef>>;
  /** Host changes made by `up`, undone by `down` (only the ones made here). */
  created: { devLog: boolean; etcLibvirtDir: boolean; enospcMount: boolean };
  /** Kept up by an explicit `up` until an explicit `down`. */
  keep: boolean;
  /** `run` processes using the environment; the last one out tears it down unless `keep`. */
  holders: ProcessRef[];
}

export function emptyState(): TestenvState {
  return { startedAt: new Date().toISOString(), daemons: {}, created: { devLog: false, etcLibvirtDir: false, enospcMount: false }, keep: false, holders: [] };
}

export function readState(): TestenvState | undefined {
  let text: string;
  try {
    text = readFileSync(paths.stateFile, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as TestenvState;
  } catch {
    throw new Error(`${paths.stateFile} is not valid JSON; remove it after checking no daemon of the test environment runs`);
  }
}

export function writeState(state: TestenvState): void {
  mkdirSync(paths.state, { recursive: true });
  const temporary = `${paths.stateFile}.${process.pid}`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temporary, paths.stateFile);
}

export function removeState(): void {
  rmSync(paths.stateFile, { force: true });
}
