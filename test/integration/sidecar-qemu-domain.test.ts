// The sidecar following the real QEMU log of a real domain of the test environment, written by
// the real virtlogd: start, destroy, start again, kill -9 of QEMU. Every record the shared parser
// makes of the file (and of any copy virtlogd rotated) must come out exactly once, in order.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { defineTinyDomain, qemuPid, testDomainName, waitForDomainState } from '../harness/env/domains.js';
import { expectedOnceEqual, parseWithCli, startSidecar, tempDir } from '../harness/roles/sidecar.js';
import { virsh } from '../harness/env/testenv.js';
import { HOST_PATHS } from '../env/layout.js';

/** What `libvirt-telemetry parse` makes of the log and its rotated copies, oldest first. */
function parsedRecords(log: string, domain: string): Record<string, unknown>[] {
  const copies = [2, 1, 0].map((n) => `${log}.${n}`).filter((f) => existsSync(f));
  const text = [...copies, log].map((f) => execFileSync('cat', [f])).join('');
  return parseWithCli(text, domain);
}

test.serial('a real domain started, destroyed, started and killed -9: every record of its QEMU log exactly once', async (t) => {
  const name = testDomainName('sidecar-log');
  const domain = await defineTinyDomain(name, { nic: false, enospcDisk: false, cleanup: t });
  const sc = startSidecar([
    '--qemu.log-dir', HOST_PATHS.qemuLogDir, '--qemu.log-glob', `${name}.log`, '--libvirtd.source', 'none',
    '--state-dir', path.join(tempDir('domain'), 'state'), '--rotate-wait', '1s', '--multiline-flush', '200ms',
  ]);
  t.teardown(() => sc.child.kill('SIGKILL'));
  await sc.port();
  await virsh(['start', name]);
  await waitForDomainState(name, 'running');
  await new Promise((r) => setTimeout(r, 1000));
  await virsh(['destroy', name]);
  await waitForDomainState(name, 'shut off');
  await virsh(['start', name]);
  await waitForDomainState(name, 'running');
  await new Promise((r) => setTimeout(r, 1000));
  process.kill(qemuPid(name).pid, 'SIGKILL');
  await waitForDomainState(name, 'shut off');
  const expected = await expectedOnceEqual(sc.records, () => parsedRecords(domain.qemuLog, name));
  // Nothing more comes afterwards (a record read twice would).
  await new Promise((r) => setTimeout(r, 500));
  t.deepEqual(sc.records(), expected);
  const messages = expected.map((r) => String(r['message'] ?? ''));
  t.true(messages.filter((m) => /starting up/.test(m)).length === 2, 'two starts logged');
  t.true(messages.some((m) => /shutting down, reason=destroyed/.test(m)), 'the destroy logged');
  t.true(messages.some((m) => /shutting down, reason=crashed/.test(m)), 'the kill -9 logged');
  t.true(expected.some((r) => r['kind'] === 'command_line'), 'the folded command line');
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
});
