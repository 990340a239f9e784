import test from 'ava';
import { ALL_METRICS, Metrics } from '../../exporter/catalogue.js';
import { renderSnapshot } from '../../exporter/collectors/index.js';
import { viewOf, type DomainLabels } from '../../exporter/domain-view.js';
import { OPENMETRICS_TEXT, PROMETHEUS_TEXT } from '../../exporter/exposition.js';
import type { NovaInstance } from '../../libvirt/nova-metadata.js';
import type { Snapshot } from '../../exporter/snapshot.js';
import type { DomainStatsRecord } from '../../libvirt/types.js';
import { paramsOf } from '../../libvirt/domain-stats.js';
import { sampleRecords, uuidFor } from '../harness/readers/domstats-text.js';
import { decodedStats } from '../harness/fakes/stats-records.js';
import { parseExposition, select, valueOf, type Sample } from '../harness/readers/exposition.js';
import { snapshotOf } from '../harness/inputs/exporter-snapshot.js';

async function scrape(records: DomainStatsRecord[], extra: Partial<Snapshot> = {}): Promise<Sample[]> {
  return parseExposition(await renderSnapshot(snapshotOf(records, extra), PROMETHEUS_TEXT));
}

/** The record's cpu.time as decoded, before any collector looks at it. */
function decodedCpuTime(record: DomainStatsRecord): number | undefined {
  return paramsOf(record).get('cpu.time') as number | undefined;
}

const tinylinux = { domain: 'tinylinux', uuid: uuidFor('tinylinux') };

test('a Linux guest with two disks and a NIC: every metric of the table, base units, right labels', async (t) => {
  const s = await scrape(sampleRecords('domstats-tinylinux.txt'));
  for (const def of ALL_METRICS.filter((d) => d.core)) t.true(select(s, def.name).length > 0, def.name);
  t.is(valueOf(s, 'libvirt_up'), 1);
  t.is(valueOf(s, 'libvirt_domain_info_vcpus', tinylinux), 1);
  t.is(valueOf(s, 'libvirt_domain_info_memory_bytes', tinylinux), 131072 * 1024);
  t.is(valueOf(s, 'libvirt_domain_vcpu_time_seconds_total', { ...tinylinux, vcpu: '0' }), 6.94);
  // balloon.available − balloon.usable, KiB → bytes
  t.is(valueOf(s, 'libvirt_domain_memory_usage_bytes', tinylinux), (81900 - 57320) * 1024);
  t.is(valueOf(s, 'libvirt_domain_block_read_bytes_total', { ...tinylinux, device: 'vda' }), 12800);
  t.is(valueOf(s, 'libvirt_domain_block_read_bytes_total', { ...tinylinux, device: 'vdb' }), 12288);
  t.is(valueOf(s, 'libvirt_domain_block_read_requests_total', { ...tinylinux, device: 'vdb' }), 3);
  t.is(valueOf(s, 'libvirt_domain_block_write_requests_total', { ...tinylinux, device: 'vda' }), 0);
  t.is(valueOf(s, 'libvirt_domain_net_receive_bytes_total', { ...tinylinux, interface: 'vnet2' }), 656);
  t.is(valueOf(s, 'libvirt_domain_net_transmit_bytes_total', { ...tinylinux, interface: 'vnet2' }), 516);
  t.is(valueOf(s, 'libvirt_domain_net_receive_packets_total', { ...tinylinux, interface: 'vnet2' }), 8);
  t.is(valueOf(s, 'libvirt_domain_net_transmit_packets_total', { ...tinylinux, interface: 'vnet2' }), 6);
  // Every sample of a per-domain metric carries exactly the catalogue's labels.
  for (const def of ALL_METRICS) {
    for (const sample of select(s, def.name)) t.deepEqual(Object.keys(sample.labels).sort(), [...def.labels].sort(), def.name);
  }
});

