// Sidecar throughput and footprint: file -> stdout and file -> Forward on a >= 500 MiB QEMU-log
// corpus built from the real samples, with CPU and peak RSS of the sidecar process; then idle
// CPU while following 1000 files. `node dist/bench/sidecar.js [MiB]` (default 512).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeMultiStream, encode } from '@msgpack/msgpack';
import { processMemory } from './proc-memory.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '..', 'cli', 'main.js');
const SAMPLES = path.resolve(here, '..', '..', 'test', 'fixtures', 'samples', 'real');
const TICK = 100; // USER_HZ

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.split(' ').pop());
  return sum;
}

function corpus(dir: string, mib: number): { file: string; bytes: number } {
  const sample = Buffer.concat([readFileSync(path.join(SAMPLES, 'qemu-tinylinux.log')), readFileSync(path.join(SAMPLES, 'qemu-tiny.log'))]);
  const file = path.join(dir, 'qemu', 'bench.log');
  mkdirSync(path.dirname(file), { recursive: true });
  const fd = openSync(file, 'w');
  let bytes = 0;
  const block = Buffer.concat(Array(64).fill(sample));
  while (bytes < mib * 1024 * 1024) bytes += writeSync(fd, block);
  closeSync(fd);
  return { file, bytes };
}

async function run(label: string, dir: string, bytes: number, extra: string[]): Promise<void> {
  const state = path.join(dir, `state-${label}`);
  const child = spawn(process.execPath, [CLI, 'sidecar', '--qemu.log-dir', path.join(dir, 'qemu'), '--libvirtd.source', 'none', '--state-dir', state, '--web.listen-address', '127.0.0.1:0', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  let outBytes = 0;
  child.stdout.on('data', (d: Buffer) => (outBytes += d.length));
  while (!/on port (\d+)/.test(err)) await new Promise((r) => setTimeout(r, 20));
  const port = Number(/on port (\d+)/.exec(err)![1]);
  const started = performance.now();
  const cpu0 = cpuSeconds(child.pid!);
  let lastRecords = -1;
  // Done when every byte is read and the confirmed record count stops moving.
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    const read = await metric(port, 'libvirt_telemetry_sidecar_bytes_read_total');
    const records = await metric(port, 'libvirt_telemetry_sidecar_records_total');
    if (read >= bytes && records === lastRecords) break;
    lastRecords = records;
  }
  const seconds = (performance.now() - started) / 1000 - 0.2;
  const cpu = cpuSeconds(child.pid!) - cpu0;
  const lines = await metric(port, 'libvirt_telemetry_sidecar_lines_read_total');
  const rss = processMemory(child.pid!).peak / 2 ** 20;
  child.kill('SIGTERM');
  await new Promise((r) => child.on('close', r));
  const mib = bytes / 1024 / 1024;
  // The machine is shared: wall time includes waiting for a CPU. MiB per CPU-second of the
  // sidecar is what one core of its own would give (the goal's "on one core").
  console.log(
    `${label.padEnd(16)} ${(mib / cpu).toFixed(1).padStart(7)} MiB/s per CPU-second (one core)  ${(mib / seconds).toFixed(1)} MiB/s wall at ${((cpu / seconds) * 100).toFixed(0)}% of a core  ` +
      `${Math.round(lines / cpu).toLocaleString('en')} lines per CPU-second  ${lastRecords.toLocaleString('en')} records  peak RSS ${rss.toFixed(0)} MiB` +
      (outBytes ? `  (${(outBytes / 1024 / 1024).toFixed(0)} MiB of JSON)` : ''),
  );
}

async function forwardServer(): Promise<{ port: number; close: () => void }> {
  const server = createServer(async (socket) => {
    socket.on('error', () => undefined);
    try {
      for await (const m of decodeMultiStream(socket)) {
        const options = (m as unknown[])[2] as { chunk?: string };
        if (options?.chunk) socket.write(encode({ ack: options.chunk }));
      }
    } catch {
      socket.destroy();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}

async function idle(dir: string, files: number): Promise<void> {
  const logs = path.join(dir, 'idle');
  mkdirSync(logs);
  const sample = readFileSync(path.join(SAMPLES, 'qemu-tiny.log'));
  for (let i = 0; i < files; i++) {
    const fd = openSync(path.join(logs, `instance-${String(i).padStart(8, '0')}.log`), 'w');
    writeSync(fd, sample);
    closeSync(fd);
  }
  const child = spawn(process.execPath, [CLI, 'sidecar', '--qemu.log-dir', logs, '--libvirtd.source', 'none', '--state-dir', path.join(dir, 'state-idle'), '--web.listen-address', ''], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  let stopping = false;
  const exited = new Promise((r) => child.on('close', r));
  void exited.then(() => {
    if (!stopping) console.log(`idle sidecar exited early: ${err}`);
  });
  while (!err.includes('following')) await new Promise((r) => setTimeout(r, 100));
  // Steady state, not the tail of the start-up: reading every file once and V8's one-off cleanup collection
  // afterwards (its memory reducer starts 8 s after allocation slows down) are over within 30 s.
  await new Promise((r) => setTimeout(r, 30_000));
  const cpu0 = cpuSeconds(child.pid!);
  const window = 30;
  await new Promise((r) => setTimeout(r, window * 1000));
  const cpu = cpuSeconds(child.pid!) - cpu0;
  const rss = processMemory(child.pid!).peak / 2 ** 20;
  stopping = true;
  child.kill('SIGTERM');
  await exited;
  console.log(`idle, ${files} files   CPU ${((cpu / window) * 100).toFixed(2)}% of a core over ${window} s from 30 s after start (default 5 s rescan)  peak RSS ${rss.toFixed(0)} MiB`);
}

const mib = Number(process.argv[2] ?? 512);
const dir = mkdtempSync(path.join(tmpdir(), 'lt-sidecar-bench-'));
try {
  const { bytes } = corpus(dir, mib);
  console.log(`corpus: ${(bytes / 1024 / 1024).toFixed(0)} MiB of QEMU logs (the real samples, repeated); goals: >= 80 MiB/s to stdout on one core, RSS <= 80 MiB, idle < 2% of a core`);
  await run('file -> stdout', dir, bytes, []);
  const fwd = await forwardServer();
  await run('file -> forward', dir, bytes, ['--output', 'forward', '--forward.host', '127.0.0.1', '--forward.port', String(fwd.port)]);
  fwd.close();
  await idle(dir, 1000);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
