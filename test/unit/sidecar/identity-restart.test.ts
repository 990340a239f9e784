// The QEMU-log uuid across a restart of the sidecar in the middle of a file: the checkpoint keeps the
// uuid known where the parser was last empty, and the records read after the restart carry it although
// their command line is behind the checkpoint. A state file written before the uuid was kept still loads
// (the records then have none until the next command line), and a uuid that is none is not taken.
import test from 'ava';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { StreamCheckpoint } from '../../../sidecar/batch.js';
import { CheckpointStore } from '../../../sidecar/checkpoint-store.js';
import { planNew, planResume } from '../../../sidecar/siblings.js';
import { createQemuLogParser } from '../../../parsers/textlog.js';
import { sample } from '../../harness/inputs/samples.js';
import { StreamRun } from '../../harness/roles/stream-run.js';

type Rec = Record<string, unknown>;

const DOMAIN = 'tiny';
const TINY_UUID = '0b1c5e0a-7e57-4a11-9d6e-000000000001';
const LINES = readFileSync(sample('real/qemu-tiny.log'), 'utf8').split('\n').slice(0, -1);
/** Up to and including the first start's chardev line: header, command line, chardev. */
const CUT = LINES.findIndex((l) => l.startsWith('char device redirected')) + 1;
const BEFORE = LINES.slice(0, CUT).map((l) => `${l}\n`).join('');
const AFTER = LINES.slice(CUT).map((l) => `${l}\n`).join('');

function parsed(text: string): Rec[] {
  const parser = createQemuLogParser({ domain: DOMAIN });
  const out = [...text.split('\n').slice(0, -1).flatMap((l) => parser.push(l)), ...parser.flush()];
  return JSON.parse(JSON.stringify(out)) as Rec[];
}

/** Follows `BEFORE` until the idle flush moved the checkpoint past the command line, then stops as kill -9 would. */
async function firstRun(t: { teardown(fn: () => void): void }): Promise<{ file: string; cp: StreamCheckpoint; confirmed: Rec[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lt-identity-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, `${DOMAIN}.log`);
  writeFileSync(file, BEFORE);
  const run = new StreamRun(file, DOMAIN, { flushIdleMs: 50 });
  await run.stream.begin(await planNew(file, 'head', null));
  await run.until(() => run.marks.length > 0 && run.checkpoint.file?.offset === BEFORE.length, 'the checkpoint at the end of the file');
  await run.kill();
  return { file, cp: run.checkpoint, confirmed: run.confirmed };
}

async function secondRun(file: string, cp: StreamCheckpoint, records: number): Promise<Rec[]> {
  const plan = await planResume(file, cp);
  const run = new StreamRun(file, DOMAIN);
  await run.stream.begin(plan);
  await run.settle(LINES.length - CUT, records);
  await run.kill();
  return run.confirmed;
}

test('restart after the command line: the checkpoint keeps the uuid, the records read after it carry it', async (t) => {
  const { file, cp, confirmed } = await firstRun(t);
  t.is(cp.uuid, TINY_UUID);
  t.is(cp.skip, 0, 'the parser was empty at the end of what was read');
  t.deepEqual(confirmed, parsed(BEFORE));
  appendFileSync(file, AFTER);
  const rest = await secondRun(file, cp, parsed(BEFORE + AFTER).length - confirmed.length);
  t.true(rest.length >= 2);
  for (const r of rest) t.is(r['uuid'], TINY_UUID, String(r['message']));
  t.deepEqual([...confirmed, ...rest], parsed(BEFORE + AFTER), 'the same records as parse of the whole file');
});

test('a state file from before the uuid was kept loads; the records after it then carry none, as parse of that part', async (t) => {
  const { file, cp } = await firstRun(t);
  const old: Record<string, unknown> = { ...cp };
  delete old['uuid'];
  const stateDir = path.join(path.dirname(file), 'state');
  for (const [label, at] of [
    ['no uuid (an older sidecar)', old],
    ['a uuid that is none (edited by hand)', { ...old, uuid: 'ABC' }],
    ['a uuid of the wrong type', { ...old, uuid: 42 }],
  ] as const) {
    rmSync(stateDir, { recursive: true, force: true });
    const store = await CheckpointStore.open(stateDir);
    await store.close();
    writeFileSync(path.join(stateDir, 'state.json'), JSON.stringify({ version: 1, savedAt: Date.now(), streams: { [file]: at } }));
    const reopened = await CheckpointStore.open(stateDir);
    const loaded = reopened.stream(file)!;
    await reopened.close();
    t.is((await planResume(file, loaded)).uuid, undefined, label);
  }
  appendFileSync(file, AFTER);
  const rest = await secondRun(file, old as unknown as StreamCheckpoint, parsed(AFTER).length);
  t.deepEqual(rest, parsed(AFTER));
  // Up to the log's next start: nothing says which domain they belong to.
  const beforeNextStart = rest.slice(0, rest.findIndex((r) => r['kind'] === 'domain_start'));
  t.true(beforeNextStart.length >= 2);
  for (const r of beforeNextStart) t.is(r['uuid'], undefined, String(r['message']));
});
