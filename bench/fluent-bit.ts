// The generated Fluent Bit pipelines against a real Fluent Bit, record by record. A writer appends a
// QEMU-log corpus (>= 256 MiB by default, 8 domains, command-line blocks of 10–50 lines, virtlogd-style
// rotation) while each pipeline runs, into its own file:
//   (a) the generated Fluent Bit-only pipeline (`generate --qemu-logs on`): in_tail + multiline + parsers;
//   (b) sidecar -> forward -> the generated forward-input pipeline (`generate`, the default), the sidecar
//       started with the command line the generated configuration prints;
//   (c) the sidecar alone, to a file.
// Printed per pipeline: MiB/s (wall, writer start to last output), CPU-s and peak RSS of each process,
// and the records lost / split / duplicated, counted record by record (bench/qemu-corpus.ts).
//
//   FLUENT_BIT=/path/to/fluent-bit npm run bench:fluent-bit [-- MiB]
// Optional: BENCH_WRITE_MIB_S (writer pace, default 4), BENCH_PIPELINES (default a,b,c),
// BENCH_BASELINE_CLI (another build's dist/cli/main.js: its generated Fluent Bit-only pipeline is run
// first, for a before/after).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateOptions } from '../generator/options.js';
import { parseDuration } from '../runtime/options.js';
import { processMemory } from './proc-memory.js';
import { corpusRecord, RecordLedger } from './qemu-corpus.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '..', 'cli', 'main.js');
const TICK = 100; // USER_HZ
const DOMAINS = 8;
/** virtlogd rotates at max_size (2 MiB by default); larger here so a rotation falls every few seconds per domain. */
const ROTATE_BYTES = 8 * 1024 * 1024;
/**
 * The default pace rotates each domain log every 16 s. in_tail never reads a file that is created and
 * renamed away before it looks at the path again (its Refresh_Interval scan, 10 s by default, or the
 * rotation of the file before it): a faster pace measures that loss (docs/generate.md), not the pipeline.
 */
const DEFAULT_WRITE_MIB_S = 4;
/** The generated configuration's default in_tail Refresh_Interval. */
const REFRESH_SECONDS = parseDuration(String(generateOptions.find((o) => o.name === 'tail.refresh-interval')!.default))! / 1000;
/** Whole records per write, as libvirtd and QEMU write them. */
const WRITE_BYTES = 64 * 1024;
/** The output is complete when it has not grown for this long after the writer finished. */
const QUIET_MS = 10_000;