test('extra metrics: state, CPU, vCPU wait/delay, block latency, balloon fields', async (t) => {
  const s = await scrape(sampleRecords('domstats-tinylinux.txt'));
  t.is(valueOf(s, 'libvirt_domains'), 1);
  t.is(valueOf(s, 'libvirt_domain_state', { ...tinylinux, state: 'running', reason: 'booted' }), 1);
  t.is(valueOf(s, 'libvirt_domain_cpu_time_seconds_total', tinylinux), 8.001925);
  t.is(valueOf(s, 'libvirt_domain_cpu_user_seconds_total', tinylinux), 7.117767);
  t.is(valueOf(s, 'libvirt_domain_cpu_system_seconds_total', tinylinux), 0.884169);
  t.is(valueOf(s, 'libvirt_domain_vcpu_wait_seconds_total', { ...tinylinux, vcpu: '0' }), 0);
  t.is(valueOf(s, 'libvirt_domain_vcpu_delay_seconds_total', { ...tinylinux, vcpu: '0' }), 0.049835243);
  t.is(valueOf(s, 'libvirt_domain_block_read_time_seconds_total', { ...tinylinux, device: 'vda' }), 0.00094336);
  t.is(valueOf(s, 'libvirt_domain_block_flush_requests_total', { ...tinylinux, device: 'vdb' }), 0);
  t.is(valueOf(s, 'libvirt_domain_block_flush_time_seconds_total', { ...tinylinux, device: 'vdb' }), 0);
  t.is(valueOf(s, 'libvirt_domain_net_receive_drops_total', { ...tinylinux, interface: 'vnet2' }), 0);
  t.is(valueOf(s, 'libvirt_domain_net_transmit_errors_total', { ...tinylinux, interface: 'vnet2' }), 0);
  t.is(valueOf(s, 'libvirt_domain_balloon_rss_bytes', tinylinux), 215612 * 1024);
  t.is(valueOf(s, 'libvirt_domain_balloon_current_bytes', tinylinux), 131072 * 1024);
  t.is(valueOf(s, 'libvirt_domain_balloon_unused_bytes', tinylinux), 51540 * 1024);
  t.is(valueOf(s, 'libvirt_domain_balloon_disk_caches_bytes', tinylinux), 2864 * 1024);
  t.is(valueOf(s, 'libvirt_domain_balloon_minor_faults_total', tinylinux), 1607);
  t.is(valueOf(s, 'libvirt_domain_balloon_last_update_timestamp_seconds', tinylinux), 1795964198);
  t.is(valueOf(s, 'libvirt_exporter_last_scrape_success'), 1);
  t.is(valueOf(s, 'libvirt_exporter_scrape_duration_seconds'), 0.012);
  // Unmapped groups (dirtyrate, cpu.haltpoll, block capacity) produce nothing.
  t.false(s.some((x) => /dirtyrate|haltpoll|capacity/.test(x.name)));
});

test('vCPU wait and delay are left out without --collector.vcpu-scheduling, even where libvirt gave them; the vCPU times stay', async (t) => {
  const s = await scrape(sampleRecords('domstats-tinylinux.txt'), { vcpuScheduling: false });
  t.is(select(s, 'libvirt_domain_vcpu_wait_seconds_total').length, 0);
  t.is(select(s, 'libvirt_domain_vcpu_delay_seconds_total').length, 0);
  t.true(select(s, 'libvirt_domain_vcpu_time_seconds_total', { ...tinylinux, vcpu: '0' }).length === 1);
  t.is(valueOf(s, 'libvirt_domain_info_vcpus', tinylinux), 1);
});

test('a guest without balloon driver and with a gap in net indices (net.count=2, only net.1)', async (t) => {
  const s = await scrape(sampleRecords('domstats-tiny-noos.txt'));
  const tiny = { domain: 'tiny', uuid: uuidFor('tiny') };
  t.deepEqual(select(s, 'libvirt_domain_net_receive_bytes_total').map((x) => x.labels), [{ ...tiny, interface: 'vnet0' }]);
  t.is(valueOf(s, 'libvirt_domain_net_receive_bytes_total', tiny), 90);
  t.deepEqual(select(s, 'libvirt_domain_vcpu_time_seconds_total').map((x) => [x.labels.vcpu, x.value]), [['0', 0.24], ['1', 0]]);
  t.is(valueOf(s, 'libvirt_domain_info_vcpus', tiny), 2);
  // No guest stats: usage is not made up, and last-update=0 means "never".
  t.is(select(s, 'libvirt_domain_memory_usage_bytes').length, 0);
  t.is(select(s, 'libvirt_domain_balloon_last_update_timestamp_seconds').length, 0);
  t.is(valueOf(s, 'libvirt_domain_balloon_rss_bytes', tiny), 48672 * 1024);
});

