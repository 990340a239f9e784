// Runs the real exporter (`node dist/cli/main.js exporter …`) as a child process on a free loopback port,
// scrapes it over HTTP, and stops it by its pid.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../repo.js';
import { parseExposition, type Sample } from '../readers/exposition.js';

export const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

export interface Scrape {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  readonly samples: Sample[];
  /** Wall time of the HTTP request, ms. */
  readonly ms: number;
}

export interface RunningExporter {
  readonly url: string;
  readonly pid: number;
  /** Everything the exporter wrote to stderr so far. */
  log(): string;
  scrape(options?: { accept?: string; path?: string }): Promise<Scrape>;
  stop(): Promise<void>;
}

/**
 * Starts the exporter with `args` (plus a loopback listen address on a free port) and waits until it listens.
 * `node`: the Node.js binary to run it on (the image's: imageNodeBinary); this process's by default.
 */
export async function startExporter(args: readonly string[], options: { env?: Record<string, string>; node?: string } = {}): Promise<RunningExporter> {
  const cli = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
  const child: ChildProcess = spawn(options.node ?? process.execPath, [cli, 'exporter', '--web.listen-address', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`exporter did not start listening:\n${stderr}`)), 30_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const m = /msg=listening address=(\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exporter exited with ${code}:\n${stderr}`));
    });
  });
  const pid = child.pid!;
  return {
    url,
    pid,
    log: () => stderr,
    async scrape({ accept, path: urlPath = '/metrics' } = {}) {
      const started = performance.now();
      const res = await fetch(url + urlPath, { headers: accept ? { accept } : {}, signal: AbortSignal.timeout(60_000) });
      const text = await res.text();
      const ms = performance.now() - started;
      return {
        status: res.status,
        contentType: res.headers.get('content-type') ?? '',
        text,
        samples: res.status === 200 && urlPath === '/metrics' ? parseExposition(text) : [],
        ms,
      };
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => child.exitCode === null && process.kill(pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