function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK;
  } catch {
    return NaN;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `generate` of `cli` into `out` (classic format); returns the main file. */
function generate(cli: string, out: string, args: string[]): string {
  const r = spawnSync(process.execPath, [cli, 'generate', '--format', 'classic', '--out', out, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`generate failed: ${r.stderr}`);
  return path.join(out, 'fluent-bit.conf');
}

/** Options every generated pipeline of the bench gets: its own state, ports, and no journal entries to read. */
async function commonArgs(dir: string): Promise<string[]> {
  return [
    '--state-dir', path.join(dir, 'fb-state'),
    '--http.listen', '127.0.0.1', '--http.port', String(await freePort()),
    // The host model's journal input stays, but on a unit that has no entries: only QEMU records are measured.
    '--journal.unit', 'libvirt-telemetry-bench-none.service',
  ];
}

interface Written {
  bytes: number;
  seconds: number;
}

/** Appends the corpus to <dir>/<domain>.log at `mibPerSecond`, rotating like virtlogd (no backup deleted). */
async function writeCorpus(dir: string, totalBytes: number, mibPerSecond: number, ledger: RecordLedger): Promise<Written> {
  const files = Array.from({ length: DOMAINS }, (_, d) => ({ name: `instance-${String(d).padStart(8, '0')}`, fd: -1, size: 0, backups: 0 }));
  for (const f of files) f.fd = openSync(path.join(dir, `${f.name}.log`), 'a');
  const started = performance.now();
  let bytes = 0;
  let id = 1;
  let i = 0;
  while (bytes < totalBytes) {
    for (const f of files) {
      const parts: string[] = [];
      let size = 0;
      while (size < WRITE_BYTES) {
        const record = corpusRecord(id, i++, f.name);
        ledger.expect(id++, record.lines);
        parts.push(record.text);
        size += Buffer.byteLength(record.text);
      }
      writeSync(f.fd, parts.join(''));
      f.size += size;
      bytes += size;
      if (f.size >= ROTATE_BYTES) {
        closeSync(f.fd);
        const base = path.join(dir, `${f.name}.log`);
        for (let n = f.backups; n > 0; n--) renameSync(`${base}.${n - 1}`, `${base}.${n}`);
        renameSync(base, `${base}.0`);
        f.backups++;
        f.fd = openSync(base, 'a');
        f.size = 0;
      }
    }
    const ahead = bytes / (mibPerSecond * 1024 * 1024) - (performance.now() - started) / 1000;
    if (ahead > 0.005) await sleep(ahead * 1000);
  }
  for (const f of files) closeSync(f.fd);
  return { bytes, seconds: (performance.now() - started) / 1000 };
}

/** Waits until `file` has not grown for QUIET_MS; returns when it last grew (performance.now()). */
async function waitQuiet(file: string, since: number): Promise<number> {
  let size = -1;
  let grewAt = since;
  for (;;) {
    const now = existsSync(file) ? statSync(file).size : 0;
    if (now !== size) {
      size = now;
      grewAt = performance.now();
    } else if (performance.now() - grewAt > QUIET_MS) return grewAt;
    await sleep(250);
  }
}

async function count(file: string, ledger: RecordLedger) {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) ledger.see(line);
  return ledger.verdict();
}

interface Proc {
  readonly label: string;
  readonly child: ChildProcess;
}

function start(label: string, command: string, args: string[], stdoutFile: string, logFile: string): Proc {
  const out = openSync(stdoutFile, 'w');
  const log = openSync(logFile, 'w');
  const child = spawn(command, args, { stdio: ['ignore', out, log] });
  closeSync(out);
  closeSync(log);
  return { label, child };
}

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null) return;
  const closed = new Promise((r) => p.child.once('close', r));
  p.child.kill('SIGTERM');
  await closed;
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface Row {
  label: string;
  written: Written;
  seconds: number;
  usage: string;
  cpu: number;
  verdict: ReturnType<RecordLedger['verdict']>;
}

