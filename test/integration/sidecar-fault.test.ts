// kill -9 of the sidecar at random moments while a writer appends and rotates (virtlogd style):
// after a final clean run, every written line must have come out. With the file output the
// count of duplicates must be 0 too (its WAL intents make the file the proof of delivery);
// stdout cannot confirm what a killed process wrote last, so its duplicates are reported.
import test from 'ava';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { allBelow, RotatingWriter, sequences, tally } from '../harness/fakes/log-writer.js';
import { checkedRecords } from '../harness/checks/record-schema.js';
import { startSidecar, tempDir, type RunningSidecar } from '../harness/roles/sidecar.js';

/** Kills at least, and rotations the writer performs while the sidecar is killed again and again. */
const KILLS = 8;
const ROTATIONS = 4;

function randomBetween(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min));
}

async function faultRun(t: import('ava').ExecutionContext, output: 'file' | 'stdout') {
  const root = tempDir(`fault-${output}`);
  const logs = path.join(root, 'qemu');
  mkdirSync(logs);
  const outFile = path.join(root, 'records.jsonl');
  const args = ['--qemu.log-dir', logs, '--libvirtd.source', 'none', '--state-dir', path.join(root, 'state'), '--rotate-wait', '1s', '--rescan-interval', '500ms'];
  if (output === 'file') args.push('--output', 'file', '--output.file', outFile);
  // A rotation about every 1.6 s while the sidecar is killed again and again, so rotations happen
  // while it is dead, while it starts and while it runs.
  const writer = new RotatingWriter(path.join(logs, 'dom.log'), 192 * 1024);
  let ticker: NodeJS.Timeout | undefined;
  const stdoutRuns: string[] = [];
  let current: RunningSidecar | undefined;
  // What came out so far, complete lines only: a killed process may have written half a line last (the
  // reader drops it: it was not confirmed), and the running one may be in the middle of a line.
  const outputs = (): string[] =>
    (output === 'file' ? [existsSync(outFile) ? readFileSync(outFile, 'utf8') : ''] : [...stdoutRuns, current?.stdout() ?? '']).map((text) => text.slice(0, text.lastIndexOf('\n') + 1));
  /** The sequence numbers delivered so far, read while sidecars write (no JSON.parse of every line 60 times a second). */
  const seenSoFar = (): number[] => [...outputs().join('').matchAll(/test sequence (\d+)"/g)].map((m) => Number(m[1]));
  // After the last clean stop the output file must be whole: every line of it is parsed.
  const delivered = (): Record<string, unknown>[] =>
    (output === 'file' ? readFileSync(outFile, 'utf8') : outputs().join('')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  // Copies rotated away while the sidecar is dead are lost by nature (docs/sidecar.md): the writer
  // holds back a rotation that would delete lines not delivered yet, however long the restarts
  // take on a loaded machine. The rotations themselves still come while it is dead or starting.
  let deliveredBelow = 0;
  const mayRotate = (): boolean => {
    const end = writer.deletedByNextRotation();
    if (end > deliveredBelow && allBelow(seenSoFar(), end)) deliveredBelow = end;
    return end <= deliveredBelow;
  };
  let held = false;
  let kills = 0;
  // The writer stops after a fixed number of rotations, however fast the machine lets it write;
  // the kills go on until it stopped, so that every rotation happens among them.
  const writing = (): boolean => writer.rotations < ROTATIONS;
  try {
    for (; kills < KILLS || writing(); kills++) {
      const sc = startSidecar(args);
      current = sc;
      // The guarantee starts with the first run's first checkpoint (files that exist at the very
      // first start begin at their head, their rotated copies are not read): write after it.
      if (kills === 0) {
        await sc.port();
        ticker = setInterval(() => {
          held = writing() && !mayRotate();
          if (!writing()) clearInterval(ticker);
          else if (!held) writer.write(25);
        }, 15);
      }
      await new Promise((r) => setTimeout(r, randomBetween(300, 1500)));
      // The sidecar the writer waits for lives until it delivered those lines: on a machine that starts
      // it more slowly than the kills come, none would ever get to read them.
      await sc.waitFor(() => !held, 60_000, 'the lines the next rotation deletes');
      sc.child.kill('SIGKILL');
      t.is(await sc.exited, 'SIGKILL');
      stdoutRuns.push(sc.stdout());
      current = undefined;
    }
  } finally {
    clearInterval(ticker);
    writer.close();
  }
  const last = startSidecar(args);
  current = last;
  t.teardown(() => last.child.kill('SIGKILL'));
  // SIGTERM is the running sidecar's graceful stop: wait until it serves (a signal in the first
  // milliseconds of a Node process, before any handler exists, ends it like any other program).
  await last.port();
  // On a timeout the tally below says what is missing.
  await last.waitFor(() => allBelow(seenSoFar(), writer.seq), 60_000, `all ${writer.seq} lines`).catch(() => undefined);
  const lastMetrics = await last.metrics();
  last.child.kill('SIGTERM');
  t.is(await last.exited, 0);
  const result = tally(sequences(checkedRecords(delivered())), writer.seq);
  t.log(`${output}: ${writer.seq} lines, ${writer.rotations} rotations, ${kills} kills: lost ${result.lost.length}, duplicates ${result.duplicates}`);
  if (result.lost.length > 0) {
    t.log(`the last run's log:\n${last.stderr()}`);
    t.log(lastMetrics.split('\n').filter((l) => /^libvirt_telemetry_sidecar_(dropped|rotation|files_watched|lines_read)/.test(l)).join('\n'));
  }
  t.deepEqual(result.lost, []);
  return result;
}

// At least 8 starts and kills each: minutes on a loaded machine, beyond ava's timeout between two results.
const FAULT_RUN_TIMEOUT_MS = 6 * 60_000;

test.serial('kill -9 at random moments, file output: 0 lost, 0 duplicates, every line valid JSON', async (t) => {
  t.timeout(FAULT_RUN_TIMEOUT_MS);
  const result = await faultRun(t, 'file');
  t.is(result.duplicates, 0);
});

test.serial('kill -9 at random moments, stdout output: 0 lost (duplicates reported)', async (t) => {
  t.timeout(FAULT_RUN_TIMEOUT_MS);
  await faultRun(t, 'stdout');
});
