// The resume point of a followed path as reading goes on: whichever batch was the last one the
// output confirmed, a restart from that batch's checkpoint must give exactly the records after it
// (none lost, none twice), through restarts with records to skip, rotations that cut a record in
// two, idle flushes, truncation and a deleted last file.
import test from 'ava';
import type { FilePosition } from '../../../sidecar/batch.js';
import { CheckpointTracker, type TrackedFile } from '../../../sidecar/checkpoint-tracker.js';

/** A file of the stream: an inode and where its last complete line ended. */
class File implements TrackedFile {
  lineEnd = 0;
  constructor(
    readonly ino: number,
    readonly mtimeMs = 1000 + ino,
  ) {}
  positionAt(offset: number): FilePosition {
    return { dev: 1, ino: this.ino, fpLen: 0, fpHash: '', offset, mtimeMs: this.mtimeMs };
  }
}

const idle = { pending: false };
const holding = { pending: true };
const at = (file: File, offset: number) => file.positionAt(offset);

test('a fresh start: the checkpoint is the file head, and counts the records produced since', (t) => {
  const tracker = new CheckpointTracker<File>(500);
  const a = new File(10);
  tracker.begin(a, 0);
  t.deepEqual(tracker.checkpoint(), { file: at(a, 0), skip: 0, since: 500 });
  for (const end of [40, 80, 120]) {
    a.lineEnd = end;
    t.is(tracker.produced(1), 0, 'nothing to drop');
    tracker.lineEnded(a, end, idle);
  }
  t.deepEqual(tracker.checkpoint(), { file: at(a, 0), skip: 3, since: 500 }, 'the position stays where the parser was last known empty; the records since are counted');
});

test('after a restart the confirmed records are dropped once, in whatever pieces they come again', (t) => {
  const tracker = new CheckpointTracker<File>(0);
  const a = new File(10);
  a.lineEnd = 200;
  tracker.begin(a, 5);
  t.deepEqual(tracker.checkpoint(), { file: at(a, 200), skip: 0, since: 0 });
  t.is(tracker.produced(2), 2, 'both confirmed before the restart');
  t.is(tracker.produced(0), 0);
  t.is(tracker.produced(4), 3, 'three more to drop, the fourth is new');
  t.is(tracker.produced(3), 0);
  t.deepEqual(tracker.checkpoint(), { file: at(a, 200), skip: 9, since: 0 }, 'skip counts every record produced since the position, dropped or not');
});

test('a rotation inside an open record: the checkpoint stays in the finished file until the record is complete, then moves into its successor', (t) => {
  const tracker = new CheckpointTracker<File>(0);
  const [a, b] = [new File(10), new File(11)];
  tracker.begin(a, 0);
  a.lineEnd = 100;
  tracker.produced(2);
  tracker.lineEnded(a, 100, holding);
  t.false(tracker.continued(b, true), 'with a record open nothing moves, and no batch needs to go out');
  const carried = tracker.checkpoint();
  t.deepEqual(carried, { file: at(a, 0), skip: 2, since: 0 }, 'a kill now re-reads file a from the last empty point, skipping the 2 records out');
  // b's first line does not complete the record: still carried.
  b.lineEnd = 30;
  tracker.lineEnded(b, 30, holding);
  t.deepEqual(tracker.checkpoint(), carried);
  // The record completes with b's next line: it is produced, and the checkpoint moves after that line.
  b.lineEnd = 70;
  tracker.produced(1);
  tracker.lineEnded(b, 70, idle);
  t.deepEqual(tracker.checkpoint(), { file: at(b, 70), skip: 0, since: 0 });
  // Later empty line ends do not move it: the position is where the parser was empty, the count does the rest.
  b.lineEnd = 90;
  tracker.produced(1);
  tracker.lineEnded(b, 90, idle);
  t.deepEqual(tracker.checkpoint(), { file: at(b, 70), skip: 1, since: 0 });
});