/** Runs one pipeline: its processes first, then the writer, then waits for the output to settle. */
async function measure(label: string, mib: number, rate: number, setUp: (dir: string, qemuDir: string, outFile: string) => Promise<Proc[]>): Promise<Row> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lt-fb-bench-'));
  try {
    const qemuDir = path.join(dir, 'qemu');
    mkdirSync(qemuDir);
    const outFile = path.join(dir, 'records.out');
    const procs = await setUp(dir, qemuDir, outFile);
    const ledger = new RecordLedger();
    const started = performance.now();
    const written = await writeCorpus(qemuDir, mib * 1024 * 1024, rate, ledger);
    const lastOutput = await waitQuiet(outFile, started);
    const usage: string[] = [];
    let cpu = 0;
    for (const p of procs) {
      const pid = p.child.pid!;
      const seconds = cpuSeconds(pid);
      cpu += seconds;
      usage.push(`${p.label} ${seconds.toFixed(1)} CPU-s, peak RSS ${(processMemory(pid).peak / 2 ** 20).toFixed(0)} MiB`);
    }
    for (const p of procs.reverse()) await stop(p);
    const verdict = await count(outFile, ledger);
    return { label, written, seconds: (lastOutput - started) / 1000, usage: usage.join('; '), cpu, verdict };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fluentBitOnly(fluentBit: string, cli: string) {
  return async (dir: string, qemuDir: string, outFile: string): Promise<Proc[]> => {
    const conf = generate(cli, path.join(dir, 'cfg'), ['--qemu-logs', 'on', '--qemu.path', path.join(qemuDir, '*.log'), ...(await commonArgs(dir))]);
    return [start('fluent-bit', fluentBit, ['-c', conf], outFile, path.join(dir, 'fluent-bit.log'))];
  };
}

/** The sidecar command line the generated configuration prints in its forward input's comment. */
function printedSidecarArgs(conf: string): string[] {
  const line = /^#\s+libvirt-telemetry sidecar (.*)$/m.exec(readFileSync(conf, 'utf8'));
  if (!line) throw new Error(`no sidecar command line in ${conf}`);
  return line[1]!.split(' ');
}

function sidecarArgs(dir: string, qemuDir: string): string[] {
  return ['--qemu.log-dir', qemuDir, '--state-dir', path.join(dir, 'sidecar-state'), '--web.listen-address', ''];
}

function sidecarToFluentBit(fluentBit: string) {
  return async (dir: string, qemuDir: string, outFile: string): Promise<Proc[]> => {
    const port = await freePort();
    const conf = generate(CLI, path.join(dir, 'cfg'), ['--sidecar.port', String(port), ...(await commonArgs(dir))]);
    const fb = start('fluent-bit', fluentBit, ['-c', conf], outFile, path.join(dir, 'fluent-bit.log'));
    await waitFor('the forward input', () => readFileSync(path.join(dir, 'fluent-bit.log'), 'utf8').includes(`listening on 127.0.0.1:${port}`));
    const sidecar = start('sidecar', process.execPath, [CLI, 'sidecar', ...printedSidecarArgs(conf), ...sidecarArgs(dir, qemuDir)], '/dev/null', path.join(dir, 'sidecar.log'));
    await waitFor('the sidecar', () => readFileSync(path.join(dir, 'sidecar.log'), 'utf8').includes('following'));
    return [fb, sidecar];
  };
}

async function sidecarAlone(dir: string, qemuDir: string, outFile: string): Promise<Proc[]> {
  const sidecar = start('sidecar', process.execPath, [CLI, 'sidecar', '--libvirtd.source', 'none', '--output', 'file', '--output.file', outFile, ...sidecarArgs(dir, qemuDir)], '/dev/null', path.join(dir, 'sidecar.log'));
  await waitFor('the sidecar', () => readFileSync(path.join(dir, 'sidecar.log'), 'utf8').includes('following'));
  return [sidecar];
}

function print(row: Row): void {
  const mib = row.written.bytes / 2 ** 20;
  const v = row.verdict;
  console.log(
    `${row.label.padEnd(34)} ${(mib / row.seconds).toFixed(1).padStart(6)} MiB/s  ${row.cpu.toFixed(1).padStart(6)} CPU-s (${(mib / row.cpu).toFixed(1)} MiB per CPU-s)  ` +
      `records ${v.records.toLocaleString('en')}: ${v.lost} lost (${v.linesLost} lines), ${v.split} split, ${v.duplicated} duplicated  [${row.usage}]`,
  );
}

const fluentBit = process.env['FLUENT_BIT'];
if (!fluentBit) {
  console.log('bench:fluent-bit skipped: set FLUENT_BIT=/path/to/fluent-bit (Fluent Bit 4.2 built or installed) to run it');
} else {
  const mib = Number(process.argv[2] ?? 256);
  const rate = Number(process.env['BENCH_WRITE_MIB_S'] ?? DEFAULT_WRITE_MIB_S);
  const version = spawnSync(fluentBit, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
  const rotateSeconds = ROTATE_BYTES / 2 ** 20 / (rate / DOMAINS);
  console.log(
    `${version}; corpus ${mib} MiB in ${DOMAINS} domain logs written at ${rate} MiB/s, rotated every ${ROTATE_BYTES / 2 ** 20} MiB ` +
      `(every ${rotateSeconds.toFixed(0)} s) per domain`,
  );
  if (rotateSeconds < REFRESH_SECONDS) console.log(`note: a rotation every ${rotateSeconds.toFixed(0)} s per domain is faster than in_tail's ${REFRESH_SECONDS} s Refresh_Interval: (a) can miss whole files`);
  const baseline = process.env['BENCH_BASELINE_CLI'];
  const pipelines = (process.env['BENCH_PIPELINES'] ?? 'a,b,c').split(',');
  if (baseline) print(await measure('(a) Fluent Bit only, baseline', mib, rate, fluentBitOnly(fluentBit, baseline)));
  if (pipelines.includes('a')) print(await measure('(a) Fluent Bit only', mib, rate, fluentBitOnly(fluentBit, CLI)));
  if (pipelines.includes('b')) print(await measure('(b) sidecar -> forward -> Fluent Bit', mib, rate, sidecarToFluentBit(fluentBit)));
  if (pipelines.includes('c')) print(await measure('(c) sidecar alone', mib, rate, sidecarAlone));
}
