// GET_ALL_DOMAIN_STATS of a real running TCG domain (virtio disk, ethernet NIC), checked against virsh.
import test from 'ava';
import { paramsOf } from '../../libvirt/domain-stats.js';
import { StatsFlag, StatsGroup, TypedParamType } from '../../libvirt/protocol.js';
import type { DomainStatsRecord, StatsParamValue } from '../../libvirt/types.js';
import { type Teardown, type TinyDomain, defineTinyDomain, testDomainName, waitForDomainState } from '../harness/env/domains.js';
import { client, parseDomstatsRaw, virshText } from '../harness/env/libvirt-client.js';
import { URIS as uris } from '../env/layout.js';
import { virsh } from '../harness/env/testenv.js';


/** libvirt's wire types of the fields: 32-bit (INT or UINT), 64-bit (ULLONG, decoded to the nearest double), STRING. */
const FIELD_TYPES: Record<string, 'int' | 'ullong' | 'string'> = {
  'state.state': 'int', 'state.reason': 'int',
  'cpu.time': 'ullong', 'cpu.user': 'ullong', 'cpu.system': 'ullong',
  'balloon.current': 'ullong', 'balloon.maximum': 'ullong', 'balloon.rss': 'ullong',
  'vcpu.current': 'int', 'vcpu.maximum': 'int', 'vcpu.0.state': 'int', 'vcpu.0.time': 'ullong', 'vcpu.0.wait': 'ullong',
  'net.count': 'int', 'net.0.name': 'string',
  'net.0.rx.bytes': 'ullong', 'net.0.rx.pkts': 'ullong', 'net.0.rx.errs': 'ullong', 'net.0.rx.drop': 'ullong',
  'net.0.tx.bytes': 'ullong', 'net.0.tx.pkts': 'ullong', 'net.0.tx.errs': 'ullong', 'net.0.tx.drop': 'ullong',
  'block.count': 'int', 'block.0.name': 'string', 'block.0.path': 'string',
  'block.0.rd.reqs': 'ullong', 'block.0.rd.bytes': 'ullong', 'block.0.rd.times': 'ullong',
  'block.0.wr.reqs': 'ullong', 'block.0.wr.bytes': 'ullong', 'block.0.wr.times': 'ullong',
  'block.0.fl.reqs': 'ullong', 'block.0.fl.times': 'ullong',
  'block.0.allocation': 'ullong', 'block.0.capacity': 'ullong', 'block.0.physical': 'ullong',
};

const WIRE_TYPES: Record<string, readonly number[]> = { int: [TypedParamType.INT, TypedParamType.UINT], ullong: [TypedParamType.ULLONG], string: [TypedParamType.STRING] };

/** Each field's wire type as decoded (a record of libvirtd has no duplicate names). */
function wireTypes(record: DomainStatsRecord): Map<string, number> {
  return new Map([...paramsOf(record).keys()].map((name, i) => [name, record.columns.types[record.first + i]!]));
}

async function runningDomain(t: Teardown, label: string): Promise<TinyDomain> {
  const domain = await defineTinyDomain(testDomainName(label), { cleanup: t, enospcDisk: false });
  await virsh(['start', domain.name]);
  await waitForDomainState(domain.name, 'running');
  return domain;
}