test('a rotation between records: the checkpoint moves to the successor at once', (t) => {
  const tracker = new CheckpointTracker<File>(0);
  const [a, b] = [new File(10), new File(11)];
  tracker.begin(a, 3);
  a.lineEnd = 100;
  t.is(tracker.produced(4), 3);
  tracker.lineEnded(a, 100, idle);
  t.true(tracker.continued(b, false));
  t.deepEqual(tracker.checkpoint(), { file: at(b, 0), skip: 0, since: 0 });
  t.is(tracker.produced(1), 0, 'records left to skip belonged to the finished file');
  t.is(tracker.openLineStart(a), b, 'an open line now begins in the successor');
});

test('an idle flush of a line carried over from a finished file puts the checkpoint in that file, carried until the parser is empty at a line end', (t) => {
  const tracker = new CheckpointTracker<File>(0);
  const [a, b] = [new File(10), new File(11)];
  tracker.begin(a, 0);
  a.lineEnd = 100;
  tracker.lineEnded(a, 100, idle);
  // a ended inside a line, b continues it: the open line began at a's last line end.
  tracker.continued(b, true);
  t.is(tracker.openLineStart(b), a);
  tracker.produced(1);
  tracker.emptied(a, a.lineEnd, true);
  t.deepEqual(tracker.checkpoint(), { file: at(a, 100), skip: 0, since: 0 });
  // The rest of the flushed line ends in b; the parser is empty after it: the checkpoint moves there.
  b.lineEnd = 12;
  tracker.produced(1);
  tracker.lineEnded(b, 12, idle);
  t.deepEqual(tracker.checkpoint(), { file: at(b, 12), skip: 0, since: 0 });
});

test('truncation: the parser is emptied at offset 0 of the file read again from its head; records left to skip are forgotten', (t) => {
  const tracker = new CheckpointTracker<File>(0);
  const a = new File(10);
  a.lineEnd = 400;
  tracker.begin(a, 7);
  t.is(tracker.produced(2), 2);
  a.lineEnd = 0;
  tracker.emptied(a, 0, false);
  t.deepEqual(tracker.checkpoint(), { file: at(a, 0), skip: 0, since: 0 });
  t.is(tracker.produced(1), 0, 'the new content was never confirmed');
  a.lineEnd = 20;
  tracker.lineEnded(a, 20, idle);
  t.deepEqual(tracker.checkpoint(), { file: at(a, 0), skip: 1, since: 0 });
});

test('a copytruncate copy read first: an open line goes on in the copy', (t) => {
  const tracker = new CheckpointTracker<File>(0);
  const [a, copy] = [new File(10), new File(12)];
  tracker.begin(a, 0);
  tracker.switchedTo(copy);
  t.is(tracker.openLineStart(a), copy);
});

test('the last file deleted with no successor: no file position, files newer than its mtime are unread; the next file at the path starts at its head', (t) => {
  const tracker = new CheckpointTracker<File>(0);
  const [a, b] = [new File(10, 5000), new File(11)];
  tracker.begin(a, 2);
  tracker.produced(3);
  tracker.ended(a.mtimeMs);
  t.deepEqual(tracker.checkpoint(), { file: null, skip: 0, since: 5000 });
  tracker.attached(b);
  t.deepEqual(tracker.checkpoint(), { file: at(b, 0), skip: 0, since: 5000 });
  t.is(tracker.produced(1), 0, 'nothing of the new file is skipped');
  // A file attached while a position exists leaves it alone.
  const c = new File(13);
  tracker.attached(c);
  t.deepEqual(tracker.checkpoint(), { file: at(b, 0), skip: 1, since: 5000 });
  t.is(tracker.openLineStart(a), c);
});

