// The machine-wide lock around changes to the environment (up, down, daemon restarts).
// Held by a `flock` child that keeps the lock until its stdin closes: if this process dies,
// the pipe closes, and the kernel drops the lock with the child — no stale lock files.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { paths } from './layout.js';

const LOCK_WAIT_SECONDS = 600;

/** Runs `body` while holding the environment lock; waits up to 10 minutes for another holder. */
export async function withLock<T>(body: () => Promise<T>): Promise<T> {
  mkdirSync(path.dirname(paths.lock), { recursive: true });
  const holder = spawn('flock', ['--exclusive', '--wait', String(LOCK_WAIT_SECONDS), paths.lock, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => holder.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    holder.on('error', reject);
    holder.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('locked')) resolve();
    });
    holder.on('exit', (code) => reject(new Error(`could not lock ${paths.lock} (flock exited ${code})`)));
  });
  try {
    return await body();
  } finally {
    holder.stdin.end();
    await exited;
  }
}