test('a shut-off domain has no CPU times, though libvirt 9.0 reports libvirtd\'s own for it; its state and memory stay', async (t) => {
  // Captured from libvirtd 9.0: cpu.time is libvirtd's CPU time, the same for every shut-off domain.
  const records = sampleRecords('domstats-shutoff.txt');
  t.truthy(decodedCpuTime(records[0]!));
  const s = await scrape(records);
  const shutoff = { domain: 'shutoff', uuid: uuidFor('shutoff') };
  for (const name of ['libvirt_domain_cpu_time_seconds_total', 'libvirt_domain_cpu_user_seconds_total', 'libvirt_domain_cpu_system_seconds_total']) {
    t.is(select(s, name).length, 0, name);
  }
  t.deepEqual(select(s, 'libvirt_domain_state').map((x) => x.labels.state), ['shutoff']);
  t.is(valueOf(s, 'libvirt_domain_info_memory_bytes', shutoff), 65536 * 1024);
  // A running domain's CPU times are still exported next to it.
  const both = await scrape([...records, ...sampleRecords('domstats-tiny-noos.txt')]);
  t.is(valueOf(both, 'libvirt_domain_cpu_time_seconds_total', { domain: 'tiny', uuid: uuidFor('tiny') }), 0.995829);
});

test('a guest paused by an I/O error shows state paused, reason ioerror', async (t) => {
  const s = await scrape(sampleRecords('domstats-tinylinux-ioerror-paused.txt'));
  t.deepEqual(select(s, 'libvirt_domain_state').map((x) => [x.labels.state, x.labels.reason]), [['paused', 'ioerror']]);
});

test('test-driver domains report only the state group: state series, nothing invented', async (t) => {
  const records = sampleRecords('domstats-testdriver-head.txt');
  const s = await scrape(records);
  t.is(valueOf(s, 'libvirt_domains'), records.length);
  t.is(select(s, 'libvirt_domain_state').length, records.length);
  const perDomain = new Set(s.filter((x) => x.labels.uuid !== undefined).map((x) => x.name));
  t.deepEqual([...perDomain], ['libvirt_domain_state']);
});

test('state and reason numbers newer than our tables are named unknown', async (t) => {
  const params = new Map<string, number>([['state.state', 42], ['state.reason', 7]]);
  const s = await scrape(decodedStats([{ domain: { name: 'x', uuid: uuidFor('x'), id: 1 }, params }]));
  t.deepEqual(select(s, 'libvirt_domain_state')[0]!.labels, { domain: 'x', uuid: uuidFor('x'), state: 'unknown', reason: 'unknown' });
});

test('libvirtd down: libvirt_up 0, no domain count, last scrape failed', async (t) => {
  const s = await scrape([], { up: false, domainCount: undefined, complete: false, collectionErrors: 3 });
  t.is(valueOf(s, 'libvirt_up'), 0);
  t.is(select(s, 'libvirt_domains').length, 0);
  t.is(valueOf(s, 'libvirt_exporter_last_scrape_success'), 0);
  t.is(valueOf(s, 'libvirt_exporter_collection_errors_total'), 3);
});

test('a domain whose stats are missing is marked; the others are not', async (t) => {
  const records = sampleRecords('domstats-tinylinux.txt');
  const stuck = { domain: 'stuck', uuid: uuidFor('stuck') };
  const s = await scrape(records, { domainCount: records.length + 1, statsMissing: [stuck], complete: false });
  t.deepEqual(select(s, 'libvirt_exporter_domain_stats_missing').map((x) => [x.labels, x.value]), [[stuck, 1]]);
});

