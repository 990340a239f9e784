// Parse throughput of the QEMU domain-log parser on one core (the parser is single-threaded).
// Builds a corpus of at least 200 MiB by repeating the QEMU log samples (test/fixtures/samples/qemu/*.log
// and test/fixtures/samples/real/qemu-*.log) in a temp dir, then times line splitting + parsing of it,
// and the same plus JSON serialisation (what `parse` does per record). Real QEMU logs are mostly
// command-line blocks, folded into one record each; a second corpus keeps only the lines outside
// those blocks (one record per line, every line through the regex chain) as the hard case.
// Goal: >= 1,000,000 lines/s on the sample corpus.  Run: npm run build && node dist/bench/parse.js [MiB]

import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineSplitter } from '../parsers/lines.js';
import { MultilineFolder } from '../parsers/multiline.js';
import { QEMU_MULTILINE } from '../parsers/shapes.js';
import { createQemuLogParser } from '../parsers/textlog.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const samples = path.resolve(repoRoot, 'test', 'fixtures', 'samples');
const MIB = 1024 * 1024;
const targetMiB = Number(process.argv[2] ?? 200);
const CHUNK = 64 * 1024;

function sampleFiles(): string[] {
  const qemu = readdirSync(path.join(samples, 'qemu')).filter((f) => f.endsWith('.log')).map((f) => path.join(samples, 'qemu', f));
  const real = readdirSync(path.join(samples, 'real')).filter((f) => /^qemu-.*\.log$/.test(f)).map((f) => path.join(samples, 'real', f));
  return [...qemu, ...real].sort();
}

/** The sample lines that are records on their own (outside the folded command-line blocks). */
function singleLineRecords(): Buffer {
  const texts: string[] = [];
  const folder = new MultilineFolder(QEMU_MULTILINE, (text) => texts.push(text), 1 << 20);
  for (const f of sampleFiles()) for (const line of readFileSync(f, 'utf8').split('\n').slice(0, -1)) folder.push(line, 0, null);
  folder.flush();
  return Buffer.from(texts.filter((t) => !t.includes('\n')).map((t) => `${t}\n`).join(''));
}

function buildCorpus(file: string, unit: Buffer): { bytes: number; lines: number } {
  const unitLines = unit.toString('latin1').split('\n').length - 1;
  const copies = Math.ceil((targetMiB * MIB) / unit.length);
  const block = Buffer.concat(Array.from({ length: Math.min(copies, 64) }, () => unit));
  const fd = openSync(file, 'w');
  let written = 0;
  while (written < copies) {
    const n = Math.min(64, copies - written);
    writeFileSync(fd, n === 64 ? block : block.subarray(0, n * unit.length));
    written += n;
  }
  closeSync(fd);
  return { bytes: statSync(file).size, lines: copies * unitLines };
}

interface Timing {
  /** Wall-clock seconds. */
  readonly wall: number;
  /** CPU seconds of this process (user + system): the figure that holds on a shared machine. */
  readonly cpu: number;
}

/** Reads the corpus in 64 KiB chunks through the splitter into `onLine`. */
function run(file: string, onLine: (line: string, flags: number) => void, end: () => void): Timing {
  const splitter = new LineSplitter();
  let offset = 0;
  const fd = openSync(file, 'r');
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (;;) {
    const chunk = Buffer.allocUnsafe(CHUNK);
    const n = readSync(fd, chunk, 0, CHUNK, null);
    if (n === 0) break;
    splitter.feed(chunk.subarray(0, n), offset, onLine);
    offset += n;
  }
  splitter.finish(offset, onLine);
  end();
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  closeSync(fd);
  return { wall, cpu: (cpu.user + cpu.system) / 1e6 };
}

function report(label: string, timing: Timing, corpus: { bytes: number; lines: number }, records: number): void {
  const rate = (seconds: number) =>
    `${Math.round(corpus.lines / seconds).toLocaleString('en-US').padStart(11)} lines/s ` +
    `${(corpus.bytes / MIB / seconds).toFixed(1).padStart(6)} MiB/s ` +
    `${Math.round(records / seconds).toLocaleString('en-US').padStart(10)} records/s`;
  console.log(`${label.padEnd(24)} wall ${timing.wall.toFixed(2).padStart(5)} s: ${rate(timing.wall)}`);
  console.log(`${''.padEnd(24)} cpu  ${timing.cpu.toFixed(2).padStart(5)} s: ${rate(timing.cpu)}`);
}

/** Times split + parse (after a warm-up run) and split + parse + JSON; returns the former. */
function measure(name: string, file: string, corpus: { bytes: number; lines: number }): Timing {
  console.log(`${name}: ${(corpus.bytes / MIB).toFixed(0)} MiB, ${corpus.lines.toLocaleString('en-US')} lines`);
  let records = 0;
  const parse = () => {
    const parser = createQemuLogParser({ domain: 'bench' });
    records = 0;
    return run(file, (line, flags) => (records += parser.push(line, flags).length), () => (records += parser.flush().length));
  };
  parse(); // warm-up: JIT, page cache
  const parsed = parse();
  report('  split + parse', parsed, corpus, records);
  const parser = createQemuLogParser({ domain: 'bench' });
  let bytesOut = 0;
  const serialise = (rs: readonly unknown[]) => {
    for (const r of rs) bytesOut += JSON.stringify(r).length + 1;
  };
  report('  split + parse + JSON', run(file, (line, flags) => serialise(parser.push(line, flags)), () => serialise(parser.flush())), corpus, records);
  return parsed;
}

const dir = mkdtempSync(path.join(tmpdir(), 'libvirt-telemetry-bench-'));
try {
  const file = path.join(dir, 'corpus.log');
  const corpus = buildCorpus(file, Buffer.concat(sampleFiles().map((f) => readFileSync(f))));
  const timing = measure('QEMU log samples repeated', file, corpus);
  measure('lines outside command-line blocks repeated', file, buildCorpus(file, singleLineRecords()));
  const goal = 1_000_000;
  const [wall, cpu] = [corpus.lines / timing.wall, corpus.lines / timing.cpu];
  console.log(
    `goal ${goal.toLocaleString('en-US')} lines/s on the sample corpus: ` +
      `${wall >= goal ? 'met' : 'NOT met'} by wall time (${(wall / goal).toFixed(2)}x), ` +
      `${cpu >= goal ? 'met' : 'NOT met'} by CPU time (${(cpu / goal).toFixed(2)}x); load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
