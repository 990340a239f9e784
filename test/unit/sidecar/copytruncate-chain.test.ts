// Copytruncate faster than the sidecar looks: logrotate copied and truncated the file twice (or more)
// between two looks, so the copy that starts with the bytes read last is not the newest one. The copies
// made after it hold what was written between the truncations: they are read, oldest first, before the
// truncated file from its head. FileStream runs in-process on real files; it looks only when poked.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { planNew } from '../../../sidecar/siblings.js';
import { RotatingWriter, SEQ, tally } from '../../harness/fakes/log-writer.js';
import { StreamRun } from '../../harness/roles/stream-run.js';

const DOMAIN = 'dom';

function sequencesOf(run: StreamRun): number[] {
  return run.confirmed.map((r) => Number(SEQ.exec(String(r['message']))?.[1] ?? -1));
}

async function followed(t: { teardown(fn: () => void): void }, backups: number): Promise<{ writer: RotatingWriter; run: StreamRun }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lt-copytruncate-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, `${DOMAIN}.log`);
  // Rotated only when the test says so.
  const writer = new RotatingWriter(file, Number.MAX_SAFE_INTEGER, backups, 'copytruncate');
  t.teardown(() => writer.close());
  writer.write(5);
  const run = new StreamRun(file, DOMAIN, { rotateWaitMs: 0 });
  await run.stream.begin(await planNew(file, 'head', null));
  await run.settle(5, 5);
  t.teardown(() => run.kill());
  return { writer, run };
}

for (const truncations of [1, 2, 3]) {
  test(`${truncations} copytruncate rotation(s) between two looks: every line once, in order`, async (t) => {
    const { writer, run } = await followed(t, 4);
    writer.write(3); // unread when the first truncation comes
    for (let i = 0; i < truncations; i++) {
      writer.rotate();
      writer.write(4);
    }
    await run.settle(writer.seq, writer.seq);
    t.deepEqual(tally(sequencesOf(run), writer.seq), { lost: [], duplicates: 0, outOfOrder: 0 });
    t.deepEqual(sequencesOf(run), [...Array(writer.seq).keys()]);
  });
}

test('a copy pushed past the last backup between two looks is a counted drop; the later copies are still read', async (t) => {
  // Two backups, three truncations: the copy with the unread lines 5–7 was overwritten; 8–15 are in the copies.
  const { writer, run } = await followed(t, 2);
  writer.write(3);
  for (let i = 0; i < 3; i++) {
    writer.rotate();
    writer.write(4);
  }
  await run.settle(5 + 12, 5 + 12);
  const drops = (await run.metrics.drops.get()).values.find((v) => v.labels['reason'] === 'truncated_unread')?.value ?? 0;
  t.is(drops, 1);
  t.deepEqual(sequencesOf(run), [0, 1, 2, 3, 4, ...Array.from({ length: 12 }, (_, i) => 8 + i)]);
});
