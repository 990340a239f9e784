// Running QEMU domains' CPU times through DOMAIN_GET_CPU_STATS (libvirt/cpu-times.ts) against the real libvirtd
// 9.0 and a running TCG domain: the call agrees with virsh, libvirt answers it for an inactive domain with
// OPERATION_INVALID (the exporter's "nothing to report"), and the exporter at its default flags exports the
// times from it while QEMU's monitor no longer gets the cpu-total group's query-stats.
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

test.serial('the call agrees with the cpu-total group of virsh domstats; an inactive domain is OPERATION_INVALID', async (t) => {
  const before = await domstats('--cpu-total');
  const totals = await client.domainGetCpuTotals(refs.running!);
  const after = await domstats('--cpu-total');
  for (const [field, value] of [['cpu.time', totals.cpuTimeNs], ['cpu.user', totals.userTimeNs], ['cpu.system', totals.systemTimeNs]] as const) {
    between(t, field, before.get(field)!, value, after.get(field)!);
  }
  const error = await t.throwsAsync(client.domainGetCpuTotals(refs.inactive!), { instanceOf: LibvirtError });
  t.is((error as LibvirtError | undefined)?.code, ErrorCode.OPERATION_INVALID);
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

test.serial('default flags: a running domain\'s CPU times come from the call, and its QEMU gets no halt-polling query-stats', async (t) => {
  const exporter = await startExporter(['--libvirt.uri', URIS.qemuTcp]);
  t.teardown(() => exporter.stop());
  // The first collection is one bulk call with every group; it finds libvirtd slow per domain, so the next
  // ones are split and take the running domains' CPU times from the call.
  await exporter.scrape();
  await exporter.scrape();
  const uuid = refs.running!.uuid;
  // The monitor commands of one scrape: balloon (2), vcpu (2), block (3), and not the cpu-total group's
  // query-stats for KVM's halt-polling times. Other tests' tools may ask the same QEMU meanwhile (the daemon is
  // shared): a trace with more than one scrape's commands is taken again.
  const ONE_SCRAPE = [
    'qom-get {"path":"/machine/peripheral/balloon0","property":"guest-stats"}',
    'query-balloon',
    'query-blockstats',
    'query-blockstats {"query-nodes":true}',
    'query-named-block-nodes {"flat":true}',
    'query-stats {"target":"vcpu"}',
    'query-stats-schemas',
  ];
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
    if (commands.length <= ONE_SCRAPE.length) break;
  }
  t.deepEqual([...commands].sort(), ONE_SCRAPE, 'the monitor got no halt-polling query-stats');
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
  }
  // The inactive domain, asked for in a call of its own with every group, is reported as before.
  t.is(valueOf(scrape.samples, Metrics.infoVcpus.name, { uuid: refs.inactive!.uuid }), 1);
  t.deepEqual(select(scrape.samples, Metrics.state.name, { uuid: refs.inactive!.uuid }).map((x) => x.labels.state), ['shutoff']);
});
