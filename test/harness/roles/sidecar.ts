// Runs the real `libvirt-telemetry sidecar` as a child process for integration tests.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { checkedRecords } from '../checks/record-schema.js';
import { CLI } from '../repo.js';


export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `lt-sidecar-${prefix}-`));
}

/**
 * A temp dir with an empty QEMU log directory and a state directory, and the sidecar arguments that follow only
 * that directory (no libvirtd source), rescanning every 500 ms and closing rotated files after `rotateWait`.
 */
export function qemuLogDirSetup(prefix: string, rotateWait: string): { root: string; logs: string; state: string; args: string[] } {
  const root = tempDir(prefix);
  const logs = path.join(root, 'qemu');
  mkdirSync(logs);
  const state = path.join(root, 'state');
  const args = ['--qemu.log-dir', logs, '--libvirtd.source', 'none', '--state-dir', state, '--rescan-interval', '500ms', '--rotate-wait', rotateWait];
  return { root, logs, state, args };
}

export interface RunningSidecar {
  readonly child: ChildProcess;
  /** stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Complete JSON lines of stdout, parsed and checked against the record schema. */
  records(): Record<string, unknown>[];
  waitFor(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  metrics(): Promise<string>;
  health(): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
  port(): Promise<number>;
}

export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface StartOptions {
  readonly wrap?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

/** Starts the sidecar with `args` (plus a /metrics port chosen by the OS). */
export function startSidecar(args: readonly string[], options: StartOptions = {}): RunningSidecar {
  const argv = [...(options.wrap ?? []), process.execPath, CLI, 'sidecar', '--web.listen-address', '127.0.0.1:0', ...args];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  let out = '';
  let err = '';
  let checked = 0;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | string>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? -1)));
  const port = async (): Promise<number> => {
    // Generous: a loaded machine may take many seconds to start Node and load the modules.
    await until(() => /on port (\d+)/.test(err), 60_000, 'the sidecar to listen');
    return Number(/on port (\d+)/.exec(err)![1]);
  };
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    records: () => {
      const records = out
        .split('\n')
        .slice(0, -1)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      // Tests poll this: check each record once.
      checkedRecords(records.slice(checked));
      checked = records.length;
      return records;
    },
    waitFor: (predicate, timeoutMs = 15_000, what = 'condition') => until(predicate, timeoutMs, what),
    metrics: async () => (await fetch(`http://127.0.0.1:${await port()}/metrics`)).text(),
    health: async () => {
      const res = await fetch(`http://127.0.0.1:${await port()}/healthz`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    exited,
    port,
  };
}

/** Value of one sample in Prometheus text (labels given as `key="value"` pairs), 0 if absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z0-9_:]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const set = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) {
      total += Number(m[3]);
      found = true;
    }
  }
  return found ? total : 0;
}

/**
 * Waits until `actual()` (records of a sidecar) equals `expected()`, both asked again at every look (a real log may still grow
 * after the domain is shut off: QEMU's last words reach it through virtlogd), and returns that expectation.
 * On a timeout it returns the last one, for the caller's assertion to show the difference.
 */
export async function expectedOnceEqual(actual: () => Record<string, unknown>[], expected: () => Record<string, unknown>[], timeoutMs = 60_000): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const want = expected();
    if (isDeepStrictEqual(actual(), want) || Date.now() > deadline) return want;
    // `expected` may run a parse: look a few times a second, not 40.
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** What `libvirt-telemetry parse --domain DOMAIN -` makes of `input`: the reference the sidecar's records must equal. */
export function parseWithCli(input: Buffer | string, domain: string): Record<string, unknown>[] {
  const out = execFileSync(process.execPath, [CLI, 'parse', '--domain', domain, '-'], { input, maxBuffer: 64 * 2 ** 20 }).toString();
  return checkedRecords(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  );
}

/** The records of a JSON-lines output file, checked against the record schema. */
export function readJsonLines(file: string): Record<string, unknown>[] {
  return checkedRecords(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  );
}
