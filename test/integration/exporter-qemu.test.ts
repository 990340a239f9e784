// The exporter against the real libvirtd and a running TCG guest (tiny Linux, virtio disk, ethernet NIC,
// balloon stats): every metric of the design document's table, with the right labels and values that agree
// with `virsh domstats`; counters that grow; Nova metadata; output that promtool accepts.
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { URIS } from '../env/layout.js';
import { ensurePackages } from '../env/packages.js';
import { ALL_METRICS, Metrics, type MetricDef } from '../../exporter/catalogue.js';
import { bootingTestTimeout, guestConsole, type GuestConsole } from '../harness/env/console.js';
import { defineTinyLinuxDomain, removeDomain, testDomainName, type TinyDomain } from '../harness/env/domains.js';
import { parseDomstats } from '../harness/readers/domstats-text.js';
import type { PlainStatsRecord } from '../harness/fakes/stats-records.js';
import { startExporter, PROMETHEUS_ACCEPT, type RunningExporter } from '../harness/roles/exporter.js';
import { select, valueOf, type Sample } from '../harness/readers/exposition.js';
import { virsh } from '../harness/env/testenv.js';

const NOVA = 'http://openstack.org/xmlns/libvirt/nova/1.1';

let domain: TinyDomain;
let uuid: string;
let guest: GuestConsole;
let exporter: RunningExporter;

test.before(async (t) => {
  t.timeout(bootingTestTimeout(1));
  await ensurePackages(['prometheus']);
  domain = await defineTinyLinuxDomain(testDomainName('exporter-qemu'), { enospcDisk: false });
  uuid = (await virsh(['domuuid', domain.name])).trim();
  // As Nova writes it: <nova:instance> in the Nova namespace under <metadata>.
  const instance =
    '<instance><name>web-1</name><flavor name="m1.tiny"><memory>128</memory></flavor>' +
    '<owner><user uuid="6f1c0a">alice</user><project uuid="9b2e4d">demo</project></owner></instance>';
  await virsh(['metadata', domain.name, NOVA, '--key', 'nova', '--set', instance, '--config']);
  await virsh(['start', domain.name]);
  guest = await guestConsole(domain);
  await guest.waitReady();
  exporter = await startExporter(['--libvirt.uri', URIS.qemuTcp]);
});

test.after.always(async () => {
  await exporter?.stop();
  await guest?.close();
  if (domain) await removeDomain(domain);
});

type Stats = PlainStatsRecord['params'];

async function domstats(): Promise<Stats> {
  const [record] = parseDomstats(await virsh(['domstats', '--raw', domain.name]));
  if (!record) throw new Error(`virsh domstats ${domain.name} printed no record`);
  return record.params;
}

const num = (stats: Stats, key: string): number => {
  const v = stats.get(key);
  if (typeof v !== 'number' && typeof v !== 'bigint') throw new Error(`virsh domstats has no ${key}`);
  return Number(v);
};

/** The group index whose `.name` is `name` (`block.<n>.name=vda`, `net.<n>.name=vnet3`). */
function indexOf(stats: Stats, group: 'block' | 'net', name: string): number {
  for (const [key, value] of stats) {
    const m = new RegExp(`^${group}\\.(\\d+)\\.name$`).exec(key);
    if (m && value === name) return Number(m[1]);
  }
  throw new Error(`no ${group} named ${name}`);
}

function hostInterface(stats: Stats): string {
  for (const [key, value] of stats) if (/^net\.\d+\.name$/.test(key)) return String(value);
  throw new Error('the domain reports no interface');
}

/** The design document's counters, each with the libvirt field it must equal and libvirt's unit. */
function tableCounters(stats: Stats): [MetricDef, Record<string, string>, string, 'ns' | ''][] {
  const blk = indexOf(stats, 'block', 'vda');
  const iface = hostInterface(stats);
  const nic = indexOf(stats, 'net', iface);
  return [
    [Metrics.vcpuTime, { vcpu: '0' }, 'vcpu.0.time', 'ns'],
    [Metrics.blockReadBytes, { device: 'vda' }, `block.${blk}.rd.bytes`, ''],
    [Metrics.blockWriteBytes, { device: 'vda' }, `block.${blk}.wr.bytes`, ''],
    [Metrics.blockReadRequests, { device: 'vda' }, `block.${blk}.rd.reqs`, ''],
    [Metrics.blockWriteRequests, { device: 'vda' }, `block.${blk}.wr.reqs`, ''],
    [Metrics.netReceiveBytes, { interface: iface }, `net.${nic}.rx.bytes`, ''],
    [Metrics.netTransmitBytes, { interface: iface }, `net.${nic}.tx.bytes`, ''],
    [Metrics.netReceivePackets, { interface: iface }, `net.${nic}.rx.pkts`, ''],
    [Metrics.netTransmitPackets, { interface: iface }, `net.${nic}.tx.pkts`, ''],
    [Metrics.netReceiveErrors, { interface: iface }, `net.${nic}.rx.errs`, ''],
    [Metrics.netTransmitDrops, { interface: iface }, `net.${nic}.tx.drop`, ''],
  ];
}

const mine = (samples: Sample[]) => samples.filter((s) => s.labels.uuid === uuid);

