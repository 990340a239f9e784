// Running QEMU domains' CPU and vCPU times through DOMAIN_GET_CPU_STATS and DOMAIN_GET_VCPUS (libvirt/cpu-times.ts)
// against the real libvirtd 9.0 and a running TCG domain: the calls agree with virsh, libvirt answers them for
// an inactive domain with OPERATION_INVALID (the exporter's "nothing to report"), and the exporter at its
// default flags exports the times from them while QEMU's monitor gets no query-stats at all; with
// --collector.vcpu-scheduling the vcpu group stays, for the vCPU threads' wait and delay.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { URIS } from '../env/layout.js';
import { ensurePackages } from '../env/packages.js';
import { waitFor } from '../env/proc.js';
import { connect } from '../../libvirt/client.js';
import { LibvirtError } from '../../libvirt/errors.js';
import { ErrorCode } from '../../libvirt/protocol.js';
import type { DomainRef, LibvirtClient } from '../../libvirt/types.js';
import { Metrics } from '../../exporter/catalogue.js';
import { defineTinyDomain, qemuPid, removeDomain, testDomainName, type TinyDomain } from '../harness/env/domains.js';
import { parseDomstats } from '../harness/readers/domstats-text.js';
import { select, valueOf } from '../harness/readers/exposition.js';
import { startExporter } from '../harness/roles/exporter.js';
import { virsh } from '../harness/env/testenv.js';

let running: TinyDomain;
let inactive: TinyDomain;
let client: LibvirtClient;
const refs: { running?: DomainRef; inactive?: DomainRef } = {};

test.before(async () => {
  await ensurePackages(['strace']);
  running = await defineTinyDomain(testDomainName('cpu-times'), { enospcDisk: false, vcpus: 2, memoryMiB: 64 });
  inactive = await defineTinyDomain(testDomainName('cpu-times-off'), { enospcDisk: false, nic: false, memoryMiB: 64 });
  await virsh(['start', running.name]);
  client = await connect(URIS.qemuTcp);
  refs.running = await client.domainLookupByName(running.name);
  refs.inactive = await client.domainLookupByName(inactive.name);
});

test.after.always(async () => {
  await client?.close();
  for (const domain of [running, inactive]) if (domain) await removeDomain(domain);
});

/** `virsh domstats --raw` of the running domain for `groups`, as numbers. */
async function domstats(...groups: string[]): Promise<Map<string, number>> {
  const [record] = parseDomstats(await virsh(['domstats', '--raw', ...groups, running.name]));
  return new Map([...record!.params].flatMap(([k, v]) => (typeof v === 'string' ? [] : [[k, Number(v)] as [string, number]])));
}

const between = (t: { true: (v: boolean, m?: string) => void }, what: string, low: number, value: number | undefined, high: number): void =>
  t.true(value !== undefined && low <= value && value <= high, `${what}: ${low} ≤ ${value} ≤ ${high}`);

test.serial('the two calls agree with the cpu-total and vcpu groups of virsh domstats; an inactive domain is OPERATION_INVALID', async (t) => {
  const before = await domstats('--cpu-total', '--vcpu');
  const totals = await client.domainGetCpuTotals(refs.running!);
  const vcpus = await client.domainGetVcpus(refs.running!, 256);
  const after = await domstats('--cpu-total', '--vcpu');
  for (const [field, value] of [['cpu.time', totals.cpuTimeNs], ['cpu.user', totals.userTimeNs], ['cpu.system', totals.systemTimeNs]] as const) {
    between(t, field, before.get(field)!, value, after.get(field)!);
  }
  t.deepEqual(vcpus.map((v) => v.number), [0, 1]);
  t.is(vcpus.length, after.get('vcpu.current')!);
  for (const vcpu of vcpus) {
    t.is(vcpu.state, after.get(`vcpu.${vcpu.number}.state`)!);
    between(t, `vcpu.${vcpu.number}.time`, before.get(`vcpu.${vcpu.number}.time`)!, vcpu.cpuTimeNs, after.get(`vcpu.${vcpu.number}.time`)!);
  }
  // Asked for fewer than it has, libvirt gives that many.
  t.deepEqual((await client.domainGetVcpus(refs.running!, 1)).map((v) => v.number), [0]);

  for (const call of [() => client.domainGetCpuTotals(refs.inactive!), () => client.domainGetVcpus(refs.inactive!, 256)]) {
    const error = await t.throwsAsync(call(), { instanceOf: LibvirtError });
    t.is((error as LibvirtError | undefined)?.code, ErrorCode.OPERATION_INVALID);
  }
});

