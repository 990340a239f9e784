// The sidecar following a real QEMU log while the real virtlogd rotates it (max_size lowered to
// 4 KiB through the test environment): every line virtlogd wrote, across `<name>.log.1`,
// `<name>.log.0` and `<name>.log`, must come out exactly once, in order.
// virtlogd rotates by size, between lines or inside one, and so may cut libvirtd's multi-line
// command line in two; the files are one stream to the sidecar, so its records must equal, field
// by field, what `parse` makes of the copies concatenated.
import test from 'ava';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { defineTinyDomain, testDomainName, waitForDomainState } from '../harness/env/domains.js';
import { expectedOnceEqual, parseWithCli, startSidecar, tempDir } from '../harness/roles/sidecar.js';
import { DEFAULT_VIRTLOGD_MAX_SIZE, setVirtlogdMaxSize, virsh } from '../harness/env/testenv.js';
import { HOST_PATHS } from '../env/layout.js';

// One start/destroy of a tiny domain logs a little less than this (bench/RESULTS.md#test-environment): a cycle
// rotates at most once.
const MAX_SIZE = 4096;
// virtlogd's max_backups: a fourth rotation would delete the oldest copy, so stop at two.
const ROTATIONS = 2;
const MAX_CYCLES = 8;

/** What `libvirt-telemetry parse` makes of the concatenated files (oldest first). */
function parsedRecords(files: readonly string[], domain: string): Record<string, unknown>[] {
  return parseWithCli(Buffer.concat(files.map((f) => readFileSync(f))), domain);
}

test.serial('virtlogd rotating a real QEMU log (max_size 4 KiB): every line of every copy exactly once', async (t) => {
  const name = testDomainName('sidecar-rotate');
  const domain = await defineTinyDomain(name, { nic: false, enospcDisk: false, cleanup: t });
  const copy = (n: number) => `${domain.qemuLog}.${n}`;
  t.teardown(() => {
    for (const f of [domain.qemuLog, copy(0), copy(1), copy(2)]) rmSync(f, { force: true });
  });
  t.teardown(() => setVirtlogdMaxSize(DEFAULT_VIRTLOGD_MAX_SIZE));
  await setVirtlogdMaxSize(MAX_SIZE);
  const sc = startSidecar([
    '--qemu.log-dir', HOST_PATHS.qemuLogDir, '--qemu.log-glob', `${name}.log`, '--libvirtd.source', 'none',
    '--state-dir', path.join(tempDir('virtlogd'), 'state'), '--rotate-wait', '5s', '--multiline-flush', '200ms',
  ]);
  t.teardown(() => sc.child.kill('SIGKILL'));
  await sc.port();
  let cycles = 0;
  while (!existsSync(copy(ROTATIONS - 1)) && cycles < MAX_CYCLES) {
    await virsh(['start', name]);
    await waitForDomainState(name, 'running');
    await new Promise((r) => setTimeout(r, 500));
    await virsh(['destroy', name]);
    await waitForDomainState(name, 'shut off');
    cycles++;
  }
  t.true(existsSync(copy(0)) && existsSync(copy(1)), `virtlogd rotated twice within ${cycles} start/destroy cycles`);
  t.false(existsSync(copy(2)), 'no third rotation, so no copy was dropped past max_backups');
  for (const f of [copy(1), copy(0)]) t.true(readFileSync(f).length <= MAX_SIZE, `${f} is within max_size`);
  const expected = await expectedOnceEqual(sc.records, () => parsedRecords([copy(1), copy(0), domain.qemuLog], name));
  // Nothing more comes afterwards (a record read twice would).
  await new Promise((r) => setTimeout(r, 1000));
  const records = sc.records();
  t.false(expected.some((r) => r['kind'] === 'unparsed'), 'parse understands the whole log');
  t.deepEqual(records, expected, 'every record once, in order, whole across the rotations');
  const messages = expected.map((r) => String(r['message'] ?? ''));
  t.is(messages.filter((m) => /starting up/.test(m)).length, cycles, 'every start logged');
  t.is(messages.filter((m) => /shutting down, reason=destroyed/.test(m)).length, cycles, 'every destroy logged');
  t.is(records.filter((r) => r['kind'] === 'command_line').length, cycles, 'one command line per start');
  // Where virtlogd cut (for the log): a copy ending in ` \` was cut inside the command line.
  for (const f of [copy(1), copy(0)]) t.log(`${path.basename(f)} ends with ${JSON.stringify(readFileSync(f, 'utf8').slice(-40))}`);
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
});
