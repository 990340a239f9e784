// `generate --check`: Fluent Bit itself reads what was generated (`fluent-bit --dry-run -c`), so a
// configuration it would refuse is caught before it is deployed. Without a Fluent Bit binary the
// check is skipped, and says so.
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FILE_NAMES } from './files.js';

/** Where the official packages install it when it is not on PATH. */
const PACKAGE_BINARY = '/opt/fluent-bit/bin/fluent-bit';
/** A dry run reads the configuration and exits; longer means it hangs. */
const DRY_RUN_TIMEOUT_MS = 60_000;

export interface CheckVerdict {
  /** False when Fluent Bit rejected a file or could not be run; a skipped check is ok. */
  readonly ok: boolean;
  readonly lines: readonly string[];
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `fluent-bit` on PATH, else the package location; undefined when there is none. */
async function findFluentBit(): Promise<string | undefined> {
  const dirs = (process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean);
  for (const candidate of [...dirs.map((d) => path.join(d, 'fluent-bit')), PACKAGE_BINARY]) {
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

interface RunResult {
  readonly code: number | null;
  readonly output: string;
  readonly error?: string;
}

function run(binary: string, args: readonly string[], cwd: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: DRY_RUN_TIMEOUT_MS });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => resolve({ code: null, output, error: err.message }));
    child.on('close', (code, signal) =>
      resolve(signal ? { code: null, output, error: `killed by ${signal} after ${DRY_RUN_TIMEOUT_MS / 1000} s` } : { code, output }),
    );
  });
}

/** Fluent Bit's own words: its error lines (or the last lines) without ANSI colours. */
function explanation(output: string): string {
  const lines = output.replace(/\x1b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter((l) => /\[\s*error\]|error|invalid|unknown|could not|cannot/i.test(l));
  return (errors.length ? errors : lines.slice(-3)).join(' | ');
}

/** Runs `--dry-run -c` on each main file of `files` (written to a temporary directory, parsers file beside). */
export async function checkConfig(files: ReadonlyMap<string, string>, explicitBinary: string | undefined): Promise<CheckVerdict> {
  const binary = explicitBinary ?? (await findFluentBit());
  if (binary === undefined)
    return { ok: true, lines: [`check skipped: no fluent-bit on PATH or at ${PACKAGE_BINARY} (give one with --fluent-bit PATH)`] };
  if (!(await isExecutable(binary))) return { ok: false, lines: [`check failed: --fluent-bit ${binary} is not an executable file`] };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'libvirt-telemetry-check-'));
  try {
    for (const [name, content] of files) await writeFile(path.join(dir, name), content, { mode: 0o600 });
    const version = (await run(binary, ['--version'], dir)).output.split('\n')[0]?.trim() || 'version unknown';
    const lines: string[] = [];
    let ok = true;
    for (const main of [FILE_NAMES.classic.main, FILE_NAMES.yaml.main].filter((f) => files.has(f))) {
      const r = await run(binary, ['--dry-run', '-c', path.join(dir, main)], dir);
      if (r.code === 0) lines.push(`check: ${binary} (${version}) --dry-run accepts ${main}`);
      else {
        ok = false;
        lines.push(`check failed: ${binary} (${version}) --dry-run rejects ${main}: ${r.error ?? `exit ${r.code}`}: ${explanation(r.output)}`);
      }
    }
    return { ok, lines };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
