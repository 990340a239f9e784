import test from 'ava';
import { recycle, slabCopy } from '../../../sidecar/payload-slabs.js';

test('payloads are packed into shared slabs, never overlap while live, and slabs are reused once recycled', (t) => {
  const live: { payload: Buffer; fill: number }[] = [];
  const buffers = new Set<ArrayBufferLike>();
  let fill = 0;
  for (let round = 0; round < 2000; round++) {
    const length = 1 + ((round * 7919) % 90_000);
    const source = Buffer.alloc(length, fill);
    const payload = slabCopy(source, length);
    live.push({ payload, fill });
    buffers.add(payload.buffer);
    fill = (fill + 1) % 256;
    // Confirm in order, as the pipeline does, keeping up to 40 payloads in flight.
    while (live.length > 40) {
      const { payload: done, fill: expected } = live.shift()!;
      t.true(done.equals(Buffer.alloc(done.length, expected)), 'a payload still in flight was never overwritten');
      recycle(done);
    }
  }
  for (const { payload, fill: expected } of live) t.true(payload.equals(Buffer.alloc(payload.length, expected)));
  t.true(buffers.size < 40, `${buffers.size} slabs for 2000 payloads`);
  const small = [slabCopy(Buffer.from('a'), 1), slabCopy(Buffer.from('b'), 1)];
  t.is(small[0]!.buffer, small[1]!.buffer, 'small payloads share a slab');
  const big = slabCopy(Buffer.alloc(2 * 1024 * 1024), 2 * 1024 * 1024);
  t.is(big.length, 2 * 1024 * 1024, 'a payload larger than a slab gets a buffer of its own');
});
