// Processes by pid, verified through /proc: daemons are reparented to PID 1, which reaps them
// late, so `kill -0` succeeds on a zombie and a recycled pid could name a stranger.
import { execFile, spawn, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';

/** A process we started, identified beyond its pid by its name and its start time (clock ticks after boot). */
export interface ProcessRef {
  pid: number;
  comm: string;
  startTime: number;
}

interface ProcStat {
  state: string;
  startTime: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may contain spaces and parentheses: the fields after it start behind the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, startTime: Number(fields[19]) };
}

function readComm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Identifies a running process now; undefined when it is gone or a zombie. */
export function processRef(pid: number): ProcessRef | undefined {
  const stat = readStat(pid);
  const comm = readComm(pid);
  if (!stat || comm === undefined || stat.state === 'Z' || stat.state === 'X') return undefined;
  return { pid, comm, startTime: stat.startTime };
}

/** True while the very process `ref` names runs (not a zombie, not a recycled pid). */
export function isAlive(ref: ProcessRef | undefined): boolean {
  if (!ref) return false;
  const now = processRef(ref.pid);
  return now !== undefined && now.comm === ref.comm && now.startTime === ref.startTime;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `intervalMs` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => T | undefined | false | Promise<T | undefined | false>, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Sends `signal` (SIGTERM by default), waits up to `graceMs`, then SIGKILL; resolves once /proc
 * shows the process gone or a zombie.
 */
export async function stopProcess(ref: ProcessRef, graceMs = 10_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!isAlive(ref)) return;
  process.kill(ref.pid, signal);
  try {
    await waitFor(`${ref.comm} (pid ${ref.pid}) to exit`, graceMs, () => !isAlive(ref));
    return;
  } catch {
    if (isAlive(ref)) process.kill(ref.pid, 'SIGKILL');
  }
  await waitFor(`${ref.comm} (pid ${ref.pid}) to die after SIGKILL`, 5_000, () => !isAlive(ref));
}

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs a program (no shell) and returns its output; rejects with its stderr on failure. */
export function runCommand(file: string, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, env: options.env ?? process.env, cwd: options.cwd }, (error, stdout, stderr) => {
      if (error) {
        const detail = (stderr || stdout || error.message).trim().split('\n').slice(-5).join(' | ');
        reject(new Error(`${file} ${args.join(' ')}: ${detail}`));
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

/** Runs a program with the given stdio and resolves with its exit code (signals count as 128+n). */
export function runInherited(file: string, args: readonly string[], options: SpawnOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'inherit', ...options });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}
