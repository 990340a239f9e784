import test from 'ava';
import { ProtocolError } from '../../libvirt/errors.js';
import { Limits } from '../../libvirt/protocol.js';
import { domainsKept, readDomain, uuidToBytes, uuidToString, writeDomain } from '../../libvirt/structs.js';
import { XdrReader, XdrWriter } from '../../libvirt/xdr.js';
import { hex } from '../harness/hex.js';

const writer = (): XdrWriter => new XdrWriter(1 << 20, 8);

test('scalars round-trip with their exact wire form', (t) => {
  const w = writer().int(-1).uint(0xffffffff).hyper(-2n).uhyper(2n ** 64n - 1n).double(1.5).bool(true).bool(false);
  const bytes = w.finish();
  t.is(bytes.toString('hex'), 'ffffffff' + 'ffffffff' + 'fffffffffffffffe' + 'ffffffffffffffff' + '3ff8000000000000' + '00000001' + '00000000');
  const r = new XdrReader(bytes);
  t.is(r.int(), -1);
  t.is(r.uint(), 0xffffffff);
  t.is(r.hyper(), -2n);
  t.is(r.uhyper(), 2n ** 64n - 1n);
  t.is(r.double(), 1.5);
  t.true(r.bool());
  t.false(r.bool());
  t.notThrows(() => r.end('scalars'));
});

test('strings are length-prefixed, UTF-8 and zero-padded to 4 bytes', (t) => {
  for (const s of ['', 'a', 'ab', 'abc', 'abcd', 'vm1', 'ümlaut-域']) {
    const bytes = writer().string(s, 100).finish();
    const n = Buffer.byteLength(s);
    t.is(bytes.length, 4 + n + ((4 - (n % 4)) % 4), s);
    t.is(bytes.readUInt32BE(0), n);
    t.true(bytes.subarray(4 + n).every((b) => b === 0), 'padding is zero');
    const r = new XdrReader(bytes);
    t.is(r.string(100), s);
    t.is(r.remaining, 0);
  }
});

test('stringContaining decodes a string only when its own bytes hold the needle, and consumes it either way', (t) => {
  const needle = Buffer.from('xmlns:nova');
  // Each string followed by a second one that holds the needle: a match there must not count for the first.
  const cases: [string, boolean][] = [
    ['<domain><metadata xmlns:nova="u"/></domain>', true],
    ['xmlns:nova', true],
    ['<domain/>', false],
    ['xmlns:nov', false], // the needle begins inside the string but ends in the next field
    ['', false],
  ];
  for (const [s, holds] of cases) {
    const r = new XdrReader(writer().string(s, 100).string('xmlns:nova', 100).finish());
    t.is(r.stringContaining(100, needle), holds ? s : undefined, s);
    t.is(r.string(100), 'xmlns:nova', 'the reader is past the first string and its padding');
    t.is(r.remaining, 0);
  }
  const overMax = new XdrReader(writer().string('abcde', 100).finish());
  t.throws(() => overMax.stringContaining(4, needle), { instanceOf: ProtocolError, message: /protocol maximum 4/ });
});

test('optional, fixed opaque and arrays round-trip', (t) => {
  const w = writer()
    .optional('x', (x, v) => x.string(v, 10))
    .optional<string>(undefined, (x, v) => x.string(v, 10))
    .opaqueFixed(Buffer.from([1, 2, 3]), 3)
    .array([5, 6, 7], 3, (x, v) => x.int(v));
  const r = new XdrReader(w.finish());
  t.is(r.optional((x) => x.string(10)), 'x');
  t.is(r.optional((x) => x.string(10)), undefined);
  t.deepEqual([...r.opaqueFixed(3)], [1, 2, 3]);
  t.deepEqual(r.array(3, 4, (x) => x.int()), [5, 6, 7]);
  r.end('all');
});

test('the writer refuses values outside their XDR type and lengths above the protocol maximum', (t) => {
  t.throws(() => writer().int(2 ** 31), { instanceOf: RangeError });
  t.throws(() => writer().uint(-1), { instanceOf: RangeError });
  t.throws(() => writer().uint(1.5), { instanceOf: RangeError });
  t.throws(() => writer().string('abcde', 4), { instanceOf: RangeError });
  t.throws(() => writer().array([1, 2], 1, (x, v) => x.int(v)), { instanceOf: RangeError });
  t.throws(() => new XdrWriter(8).uhyper(1n).int(1), { instanceOf: RangeError });
});

test('the reader bounds every length by the protocol maximum and by the bytes left', (t) => {
  const tooLong = new XdrReader(hex('00 00 00 05 61 62 63 64'));
  t.throws(() => tooLong.string(100), { instanceOf: ProtocolError, message: /cannot fit/ });
  const overMax = new XdrReader(hex('00 00 00 05 61 62 63 64 65 00 00 00'));
  t.throws(() => overMax.string(4), { instanceOf: ProtocolError, message: /protocol maximum 4/ });
  const absurdCount = new XdrReader(hex('7f ff ff ff 00 00 00 01'));
  t.throws(() => absurdCount.array(Limits.DOMAIN_LIST_MAX, 24, readDomain), { instanceOf: ProtocolError, message: /exceeds/ });
  const countPastEnd = new XdrReader(hex('00 00 00 03 00 00 00 01'));
  t.throws(() => countPastEnd.array(100, 4, (x) => x.int()), { instanceOf: ProtocolError, message: /cannot fit/ });
  t.throws(() => new XdrReader(hex('00 00 00 02')).bool(), { instanceOf: ProtocolError });
  t.throws(() => new XdrReader(hex('00 00 00')).int(), { instanceOf: ProtocolError });
  t.throws(() => new XdrReader(hex('00 00 00 01')).end('x'), { instanceOf: ProtocolError, message: /trailing/ });
});

test('UUIDs convert between 16 raw bytes and canonical text', (t) => {
  const text = '4dea22b3-1d52-d8f3-2516-782e98ab3fa0';
  const bytes = uuidToBytes(text);
  t.is(bytes.toString('hex'), '4dea22b31d52d8f32516782e98ab3fa0');
  t.is(uuidToString(bytes), text);
  t.deepEqual(uuidToBytes('4DEA22B31D52D8F32516782E98AB3FA0'), bytes);
  t.throws(() => uuidToBytes('not-a-uuid'), { instanceOf: TypeError });
});

test('domains round-trip', (t) => {
  const dom = { name: 'vm1', uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fa0', id: -1 };
  const w = writer();
  writeDomain(w, dom);
  const r = new XdrReader(w.finish());
  t.deepEqual(readDomain(r), dom);
  r.end('domain');
});

test('a listing of 5001 domains, decoded again and again, keeps every domain decoded once', (t) => {
  const w = new XdrWriter(1 << 20, 8);
  const domains = Array.from({ length: 5001 }, (_, i) => ({ name: `host-${i}`, uuid: `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`, id: i }));
  for (const domain of domains) writeDomain(w, domain);
  const wire = w.finish();
  for (let pass = 0; pass < 3; pass++) {
    const r = new XdrReader(wire);
    t.deepEqual(domains.map(() => readDomain(r)), domains);
  }
  t.true(domainsKept() >= domains.length, `${domainsKept()} of ${domains.length} domains kept`);
});
