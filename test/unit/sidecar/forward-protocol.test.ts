import test from 'ava';
import { decode, encode } from '@msgpack/msgpack';
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
