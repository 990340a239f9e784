// The events agent end to end: the real `libvirt-telemetry events` process subscribed to the test
// environment's libvirtd, real TCG guests producing each event, Evictions and status patches landing in
// the fake Kubernetes API server (CRD schema and the shipped RBAC enforced).
import test from 'ava';
import { bootingTestTimeout, guestConsole, type GuestConsole } from '../harness/env/console.js';
import { defineTinyDomain, defineTinyLinuxDomain, qemuPid, removeDomain, testDomainName, waitForDomainState, type TinyDomain } from '../harness/env/domains.js';
import { metricValue, startEventsAgent, type EventsAgent } from '../harness/roles/events-agent.js';
import type { FakeKubeApiServer } from '../harness/fakes/fake-kube-apiserver.js';
import { HYPERVISOR, startFakeCluster } from '../harness/fakes/kube-fixtures.js';
import { startLibvirtd, stopLibvirtd, virsh } from '../harness/env/testenv.js';
import { sleep } from '../env/proc.js';
import type { EventRecord } from '../../events/record.js';

const PERSIST_WINDOW_S = 3;

let kube: FakeKubeApiServer;
let agent: EventsAgent;
const cleanups: (() => Promise<void>)[] = [];

test.before(async () => {
  kube = await startFakeCluster(['default', 'ha']);
  agent = await startEventsAgent({ kube, hypervisor: HYPERVISOR, namespace: 'ha', args: ['--io-error-persist', `${PERSIST_WINDOW_S}s`] });
});

test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  const code = await agent?.stop();
  if (code !== 0 && code !== undefined) console.error(`events agent exited ${code}:\n${agent.log.join('\n')}`);
  await kube?.stop();
});

interface Started {
  domain: TinyDomain;
  uuid: string;
  console?: GuestConsole;
}

async function start(domain: TinyDomain, withConsole: boolean): Promise<Started> {
  cleanups.push(() => removeDomain(domain));
  await virsh(['start', domain.name]);
  const uuid = (await virsh(['domuuid', domain.name])).trim();
  if (!withConsole) return { domain, uuid };
  const console = await guestConsole(domain);
  cleanups.push(() => console.close());
  await console.waitReady();
  return { domain, uuid, console };
}

const of = (uuid: string) => (r: EventRecord) => r.uuid === uuid;
const is = (uuid: string, event: string, detail?: string) => (r: EventRecord) => r.uuid === uuid && r.event === event && (detail === undefined || r.detail === detail);

function evictionsOf(uuid: string): Record<string, any>[] {
  return kube.objects('evictions').filter((e) => (e.metadata as { labels: Record<string, string> }).labels['hypervisor.c5c3.io/domain-uuid'] === uuid);
}

async function waitForEvictions(uuid: string, count: number, timeoutMs = 30_000): Promise<Record<string, any>[]> {
  const deadline = Date.now() + timeoutMs;
  while (evictionsOf(uuid).length < count && Date.now() < deadline) await sleep(100);
  return evictionsOf(uuid);
}

test.serial('virsh destroy: records Shutdown Finished and Stopped Destroyed, no Eviction', async (t) => {
  const vm = await start(await defineTinyDomain(testDomainName('ev-destroy')), false);
  await agent.waitForRecords(is(vm.uuid, 'lifecycle', 'started/booted'));
  await virsh(['destroy', vm.domain.name]);
  const [stopped] = await agent.waitForRecords(is(vm.uuid, 'lifecycle', 'stopped/destroyed'));
  t.like(stopped, { source: 'libvirt-event', kind: 'domain_event', domain: vm.domain.name, hypervisor: HYPERVISOR, origin: 'live', action: 'none', level: 'info' });
  t.truthy(agent.records(is(vm.uuid, 'lifecycle', 'shutdown/host')).length);
  await sleep(500);
  t.deepEqual(evictionsOf(vm.uuid), []);
});

test.serial('ACPI shutdown of a Linux guest: Stopped Shutdown, no Eviction', async (t) => {
  t.timeout(bootingTestTimeout(1));
  const vm = await start(await defineTinyLinuxDomain(testDomainName('ev-acpi')), true);
  await virsh(['shutdown', vm.domain.name]);
  await waitForDomainState(vm.domain.name, 'shut off');
  const [stopped] = await agent.waitForRecords(is(vm.uuid, 'lifecycle', 'stopped/shutdown'));
  t.is(stopped!.action, 'none');
  t.truthy(agent.records(is(vm.uuid, 'lifecycle', 'shutdown/guest')).length);
  await sleep(500);
  t.deepEqual(evictionsOf(vm.uuid), []);
});

