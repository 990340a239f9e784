// The sidecar with `--libvirt.uri` (default flags otherwise) against the real libvirtd: a QEMU log that
// starts after its command line (virtlogd rotated the start away before the sidecar's first start, so
// neither the log nor a state says the uuid) gets the domain's real uuid through DOMAIN_LOOKUP_BY_NAME,
// and every record of the domain Nova's instance name and project from the domain XML
// (docs/records.md#identity).
import test from 'ava';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { URIS } from '../env/layout.js';
import { defineTinyDomain, testDomainName, waitForDomainState } from '../harness/env/domains.js';
import { DEFAULT_VIRTLOGD_MAX_SIZE, setVirtlogdMaxSize, virsh } from '../harness/env/testenv.js';
import { NOVA_INSTANCE, novaInstanceXml } from '../harness/inputs/nova.js';
import { expectedOnceEqual, metricValue, parseWithCli, startSidecar, tempDir } from '../harness/roles/sidecar.js';

// One start/destroy of a tiny domain logs a little less than this (bench/RESULTS.md#test-environment): the
// second cycle rotates, and the new log begins somewhere after the first command line's start.
const MAX_SIZE = 4096;
const MAX_CYCLES = 8;

test.serial('--libvirt.uri: a QEMU log without its command line gets the real uuid by name, every record Nova\'s names', async (t) => {
  const name = testDomainName('sidecar-uri');
  const domain = await defineTinyDomain(name, { nic: false, enospcDisk: false, metadata: novaInstanceXml(), cleanup: t });
  const copies = [0, 1, 2].map((n) => `${domain.qemuLog}.${n}`);
  t.teardown(() => {
    for (const f of [domain.qemuLog, ...copies]) rmSync(f, { force: true });
  });
  t.teardown(() => setVirtlogdMaxSize(DEFAULT_VIRTLOGD_MAX_SIZE));
  await setVirtlogdMaxSize(MAX_SIZE);
  // Until the live log holds records before any command line of its own: what only libvirt can name.
  const withoutUuid = (): number => parseWithCli(readFileSync(domain.qemuLog), name).filter((r) => r['uuid'] === undefined).length;
  let cycles = 0;
  while (!(existsSync(copies[0]!) && withoutUuid() > 0) && cycles < MAX_CYCLES) {
    await virsh(['start', name]);
    await waitForDomainState(name, 'running');
    await virsh(['destroy', name]);
    await waitForDomainState(name, 'shut off');
    cycles++;
  }
  await setVirtlogdMaxSize(DEFAULT_VIRTLOGD_MAX_SIZE);
  t.true(existsSync(copies[0]!) && withoutUuid() > 0, `virtlogd rotated the start away within ${cycles} cycles`);
  const uuid = (await virsh(['domuuid', name])).trim();

  // The URI the generated manifests give the exporter and the agent; the rest are the defaults (the whole
  // QEMU log directory from its head, libvirtd's journal) and a state directory of the test's own.
  const sc = startSidecar(['--libvirt.uri', URIS.qemuTcp, '--state-dir', path.join(tempDir('libvirt-uri'), 'state')]);
  t.teardown(() => sc.child.kill('SIGKILL'));
  const mine = () => sc.records().filter((r) => r['source'] === 'qemu' && r['domain'] === name);
  // The records parse makes of the log (which QEMU's last words may still reach), each with the domain's
  // uuid and its Nova names. The default --multiline-flush holds the last record a while.
  const expected = await expectedOnceEqual(mine, () =>
    parseWithCli(readFileSync(domain.qemuLog), name).map((r) => ({ ...r, uuid, instance_name: NOVA_INSTANCE.name, project_id: NOVA_INSTANCE.projectId })),
  );
  t.deepEqual(mine(), expected);
  t.true(metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_identity_lookups_total', { result: 'found' }) >= 1);
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
});
