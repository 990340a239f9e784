import test from 'ava';
import { decode, encode } from '@msgpack/msgpack';
import { eventTime } from '../../../sidecar/encodings.js';
import { packedForward } from '../../../sidecar/sinks/forward-protocol.js';

test('a PackedForward message written in parts is byte for byte the message encoded whole, for every bin header size', (t) => {
  for (const total of [1, 255, 256, 65_535, 65_536, 300_000]) {
    const entries = [Buffer.alloc(Math.floor(total / 3), 1), Buffer.alloc(total - 2 * Math.floor(total / 3), 2), Buffer.alloc(Math.floor(total / 3), 3)];
    const parts = packedForward('libvirt.qemu.dom', entries, 42, 'chunk-id');
    const whole = encode(['libvirt.qemu.dom', Buffer.concat(entries), { size: 42, chunk: 'chunk-id' }]);
    t.true(Buffer.concat(parts).equals(Buffer.from(whole)), `${total} bytes`);
    const [tag, bin, options] = decode(Buffer.concat(parts)) as [string, Uint8Array, unknown];
    t.is(tag, 'libvirt.qemu.dom');
    t.true(Buffer.from(bin).equals(Buffer.concat(entries)));
    t.deepEqual(options, { size: 42, chunk: 'chunk-id' });
  }
});

/** The EventTime as first written: DataView and a regex, kept as the reference. */
function referenceEventTime(iso: string | null, fallbackMs: number): number[] {
  let ms = iso ? Date.parse(iso) : NaN;
  let nanos: number;
  if (Number.isNaN(ms)) {
    ms = fallbackMs;
    nanos = (ms % 1000) * 1e6;
  } else nanos = Number((/\.(\d+)/.exec(iso!)?.[1] ?? '').padEnd(9, '0').slice(0, 9));
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, Math.floor(ms / 1000));
  view.setUint32(4, nanos);
  return [...new Uint8Array(view.buffer)];
}

test('EventTime: seconds and nanoseconds of every time the parsers produce, and of times they cannot parse', (t) => {
  const times = [
    '2026-11-29T14:56:25.535Z',
    '2026-11-29T14:56:25.535123Z',
    '2026-11-29T14:56:25.535123456Z',
    '2026-11-29T14:56:25.5351234567Z',
    '2026-11-29T14:56:25.5Z',
    '2026-11-29T14:56:25Z',
    '2026-11-29T14:56:25.Z',
    '1969-12-31T23:59:59.999Z',
    '2106-02-07T06:28:16.000001Z',
    'Sun, 29 Nov 2026 14:56:25 GMT',
    'not a time',
    '',
    null,
  ];
  for (const iso of times) {
    for (const fallback of [1_764_428_185_535, -1]) {
      t.deepEqual([...(eventTime(iso, fallback).data as Uint8Array)], referenceEventTime(iso, fallback), String(iso));
      t.is(eventTime(iso, fallback).type, 0);
    }
  }
});
