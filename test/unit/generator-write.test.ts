// The all-or-nothing directory write, including a failure in the middle of writing.
import test from 'ava';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../runtime/options.js';
import { writeDirectory } from '../../generator/write.js';

const replaceable = ['a.conf', 'b.conf'];

function tmp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'lt-gen-write-'));
}

test('writes a new directory', async (t) => {
  const parent = tmp();
  await writeDirectory(path.join(parent, 'out'), new Map([['a.conf', 'A'], ['b.conf', 'B']]), { replaceable, secret: false });
  t.deepEqual(readdirSync(parent), ['out']);
  t.is(readFileSync(path.join(parent, 'out', 'b.conf'), 'utf8'), 'B');
});

test('a failure while writing leaves neither a temp dir nor a changed target', async (t) => {
  const parent = tmp();
  mkdirSync(path.join(parent, 'out'));
  writeFileSync(path.join(parent, 'out', 'a.conf'), 'old');
  // The second file cannot be created: its "directory" is the first file.
  const files = new Map([['a.conf', 'new'], ['a.conf/b.conf', 'x']]);
  await t.throwsAsync(writeDirectory(path.join(parent, 'out'), files, { replaceable, secret: false }), { code: 'ENOTDIR' });
  t.deepEqual(readdirSync(parent), ['out']);
  t.deepEqual(readdirSync(path.join(parent, 'out')), ['a.conf']);
  t.is(readFileSync(path.join(parent, 'out', 'a.conf'), 'utf8'), 'old');
});

test('refuses a target holding other files', async (t) => {
  const parent = tmp();
  mkdirSync(path.join(parent, 'out'));
  writeFileSync(path.join(parent, 'out', 'keep.txt'), 'x');
  await t.throwsAsync(writeDirectory(path.join(parent, 'out'), new Map([['a.conf', 'A']]), { replaceable, secret: false }), {
    instanceOf: UsageError,
    message: /holds files generate did not write \(keep\.txt\)/,
  });
  t.deepEqual(readdirSync(path.join(parent, 'out')), ['keep.txt']);
});
