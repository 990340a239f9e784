// One identity across the signals (issue 17), end to end with the real libvirtd and QEMU: the exporter, the
// HA agent (writing to the fake Kubernetes API server with the shipped CRD and RBAC) and the sidecar run with
// their default flags plus what the generated manifests pass. A guest (an OpenStack instance: Nova's metadata
// in its XML) is started, killed (a crash: Stopped Failed) and started again; its one uuid then finds its
// series, its Eviction (with Nova's instance name and project as the exporter's info series has them), the
// agent's records and series of it, its QEMU log records and libvirtd's records about it. A domain deleted and re-created with the same name gets a new uuid
// on every signal, so nothing of the old VM is mixed into the new one.
import test from 'ava';
import path from 'node:path';
import { defineTinyDomain, qemuPid, removeDomain, testDomainName, waitForDomainState, type TinyDomain } from '../harness/env/domains.js';
import { startEventsAgent, type EventsAgent } from '../harness/roles/events-agent.js';
import { startExporter, type RunningExporter } from '../harness/roles/exporter.js';
import { parseExposition, select } from '../harness/readers/exposition.js';
import type { FakeKubeApiServer } from '../harness/fakes/fake-kube-apiserver.js';
import { HYPERVISOR, startFakeCluster } from '../harness/fakes/kube-fixtures.js';
import { startSidecar, tempDir, type RunningSidecar } from '../harness/roles/sidecar.js';
import { virsh } from '../harness/env/testenv.js';
import { NOVA_INSTANCE, novaInstanceXml } from '../harness/inputs/nova.js';
import { waitFor } from '../env/proc.js';

const URI = 'qemu+tcp://127.0.0.1:16509/system';
const NAMESPACE = 'ha';

let kube: FakeKubeApiServer;
let agent: EventsAgent;
let exporter: RunningExporter;
let sidecar: RunningSidecar;

test.before(async () => {
  kube = await startFakeCluster(['default', NAMESPACE], NAMESPACE);
  // generate manifests: `events --libvirt.uri=…` with the hypervisor and namespace from the pod (env).
  agent = await startEventsAgent({ kube, hypervisor: HYPERVISOR, namespace: NAMESPACE, uri: URI });
  // generate manifests: `exporter --libvirt.uri=…`.
  exporter = await startExporter([`--libvirt.uri=${URI}`]);
  // The sidecar's defaults (QEMU logs of /var/log/libvirt/qemu, libvirtd's journal) with its own state dir.
  sidecar = startSidecar([`--state-dir=${path.join(tempDir('identity'), 'state')}`]);
  await sidecar.port();
});

test.after.always(async () => {
  sidecar?.child.kill('SIGTERM');
  await exporter?.stop();
  await agent?.stop();
  await kube?.stop();
});

