// `sidecar` and `parse` make the same records of the same bytes, however they arrive: random
// mixtures of real sample lines (LF and CRLF), random bytes, NUL, invalid UTF-8, over-long lines and
// an impossible timestamp are appended to a real file in random pieces while the sidecar's
// FileStream follows it, and the records must equal what `parse` (its parseStream) makes of the
// same bytes read in other random pieces. The seed is printed; PARSE_AGREE_SEED=<n> replays one.
import test from 'ava';
import { prng } from '../../harness/prng.js';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseStream } from '../../../parsers/command.js';
import { createQemuLogParser } from '../../../parsers/textlog.js';
import { planNew } from '../../../sidecar/siblings.js';
import { checkedRecords } from '../../harness/checks/record-schema.js';
import { StreamRun } from '../../harness/roles/stream-run.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'test', 'fixtures', 'samples');
const SAMPLE_LINES: string[][] = ['qemu', 'real']
  .flatMap((dir) => readdirSync(path.join(FIXTURES, dir)).map((f) => path.join(FIXTURES, dir, f)))
  .filter((f) => f.endsWith('.log'))
  .map((f) => readFileSync(f, 'utf8').split('\n').slice(0, -1));
const DOMAIN = 'dom';
/** Small, so that over-long lines are cheap to make. */
const MAX_LINE = 1024;
const SEEDS = 6;

type Rec = Record<string, unknown>;

function mixture(rand: () => number): Buffer {
  const int = (n: number) => Math.floor(rand() * n);
  const parts: Buffer[] = [];
  const end = () => (rand() < 0.4 ? '\r\n' : '\n');
  for (let i = 0; i < 120; i++) {
    const r = rand();
    if (r < 0.45) {
      // A run of consecutive sample lines: command-line blocks stay whole or are cut anywhere.
      const lines = SAMPLE_LINES[int(SAMPLE_LINES.length)]!;
      const from = int(lines.length);
      const eol = end();
      parts.push(Buffer.from(lines.slice(from, from + 1 + int(40)).map((l) => l + eol).join('')));
    } else if (r < 0.6) {
      parts.push(Buffer.from(Array.from({ length: int(300) }, () => int(256))));
    } else if (r < 0.7) {
      parts.push(Buffer.from([0x00, 0x61, 0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0x0d, 0x00].slice(int(5), 5 + int(6))), Buffer.from(end()));
    } else if (r < 0.8) {
      const unit = ['x', 'é', '€', '😀'][int(4)]!;
      parts.push(Buffer.from(unit.repeat(Math.ceil((MAX_LINE * (0.8 + rand() * 2)) / Buffer.byteLength(unit))) + end()));
    } else if (r < 0.85) {
      parts.push(Buffer.from(`2024-13-45 99:99:99.999+0000: shutting down, reason=crashed${end()}`));
    } else if (r < 0.9) {
      parts.push(Buffer.from(`\r${end()}${end()}`));
    } else {
      parts.push(Buffer.from(`2026-11-29T10:00:0${int(10)}.456789Z qemu-system-x86_64: terminating on signal 15 from pid ${int(9999)} (/usr/sbin/libvirtd)${end()}`));
    }
  }
  // Sometimes the file ends inside a line.
  if (rand() < 0.5) parts.push(Buffer.from('2026-11-29 10:00:00.123+0000: shutting down, reason=cra'));
  return Buffer.concat(parts);
}

function pieces(bytes: Buffer, rand: () => number, count: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = rand() < 0.3 ? 1 + Math.floor(rand() * 8) : 1 + Math.floor(rand() * ((2 * bytes.length) / count));
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** What `parse` prints for `chunks`, parsed back. */
async function parsed(chunks: Buffer[]): Promise<Rec[]> {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  await parseStream(Readable.from(chunks), createQemuLogParser({ domain: DOMAIN }), sink, MAX_LINE);
  return checkedRecords(
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Rec),
  );
}

/** What the sidecar's FileStream emits while `chunks` are appended to its file one by one, until the file is deleted. */
async function followed(dir: string, chunks: Buffer[]): Promise<Rec[]> {
  const file = path.join(dir, `${DOMAIN}.log`);
  writeFileSync(file, '');
  const run = new StreamRun(file, DOMAIN, { maxLineBytes: MAX_LINE, rotateWaitMs: 20 });
  await run.stream.begin(await planNew(file, 'head', null));
  let written = 0;
  for (const chunk of chunks) {
    appendFileSync(file, chunk);
    written += chunk.length;
    await run.until(async () => (await run.bytesRead()) >= written, `${written} bytes read`);
  }
  // Deleted: the stream drains the file, then emits its last line and what the parser holds.
  rmSync(file);
  await run.until(() => run.stream.openFiles === 0, 'the deleted file to be finished');
  await new Promise((r) => setTimeout(r, 50));
  await run.kill();
  return run.confirmed;
}

test('for random bytes and random chunkings, the sidecar and parse make the same records', async (t) => {
  const base = Number(process.env['PARSE_AGREE_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
  const dir = mkdtempSync(path.join(tmpdir(), 'lt-parse-agree-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const seeds = process.env['PARSE_AGREE_SEED'] ? [base] : Array.from({ length: SEEDS }, (_, i) => base + i);
  t.log(`seeds ${seeds[0]}..${seeds.at(-1)} (replay one with PARSE_AGREE_SEED=<seed>)`);
  for (const seed of seeds) {
    const rand = prng(seed);
    const bytes = mixture(rand);
    const expected = await parsed(pieces(bytes, rand, 30));
    const got = await followed(dir, pieces(bytes, rand, 40));
    t.true(expected.length > 100, `seed ${seed}: a mixture of ${expected.length} records`);
    t.deepEqual(got, expected, `seed ${seed} (replay with PARSE_AGREE_SEED=${seed})`);
    for (const r of got) t.true(r['time'] === null || !Number.isNaN(Date.parse(String(r['time']))), `seed ${seed}: time ${String(r['time'])}`);
  }
});
