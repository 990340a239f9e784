// libvirtd records that name a domain: the domain (and the uuid where the text has one) from the
// message texts libvirt writes, in the journal, the text log and the container log alike.
import test from 'ava';
import { domainMentioned } from '../../parsers/domain-mention.js';
import type { LogRecord } from '../../parsers/record.js';
import { parseFile } from '../harness/roles/parse-file.js';
import { CRI_SAMPLES, sample } from '../harness/inputs/samples.js';

const UUID = 'c0a8e3f2-51d7-4d8b-a0e6-3b9f6c2d7e18';
const named = (records: LogRecord[]) => records.filter((r) => r.domain !== null).map((r) => [r.domain, r.uuid]);

test("the real libvirtd 9.0 journal: each start's taint warning names the domain and its uuid; the rest name none", (t) => {
  const records = parseFile(sample('real/journal-libvirtd.json'), 'journal');
  const taints = records.filter((r) => r.message.includes('is tainted'));
  t.true(taints.length >= 4);
  for (const r of taints) {
    const [, name, uuid] = /name='(.*)' uuid=(\S+)/.exec(r.message)!;
    t.like(r, { source: 'libvirtd', domain: name, uuid });
  }
  for (const r of records.filter((x) => !x.message.includes('is tainted'))) t.like(r, { domain: null, uuid: undefined }, r.message);
  // LIBVIRT_DOMAIN is the error domain (virErrorDomain), not a VM: it stays error_domain.
  t.true(records.some((r) => r.error_domain !== undefined && r.domain === null));
});

test('the OpenStack journal sample: a monitor error and a job timeout name the domain without its uuid', (t) => {
  const records = parseFile(sample('journal/libvirtd.service.json'), 'journal');
  t.deepEqual(named(records), [
    ['instance-00000c3d', undefined],
    ['instance-00000b2c', UUID],
    ['instance-00000d4e', '9e41b7c3-0f2a-4a6d-b5c8-7d3e2f1a0b96'],
    ['instance-00000b2c', undefined],
  ]);
});

test('libvirtd text inside a container log names domains the same way', (t) => {
  const records = CRI_SAMPLES.flatMap((f) => parseFile(f, 'cri'));
  const pairs = named(records);
  t.true(pairs.some(([d, u]) => d === 'instance-00000c3d' && u === undefined), 'the (vm=…) monitor error');
  t.true(pairs.some(([d, u]) => d === 'instance-00000b2c' && u === UUID), 'the taint warning');
});

test('every message shape libvirt names a domain in', (t) => {
  const cases: [string, ReturnType<typeof domainMentioned>][] = [
    [`Domain id=3 name='instance-00000b2c' uuid=${UUID} is tainted: custom-monitor`, { name: 'instance-00000b2c', uuid: UUID }],
    [`Domain id=3 name='it's mine' uuid=${UUID} is tainted: high-privileges`, { name: "it's mine", uuid: UUID }],
    [`Domain not found: no domain with matching uuid '${UUID}' (vm-1)`, { name: 'vm-1', uuid: UUID }],
    [`operation failed: domain 'vm-1' is already defined with uuid ${UUID}`, { name: 'vm-1', uuid: UUID }],
    [`operation failed: domain 'vm-1' already exists with uuid ${UUID}`, { name: 'vm-1', uuid: UUID }],
    ["internal error: QEMU unexpectedly closed the monitor (vm='vm-1'): qemu-system-x86_64: -bogus: invalid option", { name: 'vm-1' }],
    ["internal error: End of file from qemu monitor (vm='vm-1')", { name: 'vm-1' }],
    ['Cannot start job (query, none, none) in API remoteDispatchDomainBlockStats for domain vm-1; current job is (modify, none, none) owned by …', { name: 'vm-1' }],
    ["Domain not found: no domain with matching name 'vm-1'", { name: 'vm-1' }],
  ];
  for (const [message, expected] of cases) t.deepEqual(domainMentioned(message), expected, message);
});

test('texts that only look like it name no domain', (t) => {
  for (const message of [
    'Requested operation is not valid: domain is not running',
    'Unable to read from monitor: Connection reset by peer',
    'hostname: vm',
    // Not libvirt's form of a uuid (virUUIDFormat() writes lower case).
    `Domain id=3 name='vm-1' uuid=${UUID.toUpperCase()} is tainted: custom-monitor`,
    "Cannot start job (query, none, none) for domain 'vm-1'",
  ]) {
    t.is(domainMentioned(message), undefined, message);
  }
});