/** `kubectl get evictions -n ha -l hypervisor.c5c3.io/uuid=<uuid>`, with an operator's credentials. */
async function evictionsOf(uuid: string): Promise<{ metadata: { name: string; labels: Record<string, string> }; spec: Record<string, string> }[]> {
  const selector = encodeURIComponent(`hypervisor.c5c3.io/uuid=${uuid}`);
  const res = await fetch(`${kube.url}/apis/hypervisor.c5c3.io/v1/namespaces/${NAMESPACE}/evictions?labelSelector=${selector}`, { headers: { authorization: `Bearer ${kube.adminToken}` } });
  if (res.status !== 200) throw new Error(`list evictions: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { items: never[] }).items;
}

async function waitForEviction(uuid: string) {
  return (await waitFor(`the Eviction of ${uuid}`, 30_000, async () => {
    const found = await evictionsOf(uuid);
    return found.length > 0 ? found : undefined;
  }, 250))[0]!;
}

/** The exporter's series of one metric about a domain (by name), after a fresh scrape. */
async function series(metric: string, domain: string) {
  return select((await exporter.scrape()).samples, metric, { domain });
}

async function start(domain: TinyDomain): Promise<string> {
  await virsh(['start', domain.name]);
  await waitForDomainState(domain.name, 'running');
  return (await virsh(['domuuid', domain.name])).trim();
}

/** kill -9 of the guest's QEMU: libvirtd reports Stopped Failed, the HA agent evicts. */
async function crash(domain: TinyDomain): Promise<void> {
  process.kill(qemuPid(domain.name).pid, 'SIGKILL');
  await waitForDomainState(domain.name, 'shut off');
}

/** The sidecar's records, polled gently (each call parses all of stdout). */
async function waitForRecords(what: string, predicate: (records: Record<string, unknown>[]) => boolean): Promise<Record<string, unknown>[]> {
  return await waitFor(what, 30_000, () => {
    const records = sidecar.records();
    return predicate(records) ? records : undefined;
  }, 500);
}

test.serial('a crashed and restarted guest: its uuid finds its series, its Eviction, the agent\'s records and series of it, its QEMU log records and libvirtd\'s records about it', async (t) => {
  // An OpenStack instance: Nova's metadata in the domain XML.
  const domain = await defineTinyDomain(testDomainName('identity'), { nic: false, enospcDisk: false, metadata: novaInstanceXml(), cleanup: t });
  const uuid = await start(domain);
  await waitFor('the running domain\'s series', 30_000, async () => (await series('libvirt_domain_state', domain.name)).find((s) => s.labels.state === 'running'));
  await crash(domain);

  const eviction = await waitForEviction(uuid);
  t.like(eviction.spec, { hypervisor: HYPERVISOR, domain: domain.name, uuid, instance_name: NOVA_INSTANCE.name, project_id: NOVA_INSTANCE.projectId });
  // The exporter's Nova info series names the instance with the same labels and values.
  const [info] = await series('libvirt_domain_openstack_info', domain.name);
  t.like(info?.labels, { uuid, instance_name: eviction.spec.instance_name, project_id: eviction.spec.project_id });
  t.is(eviction.metadata.labels['hypervisor.c5c3.io/domain-uuid'], uuid);
  const [failed] = await agent.waitForRecords((r) => r.uuid === uuid && r.detail === 'stopped/failed');
  t.like(failed, { domain: domain.name, action: 'eviction', eviction: eviction.metadata.name });

  // The series of the crashed domain, and the agent's series of its Eviction, carry the same two labels.
  const crashed = (await series('libvirt_domain_state', domain.name)).filter((s) => s.value === 1);
  t.deepEqual(crashed.map((s) => [s.labels.uuid, s.labels.state, s.labels.reason]), [[uuid, 'shutoff', 'crashed']]);
  const stored = select(parseExposition(await agent.metrics()), 'libvirt_events_eviction_timestamp_seconds', { uuid });
  t.deepEqual(stored.map((s) => [s.labels.domain, s.labels.eviction]), [[domain.name, eviction.metadata.name]]);

  // Started again: the same VM, the same uuid on every series.
  t.is(await start(domain), uuid);
  const running = await waitFor('the restarted domain\'s series', 30_000, async () => {
    const samples = await series('libvirt_domain_info_vcpus', domain.name);
    return samples.length > 0 ? samples : undefined;
  });
  t.deepEqual(running.map((s) => s.labels.uuid), [uuid]);

  // Its QEMU log, read by the sidecar: both runs, the crash between them.
  const records = await waitForRecords('the QEMU records of both runs', (all) => all.filter((r) => r.source === 'qemu' && r.domain === domain.name && r.kind === 'domain_start').length >= 2);
  const mine = records.filter((r) => r.source === 'qemu' && r.domain === domain.name);
  t.true(mine.some((r) => r.kind === 'domain_shutdown' && r.reason === 'crashed'), 'the kill -9 is in the log');
  t.deepEqual([...new Set(mine.map((r) => r.uuid))], [uuid], 'every QEMU record of both runs carries the uuid');

  // libvirtd's own records about it (from the journal: the taint warning of each start names it).
  const daemon = await waitForRecords('libvirtd\'s records of both starts', (all) => all.filter((r) => r.source === 'libvirtd' && r.domain === domain.name).length >= 2);
  const aboutIt = daemon.filter((r) => r.source === 'libvirtd' && r.domain === domain.name);
  t.deepEqual([...new Set(aboutIt.map((r) => r.uuid))], [uuid], 'libvirtd\'s records about the domain carry its uuid');
});

test.serial('a domain deleted and re-created with the same name: a new uuid on every signal, the old one finds only the old VM', async (t) => {
  const name = testDomainName('identity-reused');
  const first = await defineTinyDomain(name, { nic: false, enospcDisk: false });
  const oldUuid = await start(first);
  await crash(first);
  const oldEviction = await waitForEviction(oldUuid);
  await removeDomain(first);

  const second = await defineTinyDomain(name, { nic: false, enospcDisk: false, cleanup: t });
  const newUuid = await start(second);
  t.not(newUuid, oldUuid, 'libvirt gave the re-created domain a new uuid');
  const running = await waitFor('the new domain\'s series', 30_000, async () => {
    const samples = (await series('libvirt_domain_state', name)).filter((s) => s.value === 1);
    return samples.length > 0 ? samples : undefined;
  });
  t.deepEqual(running.map((s) => [s.labels.uuid, s.labels.state]), [[newUuid, 'running']], 'the old uuid is gone from the series');
  await crash(second);

  const newEviction = await waitForEviction(newUuid);
  t.like(newEviction.spec, { domain: name, uuid: newUuid });
  t.not(newEviction.metadata.name, oldEviction.metadata.name);
  t.deepEqual((await evictionsOf(oldUuid)).map((e) => e.metadata.name), [oldEviction.metadata.name], 'the old uuid finds the old VM\'s Eviction only');
  t.deepEqual((await evictionsOf(newUuid)).map((e) => e.metadata.name), [newEviction.metadata.name]);
  const failed = agent.records((r) => r.domain === name && r.detail === 'stopped/failed');
  t.deepEqual(failed.map((r) => [r.uuid, r.eviction]), [[oldUuid, oldEviction.metadata.name], [newUuid, newEviction.metadata.name]]);

  // The one QEMU log file of the name holds both VMs: each run's records carry that run's uuid.
  const records = await waitForRecords('the QEMU records of both VMs', (all) => all.filter((r) => r.source === 'qemu' && r.domain === name && r.kind === 'domain_shutdown').length >= 2);
  const runs = records.filter((r) => r.source === 'qemu' && r.domain === name).map((r) => `${String(r.uuid)} ${String(r.kind)}`);
  const starts = runs.filter((r) => r.endsWith(' domain_start'));
  t.deepEqual(starts, [`${oldUuid} domain_start`, `${newUuid} domain_start`]);
  const switchAt = runs.indexOf(`${newUuid} domain_start`);
  t.true(runs.slice(0, switchAt).every((r) => r.startsWith(oldUuid)), 'the first VM\'s records carry the old uuid');
  t.true(runs.slice(switchAt).every((r) => r.startsWith(newUuid)), 'the re-created VM\'s records carry the new uuid');

  // libvirtd's records about the name: the old uuid for the first VM, the new one for the second.
  const daemon = await waitForRecords('libvirtd\'s records of both VMs', (all) => new Set(all.filter((r) => r.source === 'libvirtd' && r.domain === name).map((r) => r.uuid)).size >= 2);
  const uuids = daemon.filter((r) => r.source === 'libvirtd' && r.domain === name).map((r) => r.uuid);
  t.deepEqual([...new Set(uuids)], [oldUuid, newUuid]);
});
