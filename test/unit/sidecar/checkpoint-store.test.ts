// The checkpoint store's handling of a damaged state directory: a corrupt snapshot stops the
// start with a hint what to do, garbage WAL lines are skipped (reported by line) while the
// entries around them still count, and a state directory that cannot exist fails at once.
import test from 'ava';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { StreamCheckpoint } from '../../../sidecar/batch.js';
import { CheckpointStore } from '../../../sidecar/checkpoint-store.js';

const stateDir = () => mkdtempSync(path.join(tmpdir(), 'lt-checkpoint-'));
const at = (offset: number): StreamCheckpoint => ({
  file: { dev: 1, ino: 2, fpLen: 0, fpHash: '', offset, mtimeMs: 0 },
  skip: 0,
  since: 0,
});
const commitLine = (offset: number) => JSON.stringify({ t: 1, c: [{ stream: '/q/a.log', at: at(offset) }] }) + '\n';

test('a corrupt state.json stops the start with the file, the reason and what to do', async (t) => {
  const dir = stateDir();
  writeFileSync(path.join(dir, 'state.json'), '{"version":1,"streams":{');
  const err = await t.throwsAsync(CheckpointStore.open(dir));
  t.regex(err!.message, /cannot read .*state\.json: .*JSON/);
  t.regex(err!.message, /move it aside \(mv .*state\.json .*state\.json\.bad\)/);
  // The lock is released: after moving the file aside the next start works.
  const store = await CheckpointStore.open(dir).catch(() => undefined);
  t.is(store, undefined, 'still corrupt, still refused');
  writeFileSync(path.join(dir, 'state.json'), '7');
  t.regex((await t.throwsAsync(CheckpointStore.open(dir)))!.message, /unknown state version/);
});

test('garbage lines in state.wal are skipped and reported by line number; the entries around them count', async (t) => {
  const dir = stateDir();
  writeFileSync(path.join(dir, 'state.wal'), commitLine(10) + 'garbage\n' + '{"t":"x"}\n' + commitLine(20) + '{"t":3,"c":[{"str');
  const store = await CheckpointStore.open(dir);
  t.deepEqual(store.walGarbage, [2, 3, 5]);
  t.is(store.stream('/q/a.log')?.file?.offset, 20, 'the entry after the garbage is used');
  // The torn last line is closed, so the next append is a line of its own.
  await store.commit([{ stream: '/q/a.log', at: at(30) }]);
  await store.close();
  const reopened = await CheckpointStore.open(dir);
  t.is(reopened.stream('/q/a.log')?.file?.offset, 30);
  t.deepEqual(reopened.walGarbage, [2, 3, 5], 'kept until the next snapshot');
  await reopened.snapshot();
  await reopened.close();
  t.is(readFileSync(path.join(dir, 'state.wal'), 'utf8'), '', 'a snapshot empties the WAL, garbage included');
});

test('a clean state.wal reports no garbage', async (t) => {
  const dir = stateDir();
  appendFileSync(path.join(dir, 'state.wal'), commitLine(10));
  const store = await CheckpointStore.open(dir);
  t.deepEqual(store.walGarbage, []);
  await store.close();
});

test('a state directory that cannot be created (/proc/x) fails at once with the reason', async (t) => {
  const started = Date.now();
  const err = await t.throwsAsync(CheckpointStore.open('/proc/lt-no-such/state'));
  t.regex(err!.message, /^cannot create the state directory \/proc\/lt-no-such\/state: ENOENT/);
  // It gives up instead of retrying (a retry would back off and try again): the bound only has to tell a
  // few failed mkdir calls from that, so it is far above what they take on a loaded machine.
  t.true(Date.now() - started < 10_000, `failed after ${Date.now() - started} ms`);
});