test.serial('kill -9 of QEMU: Stopped Failed → one Eviction for this hypervisor', async (t) => {
  const vm = await start(await defineTinyDomain(testDomainName('ev-kill')), false);
  await agent.waitForRecords(is(vm.uuid, 'lifecycle', 'started/booted'));
  process.kill(qemuPid(vm.domain.name).pid, 'SIGKILL');
  const [failed] = await agent.waitForRecords(is(vm.uuid, 'lifecycle', 'stopped/failed'));
  t.like(failed, { action: 'eviction', level: 'error', origin: 'live' });
  const [eviction] = await waitForEvictions(vm.uuid, 1);
  t.like(eviction, { apiVersion: 'hypervisor.c5c3.io/v1', kind: 'Eviction', metadata: { name: failed!.eviction, namespace: 'ha' }, spec: { hypervisor: HYPERVISOR } });
  t.regex(eviction!.spec.reason, new RegExp(`^domain ${vm.domain.name} \\(uuid ${vm.uuid}\\): lifecycle stopped/failed — the QEMU process ended unexpectedly$`));
  await sleep(500);
  t.is(evictionsOf(vm.uuid).length, 1);
});

// One Linux guest for the in-place actions (reboot, watchdog, ENOSPC), each its own test.
let linux: Started | undefined;
const booted = (): Started & { console: GuestConsole } => {
  if (!linux?.console) throw new Error('the Linux guest did not boot');
  return linux as Started & { console: GuestConsole };
};

test.serial('guest reboot: 2–3 reboot events → one status patch of the Hypervisor, the rest deduplicated', async (t) => {
  t.timeout(bootingTestTimeout(2));
  linux = await start(await defineTinyLinuxDomain(testDomainName('ev-linux')), true);
  const { console, uuid } = booted();
  const mark = console.mark();
  console.send('reboot -f');
  await console.waitReady({ from: mark });
  const reboots = await agent.waitForRecords(is(uuid, 'reboot'));
  await sleep(5500); // the whole burst, and the dedupe window, are over
  const all = agent.records(is(uuid, 'reboot'));
  t.log(`${all.length} reboot event(s) for one guest reboot, at ${all.map((r) => r.time?.slice(11)).join(', ')}`);
  t.deepEqual(all.map((r) => r.action), ['hypervisor-status', ...Array(all.length - 1).fill('deduplicated')]);
  t.is(reboots[0]!.action, 'hypervisor-status');
  // The agent sees every domain of the shared libvirtd: other tests' guests may reboot meanwhile.
  const patches = kube.requests.filter((r) => r.method === 'PATCH' && (r.body as { status?: { lastDomainReboot?: { uuid?: string } } }).status?.lastDomainReboot?.uuid === uuid);
  t.deepEqual(patches.map((p) => [p.path, p.contentType, p.status]), [[`/apis/hypervisor.c5c3.io/v1/hypervisors/${HYPERVISOR}/status`, 'application/merge-patch+json', 200]]);
  t.deepEqual((patches[0]!.body as { status: unknown }).status, { lastDomainReboot: { domain: linux!.domain.name, uuid, time: all[0]!.time } });
  const patchedLater = kube.requests.slice(kube.requests.indexOf(patches[0]!) + 1).some((r) => r.method === 'PATCH');
  const hv = kube.objects('hypervisors').find((o) => (o.metadata as { name: string }).name === HYPERVISOR)!;
  if (!patchedLater) t.like(hv.status, { lastDomainReboot: { domain: linux!.domain.name, uuid, time: all[0]!.time } });
  t.deepEqual(evictionsOf(uuid), []);
});

test.serial('watchdog: the guest closes /dev/watchdog without the magic character → watchdog reset → Eviction', async (t) => {
  t.timeout(bootingTestTimeout(1));
  const { console, uuid, domain } = booted();
  const mark = console.mark();
  console.send('echo > /dev/watchdog');
  const [watchdog] = await agent.waitForRecords(is(uuid, 'watchdog'), 1, 60_000);
  t.like(watchdog, { detail: 'reset', action: 'eviction', level: 'error' });
  const [eviction] = await waitForEvictions(uuid, 1);
  t.is(eviction!.metadata.name, watchdog!.eviction);
  t.regex(eviction!.spec.reason, new RegExp(`domain ${domain.name} .*: watchdog reset — the guest watchdog fired \\(action reset\\)`));
  await console.waitReady({ from: mark });
});

test.serial(`ENOSPC on vdb: io-error/io-error-reason records; still paused after ${PERSIST_WINDOW_S}s → one Eviction`, async (t) => {
  const { console, uuid, domain } = booted();
  const before = evictionsOf(uuid).length;
  console.send('dd if=/dev/zero of=/dev/vdb bs=1M count=4 conv=fsync');
  await waitForDomainState(domain.name, 'paused');
  const [first] = await agent.waitForRecords(is(uuid, 'io-error'));
  t.like(first, { detail: 'pause', device: 'virtio-disk1', path: domain.enospcFile, action: 'watch-io-error', level: 'warning' });
  const [reason] = await agent.waitForRecords(is(uuid, 'io-error-reason'));
  t.like(reason, { detail: 'pause/enospc', reason: 'enospc', action: 'deduplicated' });
  t.truthy(agent.records(is(uuid, 'lifecycle', 'suspended/ioerror')).length);
  const [persisted] = await agent.waitForRecords((r) => of(uuid)(r) && r.origin === 'policy', 1, (PERSIST_WINDOW_S + 10) * 1000);
  t.is(persisted!.action, 'eviction');
  t.regex(persisted!.note!, /still paused by it after 3s/);
  const evictions = await waitForEvictions(uuid, before + 1);
  const eviction = evictions.find((e) => e.metadata.name === persisted!.eviction)!;
  t.regex(eviction.spec.reason, /a disk I\/O error on virtio-disk1 .*\(enospc\) persisted: the domain is still paused by it after 3s/);
  await sleep(1000);
  t.is(evictionsOf(uuid).length, before + 1);
  await virsh(['destroy', domain.name]);
});

