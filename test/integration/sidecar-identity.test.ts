// The sidecar's libvirtd journal records about a real domain carry its real uuid (virsh domuuid), from
// libvirtd's taint message at each start, beside its QEMU-log records; a domain deleted and defined again
// under the same name gets the new uuid on both. Default sidecar flags plus a state directory.
import test from 'ava';
import path from 'node:path';
import { defineTinyDomain, removeDomain, testDomainName, waitForDomainState } from '../harness/env/domains.js';
import { virsh } from '../harness/env/testenv.js';
import { startSidecar, tempDir } from '../harness/roles/sidecar.js';

async function startAndDestroy(name: string): Promise<string> {
  await virsh(['start', name]);
  await waitForDomainState(name, 'running');
  await virsh(['destroy', name]);
  await waitForDomainState(name, 'shut off');
  return (await virsh(['domuuid', name])).trim();
}

test.serial('libvirtd records about a domain carry its uuid, and a re-created domain\'s the new one', async (t) => {
  const name = testDomainName('sidecar-identity');
  const sidecar = startSidecar([`--state-dir=${path.join(tempDir('identity'), 'state')}`]);
  t.teardown(() => sidecar.child.kill('SIGKILL'));
  await sidecar.port();
  // Removed here, not by the teardown: the teardown of the second domain of the name would find it gone.
  const first = await defineTinyDomain(name, { nic: false, enospcDisk: false });
  let removed = false;
  t.teardown(() => (removed ? undefined : removeDomain(first)));
  const oldUuid = await startAndDestroy(name);
  await removeDomain(first);
  removed = true;
  await defineTinyDomain(name, { nic: false, enospcDisk: false, cleanup: t });
  const newUuid = await startAndDestroy(name);
  t.not(newUuid, oldUuid);
  const journal = () => sidecar.records().filter((r) => r['source'] === 'libvirtd' && r['domain'] === name);
  await sidecar.waitFor(() => journal().length >= 2, 20_000, 'the taint messages of both starts');
  t.deepEqual(journal().map((r) => r['uuid']), [oldUuid, newUuid]);
  for (const r of journal()) t.regex(String(r['message']), new RegExp(`name='${name}' uuid=${String(r['uuid'])} is tainted`));
  const qemu = () => sidecar.records().filter((r) => r['source'] === 'qemu' && r['domain'] === name);
  await sidecar.waitFor(() => qemu().filter((r) => r['kind'] === 'domain_shutdown').length >= 2, 20_000, 'both runs in the QEMU log');
  const uuids = qemu().map((r) => r['uuid']);
  const switchAt = uuids.indexOf(newUuid);
  t.true(switchAt > 0);
  t.true(uuids.slice(0, switchAt).every((u) => u === oldUuid));
  t.true(uuids.slice(switchAt).every((u) => u === newUuid));
  sidecar.child.kill('SIGTERM');
  t.is(await sidecar.exited, 0);
});
