// Faults of the sidecar's own surroundings: the output file's disk fills up and frees again,
// a stop signal when there is nothing to do.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkedRecords } from '../harness/checks/record-schema.js';
import { metricValue, qemuLogDirSetup, startSidecar, until } from '../harness/roles/sidecar.js';
import { qemuLines, SEQ } from '../harness/fakes/log-writer.js';

const RECORDS = 3000;

test.serial('output disk full, then freed: exactly one valid JSON line per record, none torn, none doubled', async (t) => {
  const { root, logs, args } = qemuLogDirSetup('disk-full', '500ms');
  const mount = path.join(root, 'out');
  mkdirSync(mount);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mount]);
  t.teardown(() => {
    execFileSync('umount', ['-l', mount]);
    rmSync(root, { recursive: true, force: true });
  });
  // Leave 64 KiB free: far less than the 3,000 records need.
  const fs = statfsSync(mount);
  const filler = path.join(mount, 'filler');
  writeFileSync(filler, Buffer.alloc(fs.bavail * fs.bsize - 64 * 1024));
  writeFileSync(path.join(logs, 'dom.log'), qemuLines(0, RECORDS));
  const output = path.join(mount, 'records.jsonl');
  const sc = startSidecar([...args, '--output', 'file', '--output.file', output]);
  t.teardown(() => sc.child.kill('SIGKILL'));
  await sc.port();
  await new Promise((r) => setTimeout(r, 4000));
  t.true(metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_output_errors_total', { output: 'file' }) > 0, 'the disk filled up');
  rmSync(filler);
  await until(
    async () => metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_records_total', { source: 'qemu' }) >= RECORDS,
    20_000,
    'every record confirmed after the space came back',
  );
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
  const lines = readFileSync(output, 'utf8').split('\n');
  t.is(lines.pop(), '', 'the file ends with a newline');
  let invalid = 0;
  const seen = new Map<number, number>();
  for (const line of lines) {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      invalid++;
      continue;
    }
    checkedRecords([record]);
    const seq = Number(SEQ.exec(String(record['message']))?.[1]);
    seen.set(seq, (seen.get(seq) ?? 0) + 1);
  }
  const duplicated = [...seen.values()].filter((n) => n > 1).length;
  t.log(`${lines.length} lines, ${invalid} invalid JSON, ${seen.size} distinct, ${duplicated} duplicated`);
  t.is(invalid, 0);
  t.is(duplicated, 0);
  t.is(seen.size, RECORDS);
  t.is(lines.length, RECORDS);
});

test.serial('an idle sidecar stops promptly on SIGTERM', async (t) => {
  const { logs, args } = qemuLogDirSetup('idle-stop', '500ms');
  writeFileSync(path.join(logs, 'dom.log'), qemuLines(0, 3));
  const sc = startSidecar(args);
  t.teardown(() => sc.child.kill('SIGKILL'));
  await sc.waitFor(() => sc.records().length === 3, 30_000, 'the three records');
  // Idle: everything confirmed, nothing queued.
  await until(async () => {
    const m = await sc.metrics();
    return metricValue(m, 'libvirt_telemetry_sidecar_records_total') === 3 && metricValue(m, 'libvirt_telemetry_sidecar_queue_bytes') === 0;
  }, 30_000, 'the records confirmed');
  const started = Date.now();
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
  const took = Date.now() - started;
  t.log(`exited ${took} ms after SIGTERM`);
  // docs/sidecar.md: an idle sidecar exits at once, not after --shutdown-timeout (10 s at the default used
  // here); the margin for a loaded machine stays well below that.
  t.true(took < 5000, `exited after ${took} ms`);
});