test('Nova metadata is one info series per instance, not labels on every series', async (t) => {
  const nova: NovaInstance = { instanceName: 'web-1', flavor: 'm1.small', projectId: 'p1', projectName: 'demo', userId: 'u1', userName: 'alice' };
  const records = sampleRecords('domstats-tinylinux.txt');
  const s = await scrape(records, { openstack: new Map([[tinylinux.uuid, nova]]) });
  t.deepEqual(select(s, 'libvirt_domain_openstack_info').map((x) => x.labels), [
    { ...tinylinux, instance_name: 'web-1', flavor: 'm1.small', project_id: 'p1', project_name: 'demo', user_id: 'u1', user_name: 'alice' },
  ]);
  t.false(s.some((x) => x.name !== 'libvirt_domain_openstack_info' && 'instance_name' in x.labels));
});

test('per-domain error and timeout counters', async (t) => {
  const failures = new Map([[tinylinux.uuid, { ...tinylinux, errors: 2, timeouts: 3 }]]);
  const s = await scrape(sampleRecords('domstats-tinylinux.txt'), { failures, complete: false });
  t.is(valueOf(s, 'libvirt_exporter_domain_errors_total', tinylinux), 2);
  t.is(valueOf(s, 'libvirt_exporter_domain_timeouts_total', tinylinux), 3);
  t.is(valueOf(s, 'libvirt_exporter_last_scrape_success'), 0);
});

test('OpenMetrics: counters as families without _total, samples with it, # EOF; text format unchanged afterwards', async (t) => {
  const snapshot = snapshotOf(sampleRecords('domstats-tinylinux.txt'));
  const om = await renderSnapshot(snapshot, OPENMETRICS_TEXT);
  t.regex(om, /^# TYPE libvirt_domain_cpu_time_seconds counter$/m);
  t.regex(om, /^libvirt_domain_cpu_time_seconds_total\{domain="tinylinux",uuid="[^"]+"\} 8\.001925$/m);
  t.true(om.endsWith('# EOF\n'));
  const text = await renderSnapshot(snapshot, PROMETHEUS_TEXT);
  t.regex(text, /^# TYPE libvirt_domain_cpu_time_seconds_total counter$/m);
  t.false(text.includes('# EOF'));
});

test('every catalogue metric has a unique name and a HELP text', (t) => {
  const names = ALL_METRICS.map((d) => d.name);
  t.is(new Set(names).size, names.length);
  for (const d of ALL_METRICS) t.true(d.help.length > 10, d.name);
  t.is(Metrics.up.labels.length, 0);
});

test('label sets are kept per domain from scrape to scrape, yet every scrape shows its own values', async (t) => {
  // The collection hands the same labels object to every scrape of a domain; the exposition caches each
  // series' label text by it. A state change, a renamed disk or a relabelled domain must still show.
  const ref = { name: 'kept', uuid: uuidFor('kept'), id: 3 };
  const labels: DomainLabels = Object.freeze({ domain: 'kept', uuid: uuidFor('kept') });
  const render = async (params: Map<string, number | string>, domainLabels = labels) =>
    parseExposition(await renderSnapshot({ ...snapshotOf([]), domainCount: 1, domains: [viewOf(decodedStats([{ domain: ref, params }])[0]!, domainLabels)] }, PROMETHEUS_TEXT));
  const running = new Map<string, number | string>([['state.state', 1], ['state.reason', 1], ['block.count', 1], ['block.0.name', 'vda'], ['block.0.rd.bytes', 512]]);
  const paused = new Map<string, number | string>([['state.state', 3], ['state.reason', 5], ['block.count', 1], ['block.0.name', 'vdb'], ['block.0.rd.bytes', 1024]]);
  for (const [params, state, device, bytes] of [[running, 'running', 'vda', 512], [paused, 'paused', 'vdb', 1024], [running, 'running', 'vda', 512]] as const) {
    const s = await render(params);
    t.deepEqual(select(s, 'libvirt_domain_state').map((x) => x.labels), [{ domain: 'kept', uuid: uuidFor('kept'), state, reason: state === 'paused' ? 'ioerror' : 'booted' }]);
    t.deepEqual(select(s, 'libvirt_domain_block_read_bytes_total').map((x) => [x.labels.device, x.value]), [[device, bytes]]);
  }
  const renamed = await render(running, Object.freeze({ domain: 'renamed', uuid: uuidFor('kept') }));
  t.deepEqual(select(renamed, 'libvirt_domain_state').map((x) => x.labels.domain), ['renamed']);
});
