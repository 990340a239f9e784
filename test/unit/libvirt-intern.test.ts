import test from 'ava';
import { BytesTable, sameText } from '../../libvirt/intern.js';

/** A decoder that counts its calls: the interner must call it once per distinct byte string it keeps. */
function countingDecoder(): { decode: (bytes: Uint8Array, at: number, n: number) => string; calls: () => number } {
  let calls = 0;
  return {
    decode: (bytes, at, n) => {
      calls++;
      return Buffer.from(bytes.subarray(at, at + n)).toString('utf8');
    },
    calls: () => calls,
  };
}

const bytesOf = (...texts: string[]): { buf: Buffer; spans: [number, number][] } => {
  const spans: [number, number][] = [];
  const parts = texts.map((text) => Buffer.from(text, 'utf8'));
  let at = 0;
  for (const p of parts) {
    spans.push([at, p.length]);
    at += p.length;
  }
  return { buf: Buffer.concat(parts), spans };
};

test('recurring bytes are decoded once, at any offset, UTF-8 included', (t) => {
  const interner = new BytesTable<string>(16, 64);
  const counter = countingDecoder();
  const { buf, spans } = bytesOf('state.state', 'vm-é', 'state.state', 'vm-é', 'state.reason');
  const texts = spans.map(([at, n]) => interner.get(buf, at, n, counter.decode, sameText));
  t.deepEqual(texts, ['state.state', 'vm-é', 'state.state', 'vm-é', 'state.reason']);
  t.is(counter.calls(), 3);
  t.is(interner.size, 3);
});

test('the table keeps a copy of the key bytes, not the packet: reusing the buffer does not change what it returns', (t) => {
  const interner = new BytesTable<string>(16, 64);
  const counter = countingDecoder();
  const buf = Buffer.from('cpu.time');
  t.is(interner.get(buf, 0, buf.length, counter.decode, sameText), 'cpu.time');
  buf.write('cpu.user');
  t.is(interner.get(buf, 0, buf.length, counter.decode, sameText), 'cpu.user');
  t.is(counter.calls(), 2);
});

test('a hash collision is decoded, never answered with the other string', (t) => {
  // Two names with the same 32-bit FNV-1a hash.
  const interner = new BytesTable<string>(16, 64);
  const counter = countingDecoder();
  const { buf, spans } = bytesOf('vcpu.441603.time', 'vcpu.1111800.time', 'vcpu.1111800.time', 'vcpu.441603.time');
  t.deepEqual(
    spans.map(([at, n]) => interner.get(buf, at, n, counter.decode, sameText)),
    ['vcpu.441603.time', 'vcpu.1111800.time', 'vcpu.1111800.time', 'vcpu.441603.time'],
  );
  t.is(interner.size, 1);
  t.is(counter.calls(), 3); // the first is kept; the colliding one is decoded each time
});

test('bounded: long strings are not kept, and a full table starts over', (t) => {
  const interner = new BytesTable<string>(3, 8);
  const counter = countingDecoder();
  const long = Buffer.from('a-domain-name-longer-than-8');
  interner.get(long, 0, long.length, counter.decode, sameText);
  interner.get(long, 0, long.length, counter.decode, sameText);
  t.is(counter.calls(), 2);
  t.is(interner.size, 0);
  for (const name of ['a', 'b', 'c']) interner.get(Buffer.from(name), 0, 1, counter.decode, sameText);
  t.is(interner.size, 3);
  t.is(interner.get(Buffer.from('d'), 0, 1, counter.decode, sameText), 'd');
  t.is(interner.size, 1);
});
