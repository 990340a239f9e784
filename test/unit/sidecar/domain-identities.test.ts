// What the sidecar remembers of domain identities without libvirt: a name's uuid learnt from records
// that carry both, given to libvirtd records naming that domain; never to a QEMU-log record (its own
// log decides, so the sidecar and `parse` agree); bounded, least recently used first out.
import test from 'ava';
import type { LogRecord } from '../../../parsers/record.js';
import { DomainIdentities, LruMap, MAX_DOMAINS } from '../../../sidecar/domain-identities.js';

const A = '0b1c5e0a-7e57-4a11-9d6e-000000000001';
const B = '0b1c5e0a-7e57-4a11-9d6e-000000000002';

const qemu = (domain: string, uuid?: string): LogRecord => ({
  time: null, source: 'qemu', domain, kind: 'domain_shutdown', level: 'info', message: 'shutting down, reason=crashed', ...(uuid ? { uuid } : {}),
});
const libvirtd = (domain: string | null, uuid?: string): LogRecord => ({
  time: null, source: 'libvirtd', domain, kind: 'libvirt_log', level: 'error', message: `… (vm='${domain}')`, ...(uuid ? { uuid } : {}),
});

test("a libvirtd record naming a domain gets the uuid its QEMU log or a taint message said last", (t) => {
  const ids = new DomainIdentities();
  const first = [libvirtd('vm-1')];
  t.is(ids.identify(first), undefined, 'no libvirt: synchronous');
  t.is(first[0]!.uuid, undefined, 'nothing seen yet');
  ids.identify([qemu('vm-1', A)]);
  const second = [libvirtd('vm-1'), libvirtd('vm-2'), libvirtd(null)];
  ids.identify(second);
  t.deepEqual(second.map((r) => r.uuid), [A, undefined, undefined]);
  // Deleted and defined again under the same name: its taint message at the next start says the new uuid.
  ids.identify([libvirtd('vm-1', B)]);
  const third = [libvirtd('vm-1')];
  ids.identify(third);
  t.is(third[0]!.uuid, B);
});

test('a QEMU-log record without a uuid gets none from what other records said', (t) => {
  const ids = new DomainIdentities();
  ids.identify([libvirtd('vm-1', A)]);
  const records = [qemu('vm-1')];
  ids.identify(records);
  t.is(records[0]!.uuid, undefined);
  t.is(ids.uuidOf('vm-1'), A);
});

test(`at most ${MAX_DOMAINS} names are remembered, the least recently used forgotten first`, (t) => {
  const ids = new DomainIdentities();
  const uuid = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  for (let i = 0; i < MAX_DOMAINS; i++) ids.identify([qemu(`vm-${i}`, uuid(i))]);
  // vm-0 is used again (a libvirtd message names it): vm-1 is now the least recently used.
  ids.identify([libvirtd('vm-0')]);
  ids.identify([qemu('vm-new', uuid(MAX_DOMAINS))]);
  t.is(ids.uuidOf('vm-0'), uuid(0));
  t.is(ids.uuidOf('vm-1'), undefined);
  t.is(ids.uuidOf('vm-new'), uuid(MAX_DOMAINS));
  t.is(ids.uuidOf(`vm-${MAX_DOMAINS - 1}`), uuid(MAX_DOMAINS - 1));
});

test('LruMap keeps its capacity', (t) => {
  const map = new LruMap<number, number>(3);
  for (let i = 0; i < 10; i++) map.set(i, i);
  t.is(map.size, 3);
  t.deepEqual([map.get(6), map.get(7), map.get(8), map.get(9)], [undefined, 7, 8, 9]);
  map.set(7, 70);
  map.set(10, 10);
  t.deepEqual([map.get(7), map.get(8), map.get(9), map.get(10)], [70, undefined, 9, 10]);
});