test.serial('guest kernel panic: Crashed Panicked then Stopped Crashed → exactly one Eviction', async (t) => {
  t.timeout(bootingTestTimeout(1));
  const { domain, uuid } = booted();
  await virsh(['start', domain.name]);
  const console = await guestConsole(domain);
  cleanups.push(() => console.close());
  await console.waitReady();
  const before = evictionsOf(uuid).length;
  await agent.waitForRecords(is(uuid, 'lifecycle', 'started/booted'), 2);
  console.send('echo c > /proc/sysrq-trigger');
  const [panicked] = await agent.waitForRecords(is(uuid, 'lifecycle', 'crashed/panicked'), 1, 60_000);
  const [stopped] = await agent.waitForRecords(is(uuid, 'lifecycle', 'stopped/crashed'), 1, 60_000);
  t.is(panicked!.action, 'eviction');
  t.is(stopped!.action, 'deduplicated');
  await sleep(500);
  const evictions = evictionsOf(uuid);
  t.is(evictions.length, before + 1);
  t.truthy(evictions.find((e) => e.metadata.name === panicked!.eviction));
});

test.serial('libvirtd killed, a guest crashed meanwhile, libvirtd restarted: reconnect, reconcile → exactly one Eviction', async (t) => {
  const vm = await start(await defineTinyDomain(testDomainName('ev-gap')), false);
  await agent.waitForRecords(is(vm.uuid, 'lifecycle', 'started/booted'));
  const qemu = qemuPid(vm.domain.name);
  const logMark = agent.log.length;
  await stopLibvirtd('SIGKILL');
  try {
    await agent.waitForLog(/msg="lost the connection to libvirtd"/, logMark);
    process.kill(qemu.pid, 'SIGKILL');
    await sleep(300);
  } finally {
    await startLibvirtd();
  }
  await agent.waitForLog(/msg="reconnected to libvirtd"/, logMark, 60_000);
  const state = await waitForDomainState(vm.domain.name, 'shut off');
  t.log(`after the restart libvirtd reports: shut off (${state.reason})`);
  const [stop] = await agent.waitForRecords((r) => of(vm.uuid)(r) && r.event === 'lifecycle' && r.detail.startsWith('stopped/'));
  t.like(stop, { origin: 'reconcile', action: 'eviction' });
  t.regex(stop!.note!, /was running \(booted\), shutoff \(.*\) after reconnect/);
  await sleep(2000); // a late live event or a second reconnect must not add a second one
  const evictions = evictionsOf(vm.uuid);
  t.is(evictions.length, 1);
  t.regex(evictions[0]!.spec.reason, /found after reconnecting to libvirtd/);
  const metrics = await agent.metrics();
  t.true(metricValue(metrics, 'libvirt_events_reconnects_total') >= 1);
  t.true(metricValue(metrics, 'libvirt_events_reconcile_corrections_total', { type: 'lifecycle' }) >= 1);
});

test.serial('metrics: events by type and detail, Evictions created, /healthz', async (t) => {
  const metrics = await agent.metrics();
  t.true(metricValue(metrics, 'libvirt_events_total', { type: 'lifecycle', detail: 'stopped/failed' }) >= 1);
  t.true(metricValue(metrics, 'libvirt_events_total', { type: 'reboot' }) >= 2);
  t.true(metricValue(metrics, 'libvirt_events_total', { type: 'watchdog', detail: 'reset' }) >= 1);
  t.true(metricValue(metrics, 'libvirt_events_total', { type: 'io-error-reason', detail: 'pause/enospc' }) >= 1);
  t.true(metricValue(metrics, 'libvirt_events_deduplicated_total', { type: 'reboot' }) >= 1);
  t.is(metricValue(metrics, 'libvirt_events_evictions_created_total', { outcome: 'created' }), kube.objects('evictions').length);
  t.is(metricValue(metrics, 'libvirt_events_evictions_failed_total'), 0);
  t.is(metricValue(metrics, 'libvirt_events_hypervisor_status_patches_total', { result: 'patched' }), kube.requests.filter((r) => r.method === 'PATCH' && r.status === 200).length);
  t.is(metricValue(metrics, 'libvirt_events_connected'), 1);
  const health = await fetch(`${agent.web}/healthz`);
  t.is(health.status, 200);
  t.deepEqual(await health.json(), { healthy: true, libvirt: 'connected' });
});
