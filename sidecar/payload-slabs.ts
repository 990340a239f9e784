// Encoded payloads are copied into reused fixed-size slabs. A fresh Buffer per batch is freed
// only when the garbage collector finds its small JS wrapper, which let the external memory of a
// busy sidecar grow past 100 MiB; slabs go back to a free list as soon as the output confirmed.

/** Large enough for what one read chunk (64 KiB) encodes to as JSON lines (about 1.5 x). */
export const SLAB_BYTES = 128 * 1024;
/** Free slabs kept; more are dropped to the GC (the queue limit bounds how many are in use). */
const MAX_FREE = 64;

const free: Buffer[] = [];
const ours = new WeakSet<ArrayBufferLike>();

/** A copy of `source[0, length)` in a slab (or in a buffer of its own when larger). */
export function slabCopy(source: Buffer, length: number): Buffer {
  if (length > SLAB_BYTES) {
    const own = Buffer.allocUnsafe(length);
    source.copy(own, 0, 0, length);
    return own;
  }
  let slab = free.pop();
  if (!slab) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    ours.add(slab.buffer);
  }
  source.copy(slab, 0, 0, length);
  return slab.subarray(0, length);
}

/** Gives a payload's slab back once nothing reads it any more (after the output confirmed). */
export function recycle(payload: Buffer): void {
  if (payload.byteOffset !== 0 || !ours.has(payload.buffer) || free.length >= MAX_FREE) return;
  free.push(Buffer.from(payload.buffer, 0, SLAB_BYTES));
}