/** The QMP commands QEMU's monitor of the running domain reads while `during` runs (strace of its recvmsg calls). */
async function qmpCommands(during: () => Promise<void>): Promise<string[]> {
  const out = path.join(tmpdir(), `${running.name}-qmp.trace`);
  const qemu = qemuPid(running.name).pid;
  const strace = spawn('strace', ['-f', '-qq', '-e', 'trace=recvmsg', '-s', '4096', '-o', out, '-p', String(qemu)], { stdio: 'ignore' });
  const exited = new Promise((resolve) => strace.on('exit', resolve));
  try {
    // QEMU's main thread, which reads the monitor, names its tracer once strace has attached.
    await waitFor('strace to attach to QEMU', 10_000, () => readFileSync(`/proc/${qemu}/status`, 'utf8').includes(`TracerPid:\t${strace.pid}\n`), 20);
    await during();
  } finally {
    strace.kill('SIGTERM');
    await exited;
  }
  // What the monitor received, whether QEMU reads it a byte at a time (7.2 does) or in larger pieces.
  let received = '';
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const m = /recvmsg\(\d+, \{.*?iov_base="((?:[^"\\]|\\.)*)"/.exec(line);
    if (m) received += JSON.parse(`"${m[1]!.replace(/\\x([0-9a-f]{2})/gi, '\\u00$1')}"`);
  }
  rmSync(out, { force: true });
  // Each command with its arguments, as `name` or `name {arguments}`.
  return [...received.matchAll(/\{"execute":\s*"([a-z-]+)"(?:,\s*"arguments":\s*(\{[^}]*\}))?/g)].map((m) => (m[2] ? `${m[1]} ${m[2]}` : m[1]!));
}

/** The monitor commands of one split scrape besides the balloon (2) and block (3) groups'. */
const BALLOON_AND_BLOCK = [
  'qom-get {"path":"/machine/peripheral/balloon0","property":"guest-stats"}',
  'query-balloon',
  'query-blockstats',
  'query-blockstats {"query-nodes":true}',
  'query-named-block-nodes {"flat":true}',
];

for (const { title, flags, monitor } of [
  { title: 'default flags: a running domain\'s CPU and vCPU times come from the two calls, and its QEMU gets no query-stats', flags: [], monitor: BALLOON_AND_BLOCK },
  {
    title: '--collector.vcpu-scheduling: the vcpu group stays (query-stats and its schemas) for wait and delay; the CPU times still come from the call',
    flags: ['--collector.vcpu-scheduling'],
    monitor: [...BALLOON_AND_BLOCK, 'query-stats {"target":"vcpu"}', 'query-stats-schemas'].sort(),
  },
]) {
  test.serial(title, async (t) => {
    const exporter = await startExporter(['--libvirt.uri', URIS.qemuTcp, ...flags]);
    t.teardown(() => exporter.stop());
    // The first collection is one bulk call with every group; it finds libvirtd slow per domain, so the next
    // ones are split and take the running domains' times from the calls.
    await exporter.scrape();
    await exporter.scrape();
    const uuid = refs.running!.uuid;
    // Never the cpu-total group's query-stats for KVM's halt-polling times. Other tests' tools may ask the same
    // QEMU meanwhile (the daemon is shared): a trace with more than one scrape's commands is taken again.
    let before = new Map<string, number>();
    let after = new Map<string, number>();
    let scrape = await exporter.scrape();
    let commands: string[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      before = await domstats('--cpu-total', '--vcpu');
      commands = await qmpCommands(async () => {
        scrape = await exporter.scrape();
      });
      after = await domstats('--cpu-total', '--vcpu');
      if (commands.length <= monitor.length) break;
    }
    t.deepEqual([...commands].sort(), monitor, 'the monitor commands of one scrape');
    t.is(scrape.status, 200);
    t.is(valueOf(scrape.samples, Metrics.lastScrapeSuccess.name), 1);

    const id = { uuid };
    const seconds = (ns: number): number => ns / 1e9;
    for (const [metric, field] of [[Metrics.cpuTime, 'cpu.time'], [Metrics.cpuUser, 'cpu.user'], [Metrics.cpuSystem, 'cpu.system']] as const) {
      between(t, metric.name, seconds(before.get(field)!), valueOf(scrape.samples, metric.name, id), seconds(after.get(field)!));
    }
    t.is(valueOf(scrape.samples, Metrics.infoVcpus.name, id), 2);
    for (const vcpu of ['0', '1']) {
      between(t, `vcpu ${vcpu}`, seconds(before.get(`vcpu.${vcpu}.time`)!), valueOf(scrape.samples, Metrics.vcpuTime.name, { uuid, vcpu }), seconds(after.get(`vcpu.${vcpu}.time`)!));
      for (const metric of [Metrics.vcpuWait, Metrics.vcpuDelay]) {
        t.is(select(scrape.samples, metric.name, { uuid, vcpu }).length, flags.length, `${metric.name} only with the flag`);
      }
    }
    if (flags.length > 0) between(t, 'vcpu 0 delay', seconds(before.get('vcpu.0.delay')!), valueOf(scrape.samples, Metrics.vcpuDelay.name, { uuid, vcpu: '0' }), seconds(after.get('vcpu.0.delay')!));
    // The inactive domain, asked for in a call of its own with every group, is reported as before.
    t.is(valueOf(scrape.samples, Metrics.infoVcpus.name, { uuid: refs.inactive!.uuid }), 1);
    t.deepEqual(select(scrape.samples, Metrics.state.name, { uuid: refs.inactive!.uuid }).map((x) => x.labels.state), ['shutoff']);
  });
}