test('whichever batch is the last one confirmed, resuming from its checkpoint yields exactly the records after it', (t) => {
  // A stream of lines in three files, cut inside a two-line record between the first and second;
  // a record is `rN`, a line starting with '+' continues the previous one (folded into it).
  const files = [
    ['r0', 'r1', 'r2', 'r3'],
    ['+3', 'r4', 'r5'],
    ['r6', 'r7', '+7', '+7', 'r8'],
  ];
  /** Reads from `start` (file index, line index) skipping `skip` records: a batch per line, with its checkpoint, as FileStream queues them. */
  const run = (start: { file: number; line: number }, skip: number) => {
    const tracker = new CheckpointTracker<File>(0);
    const handles = files.map((_, i) => new File(i));
    for (const h of handles) h.lineEnd = 0;
    handles[start.file]!.lineEnd = start.line;
    tracker.begin(handles[start.file], skip);
    const batches: { records: string[]; checkpoint: ReturnType<CheckpointTracker['checkpoint']> }[] = [];
    let held: string | undefined;
    for (let f = start.file; f < files.length; f++) {
      const h = handles[f]!;
      // A finished file with nothing open moves the checkpoint: FileStream sends a batch of no records with it.
      if (f > start.file && tracker.continued(h, held !== undefined)) batches.push({ records: [], checkpoint: tracker.checkpoint() });
      for (let l = f === start.file ? start.line : 0; l < files[f]!.length; l++) {
        const line = files[f]![l]!;
        const out: string[] = [];
        if (line.startsWith('+')) held += line;
        else {
          if (held !== undefined) out.push(held);
          held = line;
        }
        // A record is complete once the next line does not continue it: r3 +3 is held until r4.
        const next = files[f]![l + 1] ?? files[f + 1]?.[0];
        if (held !== undefined && !next?.startsWith('+')) {
          out.push(held);
          held = undefined;
        }
        h.lineEnd = l + 1;
        const drop = tracker.produced(out.length);
        tracker.lineEnded(h, l + 1, { pending: held !== undefined });
        batches.push({ records: out.slice(drop), checkpoint: tracker.checkpoint() });
      }
    }
    return batches;
  };
  const all = run({ file: 0, line: 0 }, 0);
  const expected = all.flatMap((b) => b.records);
  t.deepEqual(expected, ['r0', 'r1', 'r2', 'r3+3', 'r4', 'r5', 'r6', 'r7+7+7', 'r8']);
  for (let k = 0; k < all.length; k++) {
    const cp = all[k]!.checkpoint;
    const confirmed = all.slice(0, k + 1).flatMap((b) => b.records);
    const again = run({ file: cp.file!.ino, line: cp.file!.offset }, cp.skip).flatMap((b) => b.records);
    t.deepEqual([...confirmed, ...again], expected, `confirmed through batch ${k}, resumed from file ${cp.file!.ino} line ${cp.file!.offset} skipping ${cp.skip}`);
  }
});

/** A file whose identity grows as it is read, and changes epoch when it is read again from its head. */
class GrowingFile extends File {
  identity = { epoch: 0, fpLen: 0, fpHash: 'empty', bornMs: undefined as number | undefined };
  override positionAt(offset: number): FilePosition {
    return { ...super.positionAt(offset), fpLen: this.identity.fpLen, fpHash: this.identity.fpHash };
  }
  identityNow() {
    return this.identity;
  }
}

test('a position taken while its file was young names it by the identity known at the checkpoint, unless the file was read again from its head since', (t) => {
  const tracker = new CheckpointTracker<GrowingFile>(0);
  const a = new GrowingFile(10);
  tracker.begin(a, 0);
  t.like(tracker.checkpoint().file, { offset: 0, fpLen: 0, fpHash: 'empty' });
  a.identity = { epoch: 0, fpLen: 77, fpHash: 'first-line', bornMs: 123.5 };
  tracker.produced(1);
  t.like(tracker.checkpoint().file, { offset: 0, fpLen: 77, fpHash: 'first-line', bornMs: 123.5 }, 'the same position, a better name');
  // Truncated and read again from its head: the position taken before describes the old content.
  a.identity = { epoch: 1, fpLen: 30, fpHash: 'other', bornMs: 123.5 };
  t.like(tracker.checkpoint().file, { offset: 0, fpLen: 0, fpHash: 'empty' });
  t.is(tracker.checkpoint().file?.bornMs, undefined);
});
