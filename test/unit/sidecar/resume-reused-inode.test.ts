// A restart whose checkpoint names a file that rotation deleted while the sidecar was down. ext4
// hands the freed inode number to the very next file created, the new file at the path; a
// checkpoint taken while its file was young has a short or empty fingerprint (an empty one
// matches any file) and no usable birth time (a fresh file's btime equals its ctime). Found "by
// inode", the new file at the path was taken for the checkpointed one: the resume started there,
// and every rotated copy in between was skipped, silently.
import test from 'ava';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { StreamCheckpoint } from '../../../sidecar/batch.js';
import { FINGERPRINT_BYTES } from '../../../sidecar/file-identity.js';
import { planResume, type StartPlan } from '../../../sidecar/siblings.js';
import { RotatingWriter, sequences } from '../../harness/fakes/log-writer.js';
import { StreamRun } from '../../harness/roles/stream-run.js';

function logDir(t: import('ava').ExecutionContext, prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `lt-unit-${prefix}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'dom.log');
}

/** A restarted stream reads `plan` (detached files are finished at once) until it read `lines` lines. */
async function resumeRead(base: string, plan: StartPlan, lines: number): Promise<number[]> {
  const run = new StreamRun(base, 'dom', { rotateWaitMs: 50 });
  await run.stream.begin(plan);
  await run.settle(lines);
  await run.kill();
  return sequences(run.confirmed);
}

const names = (plan: StartPlan): string[] => plan.files.map((f) => path.basename(f.path));

test('a checkpoint in a file rotated away while down resumes at the oldest copy left, not at the new file that got its inode number', async (t) => {
  const base = logDir(t, 'resume-reuse');
  // The writer has just created dom.log (empty); the sidecar starts and commits its start position.
  const writer = new RotatingWriter(base, 1024 * 1024, 3);
  const checkpointed = statSync(base).ino;
  const first = new StreamRun(base, 'dom');
  await first.stream.begin({ files: [{ path: base, ino: checkpointed, offset: 0, detached: false }], skip: 0 });
  const cp: StreamCheckpoint = JSON.parse(JSON.stringify(first.stream.checkpoint()));
  await first.kill(); // before dom.log got a line
  t.is(cp.file?.ino, checkpointed);
  t.is(cp.file?.fpLen, 0);
  // While it is down: four rotations; the fourth deletes the checkpointed file (dom.log.2 by then).
  for (let i = 0; i < 4; i++) {
    writer.write(10);
    writer.rotate();
  }
  writer.write(10);
  writer.close();
  t.log(statSync(base).ino === checkpointed ? 'the new dom.log got the deleted file its inode number' : 'no inode number reused on this filesystem');

  const plan = await planResume(base, cp);
  t.true(plan.lost, 'the checkpointed file is gone: FileSource counts and logs checkpoint_file_vanished');
  t.deepEqual(names(plan), ['dom.log.2', 'dom.log.1', 'dom.log.0', 'dom.log']);
  // Lines 0-9 went with the deleted file; 10-19 are in dom.log.2 ... 40-49 in dom.log.
  t.deepEqual(await resumeRead(base, plan, 40), Array.from({ length: 40 }, (_, i) => 10 + i), 'every line left, once, in order');
});

test('a checkpoint in a young file (a short fingerprint) still there as .2 resumes in it, after its confirmed records', async (t) => {
  const base = logDir(t, 'resume-young');
  const writer = new RotatingWriter(base, 1024 * 1024, 3);
  writer.write(2);
  const first = new StreamRun(base, 'dom');
  await first.stream.begin({ files: [{ path: base, ino: statSync(base).ino, offset: 0, detached: false }], skip: 0 });
  await first.settle(2, 2);
  await first.kill();
  const cp = first.checkpoint;
  t.true(cp.file!.fpLen > 0 && cp.file!.fpLen < FINGERPRINT_BYTES, 'a young file: its fingerprint covers less than a full one');
  t.is(cp.skip, 2);
  // Killed; the file gets the rest of its lines, then three rotations make it dom.log.2.
  writer.write(8);
  for (let i = 0; i < 3; i++) {
    writer.rotate();
    writer.write(10);
  }
  writer.close();
  const plan = await planResume(base, cp);
  t.false(plan.lost);
  t.deepEqual(names(plan), ['dom.log.2', 'dom.log.1', 'dom.log.0', 'dom.log']);
  t.deepEqual(await resumeRead(base, plan, 40), Array.from({ length: 38 }, (_, i) => 2 + i), 'the unconfirmed lines and every newer one, once');
});

test('a checkpoint taken when its file was empty names it by what was read since: deleted and created again with its inode number, the new file is read whole', async (t) => {
  const base = logDir(t, 'resume-recreated');
  const writer = new RotatingWriter(base, 1024 * 1024, 3);
  const first = new StreamRun(base, 'dom');
  await first.stream.begin({ files: [{ path: base, ino: statSync(base).ino, offset: 0, detached: false }], skip: 0 });
  writer.write(5);
  await first.settle(5, 5);
  await first.kill();
  writer.close();
  const cp = first.checkpoint;
  t.is(cp.skip, 5, 'the position is still the head of the file, where it was empty');
  t.true(cp.file!.fpLen > 0, 'named by the bytes read since, not by the empty head it had then');
  // While it is down the file is deleted and created again (the domain's log removed): ext4 gives the new one its inode number.
  const checkpointed = statSync(base).ino;
  rmSync(base);
  const again = new RotatingWriter(base, 1024 * 1024, 3);
  again.seq = 100;
  again.write(5);
  again.close();
  t.log(statSync(base).ino === checkpointed ? 'the new dom.log got the deleted file its inode number' : 'no inode number reused on this filesystem');
  const plan = await planResume(base, cp);
  t.true(plan.lost || plan.replaced !== undefined, 'the checkpointed file is not taken for the new one (counted and logged either way)');
  t.deepEqual(await resumeRead(base, plan, 5), [100, 101, 102, 103, 104], 'none of the new lines skipped as if confirmed');
});
