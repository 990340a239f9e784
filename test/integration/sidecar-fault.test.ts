// kill -9 of the sidecar at random moments while a writer appends and rotates (virtlogd style):
// after a final clean run, every written line must have come out. With the file output the
// count of duplicates must be 0 too (its WAL intents make the file the proof of delivery);
// stdout cannot confirm what a killed process wrote last, so its duplicates are reported.
import test from 'ava';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RotatingWriter, sequences, tally } from '../helpers/log-writer.js';
import { startSidecar, tempDir } from '../helpers/sidecar.js';

const KILLS = 8;

function randomBetween(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min));
}

async function faultRun(t: import('ava').ExecutionContext, output: 'file' | 'stdout') {
  const root = tempDir(`fault-${output}`);
  const logs = path.join(root, 'qemu');
  mkdirSync(logs);
  const outFile = path.join(root, 'records.jsonl');
  const args = ['--qemu-log-dir', logs, '--libvirtd-source', 'none', '--state-dir', path.join(root, 'state'), '--rotate-wait', '1s', '--rescan-interval', '500ms'];
  if (output === 'file') args.push('--output', 'file', '--output-file', outFile);
  const writer = new RotatingWriter(path.join(logs, 'dom.log'), 64 * 1024);
  const ticker = setInterval(() => writer.write(25), 15);
  const stdoutRuns: string[] = [];
  try {
    for (let i = 0; i < KILLS; i++) {
      const sc = startSidecar(args);
      await new Promise((r) => setTimeout(r, randomBetween(300, 1500)));
      sc.child.kill('SIGKILL');
      t.is(await sc.exited, 'SIGKILL');
      stdoutRuns.push(sc.stdout());
    }
  } finally {
    clearInterval(ticker);
    writer.close();
  }
  const last = startSidecar(args);
  const seen = (): number[] => {
    if (output === 'file') return sequences(readFileSync(outFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
    // A killed process may have written half a line last: the reader drops it (it was not confirmed).
    const complete = stdoutRuns.map((text) => text.slice(0, text.lastIndexOf('\n') + 1)).join('') + last.stdout();
    return sequences(complete.split('\n').filter(Boolean).map((l) => JSON.parse(l)));
  };
  await last.waitFor(() => new Set(seen()).size >= writer.seq, 30_000, `all ${writer.seq} lines`);
  last.child.kill('SIGTERM');
  t.is(await last.exited, 0);
  const result = tally(seen(), writer.seq);
  t.log(`${output}: ${writer.seq} lines, ${writer.rotations} rotations, ${KILLS} kills: lost ${result.lost.length}, duplicates ${result.duplicates}`);
  t.true(writer.rotations >= 3, `${writer.rotations} rotations`);
  t.deepEqual(result.lost, []);
  return result;
}

test.serial('kill -9 at random moments, file output: 0 lost, 0 duplicates, every line valid JSON', async (t) => {
  const result = await faultRun(t, 'file');
  t.is(result.duplicates, 0);
});

test.serial('kill -9 at random moments, stdout output: 0 lost (duplicates reported)', async (t) => {
  await faultRun(t, 'stdout');
});
