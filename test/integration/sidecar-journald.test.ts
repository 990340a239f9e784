// The journal source on the test environment's real standalone systemd-journald, with libvirtd's
// own entries (the taint warnings it logs when a domain starts), read by `journalctl --follow`.
// A restart of the sidecar resumes after its cursor: every entry exactly once.
import test from 'ava';
import path from 'node:path';
import { defineTinyDomain, testDomainName, waitForDomainState } from '../harness/env/domains.js';
import { startSidecar, tempDir } from '../harness/roles/sidecar.js';
import { journalEntries, virsh } from '../harness/env/testenv.js';
import { HOST_PATHS } from '../env/layout.js';

async function startAndDestroy(name: string): Promise<void> {
  await virsh(['start', name]);
  await waitForDomainState(name, 'running');
  await virsh(['destroy', name]);
  await waitForDomainState(name, 'shut off');
}

test.serial("libvirtd's real journal entries come out once each, across a restart of the sidecar", async (t) => {
  const name = testDomainName('sidecar-journal');
  await defineTinyDomain(name, { nic: false, enospcDisk: false, cleanup: t });
  const args = [
    '--qemu.log-dir', '', '--libvirtd.source', 'journal', '--journal.directory', HOST_PATHS.journalDir,
    '--state-dir', path.join(tempDir('journald'), 'state'), '--read-from', 'tail',
  ];
  const mine = (records: Record<string, unknown>[]) => records.filter((r) => String(r['message'] ?? '').includes(name)).map((r) => String(r['message']));
  const expected = async () =>
    (await journalEntries({ unit: 'libvirtd.service', matches: [] })).filter((e) => String(e['MESSAGE'] ?? '').includes(name)).map((e) => String(e['MESSAGE']));

  const first = startSidecar(args);
  t.teardown(() => first.child.kill('SIGKILL'));
  await first.port();
  await startAndDestroy(name);
  const afterFirst = await expected();
  t.true(afterFirst.length >= 1, 'libvirtd logged about the domain');
  await first.waitFor(() => mine(first.records()).length >= afterFirst.length, 15_000, `${afterFirst.length} entries`);
  await new Promise((r) => setTimeout(r, 500));
  t.deepEqual(mine(first.records()), afterFirst);
  const record = first.records().find((r) => String(r['message'] ?? '').includes(name))!;
  t.is(record['source'], 'libvirtd');
  t.is(record['kind'], 'libvirt_log');
  first.child.kill('SIGTERM');
  t.is(await first.exited, 0);

  // While the sidecar is down libvirtd logs more; the next run starts after its cursor.
  await startAndDestroy(name);
  const afterSecond = await expected();
  t.true(afterSecond.length > afterFirst.length);
  const second = startSidecar(args);
  t.teardown(() => second.child.kill('SIGKILL'));
  await second.waitFor(() => mine(second.records()).length >= afterSecond.length - afterFirst.length, 15_000, 'the entries logged while down');
  await new Promise((r) => setTimeout(r, 1000));
  t.deepEqual([...mine(first.records()), ...mine(second.records())], afterSecond);
  second.child.kill('SIGTERM');
  t.is(await second.exited, 0);
});
