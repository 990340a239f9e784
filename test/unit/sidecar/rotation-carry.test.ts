// A rotation inside QEMU's multi-line command-line block (virtlogd rotates by size, between lines
// or inside one): the files of a path are one byte stream, so the block is one record, live and
// across a kill and restart with the record still held. FileStream runs in-process on real files
// of a temp directory; the "output" confirms every batch it takes, so the last mark it saw is
// what a kill -9 leaves in the state directory.
import test from 'ava';
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { planNew, planResume } from '../../../sidecar/siblings.js';
import { createQemuLogParser } from '../../../parsers/textlog.js';
import { sample } from '../../harness/inputs/samples.js';
import { checkedRecords } from '../../harness/checks/record-schema.js';
import { StreamRun } from '../../harness/roles/stream-run.js';

const DOMAIN = 'tinylinux';
const FIRST_LOG = readFileSync(sample('real/qemu-tiny.log'), 'utf8');
/** Two real QEMU logs: records before the second one's first command line, then its block. */
const TEXT = FIRST_LOG + readFileSync(sample('real/qemu-tinylinux.log'), 'utf8');

type Rec = Record<string, unknown>;

/** What `parse` makes of the whole text: the reference every run must equal. */
function parsed(text: string): Rec[] {
  const parser = createQemuLogParser({ domain: DOMAIN });
  const out: Rec[] = [];
  for (const line of text.split('\n').slice(0, -1)) out.push(...(parser.push(line) as unknown as Rec[]));
  out.push(...(parser.flush() as unknown as Rec[]));
  return checkedRecords(JSON.parse(JSON.stringify(out)) as Rec[]);
}

/** Offsets inside the second log's first command line, in this order: at a line start, inside a line, inside a later line. */
const blockAt = TEXT.indexOf('LC_ALL=C \\', FIRST_LOG.length);
const AT_LINE = TEXT.indexOf('\n-S \\\n', blockAt) + 1;
const IN_LINE = TEXT.indexOf('-no-user-config \\\n', blockAt) + 4;
const IN_LINE_LATER = TEXT.indexOf('-kernel ', blockAt) + 4;

/**
 * The first record the parser still holds while the block is open: its `starting up` header, which waits
 * for the command line to take its uuid (parsers/qemu-identity.ts).
 */
function heldFrom(expected: Rec[]): number {
  const block = expected.findIndex((r) => r['kind'] === 'command_line' && String(r['message']).includes('guest=tinylinux'));
  if (expected[block - 1]?.['kind'] !== 'domain_start') throw new Error('the block follows its header');
  return block - 1;
}

test('the cut points lie inside one command-line block, in order', (t) => {
  const blockEnd = TEXT.indexOf('\n-msg timestamp=on\n', blockAt);
  t.true(FIRST_LOG.length < blockAt && blockAt < AT_LINE && AT_LINE < IN_LINE && IN_LINE < IN_LINE_LATER && IN_LINE_LATER < blockEnd);
  t.is(TEXT[AT_LINE - 1], '\n');
  t.not(TEXT[IN_LINE - 1], '\n');
});

const lines = (text: string): number => text.split('\n').length - 1;

function logDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lt-rotation-carry-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** virtlogd's rotation: x.log.N -> x.log.N+1, x.log -> x.log.0, then a new x.log with `text`. */
function rotate(file: string, backups: number, text: string): void {
  for (let i = backups - 1; i >= 0; i--) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
  renameSync(file, `${file}.0`);
  writeFileSync(file, text);
}

test('a rotation between the lines and one inside a line of the command-line block: one record, equal to parsing the whole stream', async (t) => {
  const file = path.join(logDir(t), `${DOMAIN}.log`);
  writeFileSync(file, TEXT.slice(0, AT_LINE));
  const run = new StreamRun(file, DOMAIN);
  await run.stream.begin(await planNew(file, 'head', null));
  await run.settle(lines(TEXT.slice(0, AT_LINE)));
  rotate(file, 0, TEXT.slice(AT_LINE, IN_LINE));
  await run.settle(lines(TEXT.slice(0, IN_LINE)));
  rotate(file, 1, TEXT.slice(IN_LINE));
  const expected = parsed(TEXT);
  await run.settle(lines(TEXT), expected.length);
  await run.kill();
  t.deepEqual(run.confirmed, expected);
  const starts = TEXT.match(/^-msg timestamp=on$/gm)!.length;
  t.is(run.confirmed.filter((r) => r['kind'] === 'command_line').length, starts, 'one command_line record per QEMU start');
  t.false(run.confirmed.some((r) => r['kind'] === 'unparsed'));
});

