// The stats reply decoded into columns (libvirt/domain-stats.ts): values, names, indices and bounds.
import test from 'ava';
import { NO_INDEX, StatsFields, StatsKeys, paramsOf, readDomainStats } from '../../libvirt/domain-stats.js';
import { ProtocolError } from '../../libvirt/errors.js';
import { Limits, TypedParamType } from '../../libvirt/protocol.js';
import type { DomainRef, DomainStatsRecord } from '../../libvirt/types.js';
import { XdrReader, XdrWriter } from '../../libvirt/xdr.js';
import { decodedStats, writeStatsRecord, type Param } from '../harness/fakes/stats-records.js';
import { hex } from '../harness/hex.js';

const vm = (n: number): DomainRef => ({ name: `vm${n}`, uuid: `4dea22b3-1d52-d8f3-2516-${String(n).padStart(12, '0')}`, id: n });

/** A reply of records given as raw typed parameters, decoded; fails on trailing bytes. */
function decode(...records: (readonly Param[])[]): DomainStatsRecord[] {
  const w = new XdrWriter(Limits.MESSAGE_MAX);
  w.uint(records.length);
  records.forEach((params, i) => writeStatsRecord(w, vm(i), params));
  const r = new XdrReader(w.finish());
  const decoded = readDomainStats(r);
  r.end('reply');
  return decoded;
}

/** The record's parameters: bytes of one domain (vm1) and then `params` (count word included). */
const oneRecord = (params: string): Buffer =>
  Buffer.concat([hex('00 00 00 01 | 00 00 00 03 76 6d 31 00 | 4d ea 22 b3 1d 52 d8 f3 25 16 78 2e 98 ab 3f a0 | 00 00 00 03'), hex(params)]);