test('a running TCG domain reports the state, cpu, balloon, vcpu, net and block groups with libvirt\'s names and types', async (t) => {
  const domain = await runningDomain(t, 'stats');
  const c = await client(t, uris.qemuTcp, { readOnly: true });
  const ref = (await c.listAllDomains(StatsFlag.ACTIVE)).find((d) => d.name === domain.name)!;
  const [record] = await c.getAllDomainStats({ domains: [ref] });
  t.deepEqual(record!.domain, ref);
  const params = paramsOf(record!);
  const types = wireTypes(record!);
  for (const [field, type] of Object.entries(FIELD_TYPES)) {
    t.true(WIRE_TYPES[type]!.includes(types.get(field)!), `${field}: ${String(types.get(field))}`);
  }
  t.is(params.get('state.state'), 1);
  t.is(params.get('state.reason'), 1, 'running, booted');
  t.is(params.get('balloon.maximum'), 131072);
  t.is(params.get('net.count'), 1);
  t.regex(params.get('net.0.name') as string, /^vnet\d+$/);
  t.is(params.get('block.count'), 1);
  t.is(params.get('block.0.name'), 'vda');
  t.is(params.get('block.0.path'), domain.disk);
  t.is(params.get('block.0.capacity'), 16 * 1024 * 1024);
  t.true((params.get('cpu.time') as number) > 0);

  // Group bits select groups; the filter flags select domains.
  const [only] = await c.getAllDomainStats({ domains: [ref], stats: StatsGroup.INTERFACE | StatsGroup.STATE });
  t.deepEqual(new Set([...paramsOf(only!).keys()].map((k) => k.split('.')[0])), new Set(['state', 'net']));
  const active = await c.getAllDomainStats({ stats: StatsGroup.STATE, flags: StatsFlag.ACTIVE | StatsFlag.RUNNING });
  t.true(active.some((r) => r.domain.uuid === ref.uuid));
  const inactive = await c.getAllDomainStats({ stats: StatsGroup.STATE, flags: StatsFlag.INACTIVE });
  t.false(inactive.some((r) => r.domain.uuid === ref.uuid));
});

/** Decoded value equals virsh's text for the field (as libvirt's own client prints the same wire value). */
function sameAsVirsh(ours: StatsParamValue | undefined, virshValue: string | undefined): boolean {
  return ours !== undefined && virshValue !== undefined && virshText(ours) === virshValue;
}

/** For a counter that may move between two of our reads, virsh's read in between must lie between them. */
function between(before: StatsParamValue, virshValue: string, after: StatsParamValue): boolean {
  if (typeof before !== 'number' || typeof after !== 'number') return false;
  const v = Number(virshValue);
  return (before <= v && v <= after) || (after <= v && v <= before);
}

test('for a paused domain every decoded field equals `virsh domstats --raw`', async (t) => {
  const domain = await runningDomain(t, 'paused-stats');
  await virsh(['suspend', domain.name]);
  await waitForDomainState(domain.name, 'paused');
  const c = await client(t, uris.qemuTcp, { readOnly: true });
  const ref = (await c.listAllDomains()).find((d) => d.name === domain.name)!;

  const read = async (): Promise<Map<string, StatsParamValue>> => paramsOf((await c.getAllDomainStats({ domains: [ref] }))[0]!);
  const before = await read();
  const fromVirsh = parseDomstatsRaw(await virsh(['domstats', '--raw', domain.name])).get(domain.name)!;
  const after = await read();

  t.deepEqual([...before.keys()].sort(), [...fromVirsh.keys()].sort(), 'the same fields');
  t.true(before.size > 40, `${before.size} fields`);
  t.is(before.get('state.state'), 3);
  t.is(before.get('state.reason'), 1, 'paused by the user');
  const moving: string[] = [];
  for (const [field, ours] of before) {
    const theirs = fromVirsh.get(field);
    if (sameAsVirsh(ours, theirs)) continue;
    // Only the QEMU process's own accounting can move while the guest is paused (its main loop still runs).
    t.true(between(ours, theirs!, after.get(field)!), `${field}: ours ${String(ours)} → ${String(after.get(field))}, virsh ${theirs}`);
    moving.push(field);
  }
  t.log(`fields that moved while paused: ${moving.join(', ') || 'none'}`);
  t.true(moving.every((f) => /^(cpu\.(time|user|system)|balloon\.rss)$/.test(f)), `only host-side counters move: ${moving.join(', ')}`);
});

test('NOWAIT without a competing job returns the monitor groups as well', async (t) => {
  const domain = await runningDomain(t, 'nowait');
  const c = await client(t, uris.qemuTcp, { readOnly: true });
  const ref = (await c.listAllDomains()).find((d) => d.name === domain.name)!;
  const [record] = await c.getAllDomainStats({ domains: [ref], stats: StatsGroup.STATE | StatsGroup.BLOCK, flags: StatsFlag.NOWAIT });
  const params = paramsOf(record!);
  t.is(params.get('state.state'), 1);
  t.is(params.get('block.0.name'), 'vda');
  t.is(wireTypes(record!).get('block.0.rd.reqs'), TypedParamType.ULLONG);
});
