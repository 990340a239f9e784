// A file listed in the rotation chain but deleted before the stream opened it: ext4 gives its
// inode number to the very next file created, which is the new file at the path. Found "by
// inode", that newer file was read out of turn and then again in the chain (a block of records
// out of order and twice). The race is set up here as it is after the listing: the plan names the
// listed file with the inode number the file at the path now has.
import test from 'ava';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileStream } from '../../../sidecar/file-stream.js';
import type { PlannedFile } from '../../../sidecar/siblings.js';
import { createLogger } from '../../../runtime/log.js';
import { createMetrics } from '../../../sidecar/metrics.js';
import { canHaveMoved } from '../../../sidecar/siblings.js';
import { LOG_FORMATS } from '../../../parsers/formats.js';
import { qemuLines, sequences } from '../../harness/fakes/log-writer.js';
import { checkedRecords } from '../../harness/checks/record-schema.js';
import { DomainIdentities } from '../../../sidecar/domain-identities.js';

/** Reads a start plan until `want` records came out, then a little longer to catch extra ones. */
async function readPlan(dir: string, files: (base: string) => PlannedFile[], want: number) {
  const base = path.join(dir, 'dom.log');
  const metrics = createMetrics();
  let logged = '';
  const records: Record<string, unknown>[] = [];
  const stream = new FileStream(
    base,
    {
      source: 'qemu',
      tag: 'qemu.dom',
      maxLineBytes: 16 * 1024,
      rotateWaitMs: 50,
      flushIdleMs: 50,
      intake: { accept: async (b) => void records.push(...checkedRecords(JSON.parse(JSON.stringify(b.records)) as Record<string, unknown>[])) },
      metrics,
      log: createLogger({ write: (line) => (logged += line) }),
      newParser: () => LOG_FORMATS.qemu.create({ domain: 'dom' }),
      identities: new DomainIdentities(),
    },
    Date.now(),
  );
  await stream.begin({ files: files(base), skip: 0 });
  for (const until = Date.now() + 3000; sequences(records).length < want && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200));
  await stream.stop();
  const drops = (await metrics.drops.get()).values.find((v) => v.labels['reason'] === 'rotation_overrun')?.value ?? 0;
  return { seen: sequences(records), drops, logged };
}

function chain(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `lt-unit-${prefix}-`));
  writeFileSync(path.join(dir, 'dom.log.0'), qemuLines(20, 40));
  writeFileSync(path.join(dir, 'dom.log'), qemuLines(40, 60));
  return dir;
}

const at = (file: string, detached: boolean, bornMs?: number): PlannedFile => ({ path: file, ino: statSync(file).ino, bornMs, offset: 0, detached });

test('a file listed at .2 and gone is not taken for the newer file at the path that got its inode number', async (t) => {
  const dir = chain('reuse-rank');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Listed at .2 (then deleted); its inode number now belongs to dom.log. No birth time known
  // (as in a checkpoint): the names alone tell, since rotation never moves a file to a newer name.
  const { seen, drops, logged } = await readPlan(dir, (base) => [{ ...at(base, true), path: `${base}.2` }, at(`${base}.0`, true), at(base, false)], 40);
  t.deepEqual(seen, Array.from({ length: 40 }, (_, i) => 20 + i), 'each file once, in chain order');
  t.is(drops, 1, 'the file that went unread is counted');
  t.regex(logged, /dom\.log\.2 \(inode \d+\) was rotated past the last backup/);
});

test('a file listed at .0 is not taken for a later file at .0 with its inode number but another birth time', async (t) => {
  const dir = chain('reuse-born');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const zero = statSync(path.join(dir, 'dom.log.0'));
  const { seen, drops } = await readPlan(dir, (base) => [at(`${base}.0`, true, zero.birthtimeMs - 1), at(base, false)], 20);
  t.deepEqual(seen, Array.from({ length: 20 }, (_, i) => 40 + i));
  t.is(drops, 1);
});

test('rotation moves a file only to an older name', (t) => {
  const p = '/logs/dom.log';
  t.true(canHaveMoved(p, p, `${p}.0`));
  t.true(canHaveMoved(p, p, `${p}.20240501-101530`));
  t.true(canHaveMoved(p, `${p}.0`, `${p}.2`));
  t.false(canHaveMoved(p, `${p}.2`, p));
  t.false(canHaveMoved(p, `${p}.2`, `${p}.1`));
  t.false(canHaveMoved(p, `${p}.1`, `${p}.1`));
  t.false(canHaveMoved(p, `${p}.20240501-101530`, `${p}.0`));
});