test('typed parameters decode to number, boolean and string; 64-bit integers to the nearest double (reference §9.5)', (t) => {
  const r = new XdrReader(oneRecord(`
    00 00 00 06
    00 00 00 0b 73 74 61 74 65 2e 73 74 61 74 65 00 00 00 00 01 00 00 00 01
    00 00 00 08 63 70 75 2e 74 69 6d 65 00 00 00 04 00 00 00 1c be 99 1a 08
    00 00 00 0a 6e 65 74 2e 30 2e 6e 61 6d 65 00 00 00 00 00 07 00 00 00 05 76 6e 65 74 30 00 00 00
    00 00 00 01 78 00 00 00 00 00 00 05 3f f8 00 00 00 00 00 00
    00 00 00 01 62 00 00 00 00 00 00 06 00 00 00 01
    00 00 00 01 6c 00 00 00 00 00 00 03 ff ff ff ff ff ff ff ff`));
  const [record] = readDomainStats(r);
  r.end('reply');
  t.deepEqual(record!.domain, { name: 'vm1', uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fa0', id: 3 });
  t.deepEqual([...paramsOf(record!)], [
    ['state.state', 1],
    ['cpu.time', 123456789000],
    ['net.0.name', 'vnet0'],
    ['x', 1.5],
    ['b', true],
    ['l', -1],
  ]);
});

test('64-bit values above 2^53 and signed ones become the double Number(bigint) gives', (t) => {
  const unsigned = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n + 1n, 2n ** 53n + 3n, 2n ** 63n + 2049n, 2n ** 64n - 1n, 0x1234_5678_9abc_def1n];
  const signed = [-1n, -(2n ** 31n), -(2n ** 32n) - 1n, -(2n ** 53n) - 3n, -(2n ** 63n), 2n ** 63n - 1n, -0x1234_5678_9abc_def1n];
  const [record] = decode([
    ...unsigned.map((v, i): Param => [`u.${i}.v`, TypedParamType.ULLONG, v]),
    ...signed.map((v, i): Param => [`s.${i}.v`, TypedParamType.LLONG, v]),
  ]);
  const params = paramsOf(record!);
  unsigned.forEach((v, i) => t.is(params.get(`u.${i}.v`), Number(v), `ULLONG ${v}`));
  signed.forEach((v, i) => t.is(params.get(`s.${i}.v`), Number(v), `LLONG ${v}`));
});

test('an unknown typed parameter type fails the decode (its size is unknown)', (t) => {
  const r = new XdrReader(oneRecord('00 00 00 01 00 00 00 01 78 00 00 00 00 00 00 08 00 00 00 01'));
  t.throws(() => readDomainStats(r), { instanceOf: ProtocolError, message: /'x': unknown type 8/ });
});

test('truncated arrays and values fail before anything is allocated for them', (t) => {
  // Two records announced, one sent.
  const one = oneRecord('00 00 00 01 00 00 00 01 78 00 00 00 00 00 00 01 00 00 00 07');
  one.writeUInt32BE(2, 0);
  t.throws(() => readDomainStats(new XdrReader(one)), { instanceOf: ProtocolError });
  // More records than the bytes left could hold: refused on the count.
  t.throws(() => readDomainStats(new XdrReader(hex('00 00 10 00 00 00 00 00'))), { instanceOf: ProtocolError, message: /stats records: length 4096 cannot fit/ });
  t.throws(() => readDomainStats(new XdrReader(hex('7f ff ff ff'))), { instanceOf: ProtocolError, message: /exceeds the protocol maximum/ });
  // 100,000 parameters announced in a few bytes: refused on the count, not after allocating columns for them.
  t.throws(() => readDomainStats(new XdrReader(oneRecord('00 01 86 a0 00 00 00 01 78 00 00 00'))), { instanceOf: ProtocolError, message: /typed params: length 100000 cannot fit/ });
  t.throws(() => readDomainStats(new XdrReader(oneRecord('00 04 00 01'))), { instanceOf: ProtocolError, message: /typed params: length 262145 exceeds/ });
  // A 64-bit value cut after 4 bytes, and a string cut short.
  t.throws(() => readDomainStats(new XdrReader(oneRecord('00 00 00 01 00 00 00 01 78 00 00 00 00 00 00 04 00 00 00 1c'))), { instanceOf: ProtocolError, message: /'x'|x: needs 8 bytes/ });
  t.throws(() => readDomainStats(new XdrReader(oneRecord('00 00 00 01 00 00 00 01 78 00 00 00 00 00 00 07 00 00 00 08 76 6e 65 74'))), { instanceOf: ProtocolError });
});

test('names are at most 79 bytes, as libvirt\'s own client accepts them', (t) => {
  const name = (n: number): string => `block.0.${'x'.repeat(n - 8)}`;
  const [record] = decode([[name(79), TypedParamType.INT, 1]]);
  t.deepEqual([...paramsOf(record!)], [[name(79), 1]]);
  t.throws(() => decode([[name(80), TypedParamType.INT, 1]]), { instanceOf: ProtocolError, message: /typed param name: length 80 exceeds the protocol maximum 79/ });
});

test('sparse indices and gaps: each entry once, by its index, in order of first appearance', (t) => {
  const [record] = decodedStats([{
    domain: vm(1),
    params: new Map<string, number | bigint | string>([
      ['vcpu.current', 2],
      ['vcpu.0.time', 240000000n],
      ['vcpu.7.time', 5n], // after hot-unplug of 1…6
      ['net.count', 2],
      ['net.1.name', 'vnet0'], // net.0 has no host device: it reports nothing
      ['net.1.rx.bytes', 90n],
      ['block.1.name', 'vdb'], // order as sent, not by index
      ['block.0.name', 'vda'],
      ['block.1.rd.bytes', 512n],
      ['vcpu.01.time', 3n], // not an index libvirt writes: a name of its own
    ]),
  }]);
  const vcpus = new StatsFields('vcpu', ['time']);
  t.is(vcpus.read(record!), 2);
  t.deepEqual([vcpus.index(0), vcpus.number(0, 0), vcpus.index(1), vcpus.number(1, 0)], [0, 240000000, 7, 5]);
  const nets = new StatsFields('net', ['name', 'rx.bytes']);
  t.is(nets.read(record!), 1);
  t.deepEqual([nets.index(0), nets.text(0, 0), nets.number(0, 1)], [1, 'vnet0', 90]);
  const blocks = new StatsFields('block', ['name', 'rd.bytes']);
  t.is(blocks.read(record!), 2);
  t.deepEqual([blocks.index(0), blocks.text(0, 0), blocks.number(0, 1), blocks.index(1), blocks.text(1, 0), blocks.number(1, 1)], [1, 'vdb', 512, 0, 'vda', undefined]);
  const domainWide = new StatsFields('', ['vcpu.current', 'net.count', 'vcpu.01.time', 'vcpu.0.time']);
  domainWide.read(record!);
  t.is(domainWide.index(0), NO_INDEX);
  t.deepEqual([0, 1, 2, 3].map((slot) => domainWide.number(0, slot)), [2, 2, 3, undefined]);
  // Names come back exactly as sent.
  t.deepEqual([...paramsOf(record!).keys()], ['vcpu.current', 'vcpu.0.time', 'vcpu.7.time', 'net.count', 'net.1.name', 'net.1.rx.bytes', 'block.1.name', 'block.0.name', 'block.1.rd.bytes', 'vcpu.01.time']);
});

test('records of one reply share columns yet each reads only its own parameters; a one-record reply gets columns of its size', (t) => {
  const records = decode(
    [['state.state', TypedParamType.INT, 1], ['block.0.name', TypedParamType.STRING, 'vda'], ['block.0.rd.bytes', TypedParamType.ULLONG, 7n]],
    [],
    [['state.state', TypedParamType.INT, 3], ['block.0.name', TypedParamType.STRING, 'sda']],
  );
  const blocks = new StatsFields('block', ['name', 'rd.bytes']);
  t.deepEqual(records.map((r) => [r.domain.name, blocks.read(r), blocks.text(0, 0), blocks.number(0, 1)]), [
    ['vm0', 1, 'vda', 7],
    ['vm1', 0, undefined, undefined],
    ['vm2', 1, 'sda', undefined],
  ]);
  t.is(records[0]!.columns, records[2]!.columns);
  t.deepEqual(paramsOf(records[1]!), new Map());
  const [alone] = decode([['state.state', TypedParamType.INT, 1], ['cpu.time', TypedParamType.ULLONG, 5n]]);
  t.is(alone!.columns.values.length, 2);
});

test('a later parameter of the same name replaces the earlier one; a string is no number, a boolean is 0 or 1', (t) => {
  const [record] = decode([
    ['cpu.time', TypedParamType.ULLONG, 1n],
    ['cpu.user', TypedParamType.STRING, 'n/a'],
    ['cpu.time', TypedParamType.ULLONG, 2n],
    ['x.flag', TypedParamType.BOOLEAN, true],
  ]);
  const fields = new StatsFields('', ['cpu.time', 'cpu.user', 'x.flag']);
  fields.read(record!);
  t.deepEqual([fields.number(0, 0), fields.number(0, 1), fields.text(0, 1), fields.number(0, 2)], [2, undefined, 'n/a', 1]);
  t.throws(() => fields.slot('cpu.system'), { instanceOf: RangeError });
});

test('the key table is capped, not reset: ids stay valid and keys beyond the cap are refused', (t) => {
  const keys = new StatsKeys();
  const first = keys.idOf('block', 'rd.bytes');
  // The same text with and without an index are different keys.
  t.is(keys.idOf('', 'block.<n>.rd.bytes'), 1);
  for (let i = 2; i < StatsKeys.MAX; i++) keys.idOf('', `k${i}`);
  t.is(keys.idOf('', 'one too many'), undefined);
  t.is(keys.idOf('block', 'rd.bytes'), first);
  t.deepEqual(keys.get(first!), { id: 0, group: 'block', field: 'rd.bytes' });
});
