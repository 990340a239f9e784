// The client against the real libvirtd of the test environment: transports, handshake, the plain calls.
import { randomUUID } from 'node:crypto';
import test from 'ava';
import { connect } from '../../libvirt/client.js';
import { paramsOf } from '../../libvirt/domain-stats.js';
import { ConnectionClosedError, LibvirtError } from '../../libvirt/errors.js';
import { DomainXmlFlag, ErrorCode, ListDomainsFlag } from '../../libvirt/protocol.js';
import { defineTinyDomain, testDomainName } from '../harness/env/domains.js';
import { client } from '../harness/env/libvirt-client.js';
import { URIS as uris } from '../env/layout.js';
import { virsh } from '../harness/env/testenv.js';

const version = (text: string): number => {
  const [major, minor, micro] = text.split('.').map(Number);
  return major! * 1_000_000 + minor! * 1_000 + (micro ?? 0);
};

for (const [label, uri, readOnly] of [
  ['tcp, QEMU driver', uris.qemuTcp, false],
  ['tcp, test driver', uris.testTcp, false],
  ['unix socket, QEMU driver', 'qemu:///system', false],
  ['read-only unix socket, QEMU driver', 'qemu:///system', true],
  ['unix socket, test driver', 'test+unix:///default', false],
] as const) {
  test(`connects over ${label}; versions and hostname equal virsh's`, async (t) => {
    const c = await client(t, uri, { readOnly });
    const virshVersion = await virsh(['version', '--daemon'], { uri });
    t.is(await c.getLibVersion(), version(/Running against daemon: (\S+)/.exec(virshVersion)![1]!));
    t.is(await c.getVersion(), version(/Running hypervisor: \S+ (\S+)/.exec(virshVersion)![1]!));
    t.is(await c.getHostname(), (await virsh(['hostname'], { uri })).trim());
    t.is(c.readOnly, readOnly);
  });
}

test('lists the test driver\'s domains with the names, UUIDs and ids virsh shows', async (t) => {
  const c = await client(t, uris.testTcp);
  const domains = await c.listAllDomains();
  const names = (await virsh(['list', '--all', '--name'], { uri: uris.testTcp })).split('\n').filter(Boolean);
  t.deepEqual(domains.map((d) => d.name).sort(), names.sort());
  t.true(names.includes('test'));
  for (const d of domains.filter((x) => x.name === 'test')) {
    t.is(d.uuid, (await virsh(['domuuid', d.name], { uri: uris.testTcp })).trim());
    t.is(String(d.id), (await virsh(['domid', d.name], { uri: uris.testTcp })).trim());
  }
  const [record] = await c.getAllDomainStats({ domains: domains.filter((d) => d.name === 'test') });
  t.deepEqual(paramsOf(record!), new Map([['state.state', 1], ['state.reason', 0]]));
});

test('lists, looks up and describes a QEMU domain as virsh does', async (t) => {
  const domain = await defineTinyDomain(testDomainName('connect'), { cleanup: t });
  const c = await client(t, uris.qemuTcp, { readOnly: true });
  const inactive = await c.listAllDomains(ListDomainsFlag.INACTIVE);
  const ref = inactive.find((d) => d.name === domain.name);
  t.truthy(ref, 'the defined domain is listed as inactive');
  t.is(ref!.id, -1);
  t.is(ref!.uuid, (await virsh(['domuuid', domain.name])).trim());
  t.false((await c.listAllDomains(ListDomainsFlag.ACTIVE)).some((d) => d.name === domain.name));
  t.deepEqual(await c.domainLookupByUuid(ref!.uuid.toUpperCase()), ref);
  t.deepEqual(await c.domainLookupByName(domain.name), ref);
  t.like(await c.domainGetState(ref!), { state: 5, stateName: 'shutoff', reasonName: 'unknown' });
  const info = await c.domainGetInfo(ref!);
  t.like(info, { state: 5, maxMemoryKiB: 131072n, vcpus: 1, cpuTimeNs: 0n });
  const xml = await c.domainGetXmlDesc(ref!);
  t.regex(xml, new RegExp(`<name>${domain.name}</name>`));
  t.regex(xml, new RegExp(`<uuid>${ref!.uuid}</uuid>`));
  // The same reply, made a string only when it holds the needle.
  t.is(await c.domainGetXmlDescContaining(ref!, `<name>${domain.name}</name>`), xml);
  t.is(await c.domainGetXmlDescContaining(ref!, 'http://openstack.org/xmlns/libvirt/nova/1.1'), undefined);
});

test('daemon errors arrive as LibvirtError; a read-only connection is refused secure XML', async (t) => {
  const domain = await defineTinyDomain(testDomainName('errors'), { cleanup: t });
  const ro = await client(t, uris.qemuTcp, { readOnly: true });
  const missing = await t.throwsAsync(ro.domainLookupByUuid(randomUUID()), { instanceOf: LibvirtError });
  t.is(missing?.code, ErrorCode.NO_DOMAIN);
  t.regex(missing!.message, /Domain not found/i);
  const noName = await t.throwsAsync(ro.domainLookupByName(`${domain.name}-missing`), { instanceOf: LibvirtError });
  t.is(noName?.code, ErrorCode.NO_DOMAIN);
  const ref = (await ro.listAllDomains()).find((d) => d.name === domain.name)!;
  const denied = await t.throwsAsync(ro.domainGetXmlDesc(ref, DomainXmlFlag.SECURE), { instanceOf: LibvirtError });
  t.is(denied?.code, ErrorCode.OPERATION_DENIED);
  const rw = await client(t, uris.qemuTcp);
  t.regex(await rw.domainGetXmlDesc(ref, DomainXmlFlag.SECURE), /<domain/);
  t.false(ro.isClosed, 'an error reply leaves the connection usable');
  t.is(await ro.getLibVersion(), await rw.getLibVersion());
});

test('many calls in flight on one connection each get their own reply', async (t) => {
  const c = await client(t, uris.testTcp);
  const hostname = await c.getHostname();
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? c.getHostname() : c.getLibVersion())));
  t.true(results.every((r, i) => (i % 2 ? r === hostname : typeof r === 'number' && r > 1_000_000)));
});

test('close() ends the connection cleanly; later calls fail with ConnectionClosedError', async (t) => {
  const c = await connect(uris.testTcp);
  const closes: string[] = [];
  c.on('close', (info) => closes.push(info.reason));
  await c.close();
  await c.close();
  t.deepEqual(closes, ['client']);
  await t.throwsAsync(c.getLibVersion(), { instanceOf: ConnectionClosedError });
});

test('a clear error when nothing listens', async (t) => {
  await t.throwsAsync(connect('qemu+tcp://127.0.0.1:1/system'), { message: /cannot connect to libvirt at tcp:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/ });
  await t.throwsAsync(connect('qemu+unix:///system?socket=/nonexistent/sock'), { message: /cannot connect to libvirt at \/nonexistent\/sock/ });
});