test('kill while the carried record is held: the checkpoint stays in the rotated file; the restart finds it as .log.1 and rebuilds the record, no loss, no duplicate', async (t) => {
  const file = path.join(logDir(t), `${DOMAIN}.log`);
  writeFileSync(file, TEXT.slice(0, AT_LINE));
  const first = statSync(file).ino;
  const run1 = new StreamRun(file, DOMAIN);
  await run1.stream.begin(await planNew(file, 'head', null));
  await run1.settle(lines(TEXT.slice(0, AT_LINE)));
  // The block goes on in the new file and is cut again inside a line: still open at the kill.
  rotate(file, 0, TEXT.slice(AT_LINE, IN_LINE_LATER));
  await run1.settle(lines(TEXT.slice(0, IN_LINE_LATER)));
  await run1.kill();
  const expected = parsed(TEXT);
  const block = heldFrom(expected);
  t.deepEqual(run1.confirmed, expected.slice(0, block), 'everything before the held records was confirmed');
  const cp = run1.checkpoint;
  // The parser was last empty at the first file's start (no idle flush, no rotation without a held record since).
  t.is(cp.file?.ino, first, 'the checkpoint still points into the first file');
  t.deepEqual({ offset: cp.file?.offset, skip: cp.skip }, { offset: 0, skip: block }, 'at the last point where the parser was empty, skipping the confirmed records');

  // While the sidecar is down the rest arrives and virtlogd rotates once more: the first file is .log.1 now.
  rotate(file, 1, TEXT.slice(IN_LINE_LATER));
  const plan = await planResume(file, cp);
  t.false(plan.lost);
  t.deepEqual(
    plan.files.map((f) => path.basename(f.path)),
    [`${DOMAIN}.log.1`, `${DOMAIN}.log.0`, `${DOMAIN}.log`],
  );
  const run2 = new StreamRun(file, DOMAIN);
  await run2.stream.begin(plan);
  await run2.settle(lines(TEXT.slice(cp.file!.offset)), expected.length - block);
  await run2.kill();
  t.deepEqual([...run1.confirmed, ...run2.confirmed], expected, 'no record lost, none twice');
  t.not(run2.checkpoint.file?.ino, first, 'the checkpoint left the first file once the record was out');
});

test('kill while the carried record is held, then the rotated file is deleted: its unread rest is lost (the caller counts it), the successors are read once from their head', async (t) => {
  const file = path.join(logDir(t), `${DOMAIN}.log`);
  writeFileSync(file, TEXT.slice(0, AT_LINE));
  const run1 = new StreamRun(file, DOMAIN);
  await run1.stream.begin(await planNew(file, 'head', null));
  await run1.settle(lines(TEXT.slice(0, AT_LINE)));
  rotate(file, 0, TEXT.slice(AT_LINE, IN_LINE_LATER));
  await run1.settle(lines(TEXT.slice(0, IN_LINE_LATER)));
  await run1.kill();
  rmSync(`${file}.0`);
  writeFileSync(file, TEXT.slice(AT_LINE), { flag: 'w' });
  const plan = await planResume(file, run1.checkpoint);
  t.true(plan.lost, 'reported as lost: FileSource counts dropped_total{reason="checkpoint_file_vanished"}');
  t.is(plan.skip, 0);
  const run2 = new StreamRun(file, DOMAIN);
  await run2.stream.begin(plan);
  const rest = parsed(TEXT.slice(AT_LINE));
  await run2.settle(lines(TEXT.slice(AT_LINE)), rest.length);
  await run2.kill();
  const expected = parsed(TEXT);
  const block = heldFrom(expected);
  t.deepEqual(run1.confirmed, expected.slice(0, block));
  t.deepEqual(run2.confirmed, rest, 'nothing of the successor was confirmed before the kill, so nothing comes twice');
});