test.serial('every metric of the table, labelled domain/uuid(/vcpu/device/interface), agreeing with virsh domstats', async (t) => {
  // Wait for the guest's first balloon report (stats period 1 s): memory usage needs it.
  let scrape = await exporter.scrape();
  for (let i = 0; i < 50 && select(scrape.samples, Metrics.memoryUsage.name, { uuid }).length === 0; i++) {
    await new Promise((r) => setTimeout(r, 200));
    scrape = await exporter.scrape();
  }
  // Counters only grow: virsh before ≤ exporter ≤ virsh after.
  const before = await domstats();
  scrape = await exporter.scrape();
  const after = await domstats();
  t.is(scrape.status, 200);
  const s = scrape.samples;

  t.is(valueOf(s, 'libvirt_up'), 1);
  for (const def of ALL_METRICS.filter((d) => d.core && d.labels.length > 0)) {
    const series = mine(select(s, def.name));
    t.true(series.length > 0, `${def.name} is missing`);
    for (const sample of series) {
      t.deepEqual(Object.keys(sample.labels).sort(), [...def.labels].sort(), def.name);
      t.is(sample.labels.domain, domain.name);
    }
  }
  const id = { domain: domain.name, uuid };
  t.is(valueOf(s, Metrics.infoVcpus.name, id), num(after, 'vcpu.current'));
  t.is(valueOf(s, Metrics.infoMemory.name, id), num(after, 'balloon.maximum') * 1024);
  for (const [def, labels, field, unit] of tableCounters(after)) {
    const exported = valueOf(s, def.name, { ...id, ...labels });
    const scale = unit === 'ns' ? 1e-9 : 1;
    t.true(num(before, field) * scale <= exported + 1e-9 && exported <= num(after, field) * scale + 1e-9, `${def.name}: ${num(before, field)} ≤ ${exported} ≤ ${num(after, field)}`);
  }
  // Memory usage = balloon.available − balloon.usable of the same collection, within the guest's memory.
  const usage = valueOf(s, Metrics.memoryUsage.name, id);
  t.is(usage, valueOf(s, Metrics.balloonAvailable.name, id) - valueOf(s, Metrics.balloonUsable.name, id));
  t.true(usage > 0 && usage <= valueOf(s, Metrics.infoMemory.name, id), `usage ${usage}`);
  t.is(valueOf(s, Metrics.balloonAvailable.name, id), num(after, 'balloon.available') * 1024);
  t.deepEqual(select(s, 'libvirt_domain_state', id).map((x) => [x.labels.state, x.labels.reason]), [['running', 'booted']]);
});

test.serial('counters grow between scrapes while the guest works', async (t) => {
  const iface = hostInterface(await domstats());
  const id = { domain: domain.name, uuid };
  const first = (await exporter.scrape()).samples;
  // Disk reads past the page cache.
  const disk = await guest.run('echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda of=/dev/null bs=64k count=64 2>&1');
  t.is(disk.status, 0, disk.output);
  // Packets out of eth0 to the link-local all-nodes group (they never leave the host's tap), once the link has
  // its IPv6 link-local address (a few seconds after boot: carrier, then duplicate address detection).
  const net = await guest.run(
    "for i in $(seq 40); do ip -6 addr show dev eth0 | grep 'scope link' | grep -vq tentative && break; sleep 0.25; done; ping -c 3 -W 1 ff02::1%eth0",
    { timeoutMs: 30_000 },
  );
  t.is(net.status, 0, net.output);
  const second = (await exporter.scrape()).samples;
  const grew = (name: string, labels: Record<string, string> = {}) =>
    t.true(valueOf(second, name, { ...id, ...labels }) > valueOf(first, name, { ...id, ...labels }), name);
  grew(Metrics.cpuTime.name);
  grew(Metrics.vcpuTime.name, { vcpu: '0' });
  grew(Metrics.blockReadBytes.name, { device: 'vda' });
  grew(Metrics.blockReadRequests.name, { device: 'vda' });
  grew(Metrics.netTransmitPackets.name, { interface: iface });
  grew(Metrics.netTransmitBytes.name, { interface: iface });
});

test.serial('Nova metadata: one info series for the instance', async (t) => {
  const s = (await exporter.scrape()).samples;
  t.deepEqual(select(s, Metrics.openstackInfo.name, { uuid }).map((x) => x.labels), [
    { domain: domain.name, uuid, instance_name: 'web-1', flavor: 'm1.tiny', project_id: '9b2e4d', project_name: 'demo', user_id: '6f1c0a', user_name: 'alice' },
  ]);
});

test.serial('promtool check metrics accepts the text format; OpenMetrics is served on request', async (t) => {
  const text = await exporter.scrape();
  t.is(text.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  const check = spawnSync('promtool', ['check', 'metrics'], { input: text.text, encoding: 'utf8' });
  t.is(check.status, 0, check.stdout + check.stderr);
  t.is(check.stdout + check.stderr, '');

  const om = await exporter.scrape({ accept: PROMETHEUS_ACCEPT });
  t.is(om.contentType, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
  t.true(om.text.endsWith('# EOF\n'));
  t.regex(om.text, /^# TYPE libvirt_domain_vcpu_time_seconds counter$/m);
  t.true(mine(select(om.samples, Metrics.vcpuTime.name)).length > 0);
});

test.serial('landing page, health check, unknown paths and methods', async (t) => {
  const landing = await exporter.scrape({ path: '/' });
  t.is(landing.status, 200);
  t.regex(landing.text, /<a href="\/metrics">/);
  const health = await exporter.scrape({ path: '/healthz' });
  t.is(health.status, 200);
  t.is((await exporter.scrape({ path: '/nope' })).status, 404);
  const post = await fetch(`${exporter.url}/metrics`, { method: 'POST', body: 'x' });
  t.is(post.status, 405);
  t.is(post.headers.get('allow'), 'GET, HEAD');
});
