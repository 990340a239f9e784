// Parse throughput of the QEMU domain-log parser on one core.
// Builds a corpus of at least 200 MiB by repeating the QEMU log samples (shared/samples/qemu/*.log
// and shared/samples/real/qemu-*.log) in a temp dir, then times line splitting + parsing of it,
// and separately the same plus JSON serialisation (what `parse` does per record).
// Goal: >= 1,000,000 lines/s.  Run: npm run build && node dist/bench/parse.js [MiB]

import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineSplitter } from '../parsers/lines.js';
import { createQemuLogParser } from '../parsers/textlog.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const samples = path.resolve(repoRoot, '..', 'shared', 'samples');
const MIB = 1024 * 1024;
const targetMiB = Number(process.argv[2] ?? 200);
const CHUNK = 64 * 1024;

function sampleFiles(): string[] {
  const qemu = readdirSync(path.join(samples, 'qemu')).filter((f) => f.endsWith('.log')).map((f) => path.join(samples, 'qemu', f));
  const real = readdirSync(path.join(samples, 'real')).filter((f) => /^qemu-.*\.log$/.test(f)).map((f) => path.join(samples, 'real', f));
  return [...qemu, ...real].sort();
}

function buildCorpus(file: string): { bytes: number; lines: number } {
  const unit = Buffer.concat(sampleFiles().map((f) => readFileSync(f)));
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

/** Reads the corpus in 64 KiB chunks through the splitter into `onLine`; returns seconds. */
function run(file: string, onLine: (line: string, flags: number) => void, end: () => void): number {
  const splitter = new LineSplitter(onLine);
  const fd = openSync(file, 'r');
  const start = process.hrtime.bigint();
  for (;;) {
    const chunk = Buffer.allocUnsafe(CHUNK);
    const n = readSync(fd, chunk, 0, CHUNK, null);
    if (n === 0) break;
    splitter.write(chunk.subarray(0, n));
  }
  splitter.end();
  end();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  closeSync(fd);
  return seconds;
}

function report(label: string, seconds: number, corpus: { bytes: number; lines: number }, records: number): void {
  const linesPerSecond = corpus.lines / seconds;
  console.log(
    `${label.padEnd(28)} ${seconds.toFixed(2).padStart(6)} s  ` +
      `${Math.round(linesPerSecond).toLocaleString('en-US').padStart(11)} lines/s  ` +
      `${(corpus.bytes / MIB / seconds).toFixed(1).padStart(6)} MiB/s  ` +
      `${Math.round(records / seconds).toLocaleString('en-US').padStart(9)} records/s`,
  );
}

const dir = mkdtempSync(path.join(tmpdir(), 'libvirt-telemetry-bench-'));
try {
  const file = path.join(dir, 'corpus.log');
  const corpus = buildCorpus(file);
  console.log(`corpus: ${(corpus.bytes / MIB).toFixed(0)} MiB, ${corpus.lines.toLocaleString('en-US')} lines (QEMU log samples repeated)`);

  let records = 0;
  const parse = () => {
    const parser = createQemuLogParser({ domain: 'bench' });
    records = 0;
    return run(file, (line, flags) => (records += parser.push(line, flags).length), () => (records += parser.flush().length));
  };
  parse(); // warm-up: JIT, page cache
  const parseSeconds = parse();
  report('split + parse', parseSeconds, corpus, records);

  let bytesOut = 0;
  const parser = createQemuLogParser({ domain: 'bench' });
  const serialise = (rs: readonly unknown[]) => {
    for (const r of rs) bytesOut += JSON.stringify(r).length + 1;
  };
  const jsonSeconds = run(file, (line, flags) => serialise(parser.push(line, flags)), () => serialise(parser.flush()));
  report('split + parse + JSON', jsonSeconds, corpus, records);

  const goal = 1_000_000;
  const achieved = corpus.lines / parseSeconds;
  console.log(`goal ${goal.toLocaleString('en-US')} lines/s: ${achieved >= goal ? 'met' : 'NOT met'} (${(achieved / goal).toFixed(2)}x)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
