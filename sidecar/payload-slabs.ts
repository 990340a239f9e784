// Encoded payloads are copied into reused fixed-size slabs, packed one after another. A fresh
// Buffer per batch is freed only when the garbage collector finds its small JS wrapper, which let
// the external memory of a busy sidecar grow far past its queue limit (bench/RESULTS.md#sidecar); a
// slab goes back to a free list as soon as the output confirmed every payload in it. Packing keeps a
// small payload (a quiet file's few lines) from taking a slab of its own, or a start with many files
// would take a slab per file.

/** Several read chunks' worth of JSON lines (JSON is larger than the lines it encodes: bench/RESULTS.md#sidecar). */
const SLAB_BYTES = 512 * 1024;
/** Free slabs kept; more are dropped to the GC (the queue limit bounds how many are in use). */
const MAX_FREE = 16;

interface Slab {
  readonly buf: Buffer;
  /** Bytes handed out since the slab was last empty. */
  used: number;
  /** Payloads handed out and not recycled yet. */
  live: number;
}

const free: Slab[] = [];
const slabOf = new WeakMap<ArrayBufferLike, Slab>();
/** The slab new payloads go into. */
let current: Slab | undefined;

/**
 * `scratch`, or a copy of its first `used` bytes in a buffer at least twice as large when `needed` more
 * bytes do not fit: the encoders write a batch into one reused scratch buffer, then slabCopy() it.
 */
export function withRoom(scratch: Buffer, used: number, needed: number): Buffer {
  if (used + needed <= scratch.length) return scratch;
  const grown = Buffer.allocUnsafe(Math.max(scratch.length * 2, used + needed));
  scratch.copy(grown, 0, 0, used);
  return grown;
}

/** A copy of `source[0, length)` in a slab (or in a buffer of its own when larger). */
export function slabCopy(source: Buffer, length: number): Buffer {
  if (length > SLAB_BYTES) {
    const own = Buffer.allocUnsafe(length);
    source.copy(own, 0, 0, length);
    return own;
  }
  let slab = current;
  if (!slab || slab.used + length > SLAB_BYTES) {
    if (slab && slab.live === 0) release(slab);
    slab = free.pop() ?? newSlab();
    current = slab;
  }
  const at = slab.used;
  source.copy(slab.buf, at, 0, length);
  slab.used += length;
  slab.live++;
  return slab.buf.subarray(at, at + length);
}

/** Gives a payload's bytes back once nothing reads them any more (after the output confirmed); once per payload. */
export function recycle(payload: Buffer): void {
  const slab = slabOf.get(payload.buffer);
  if (!slab || --slab.live > 0) return;
  if (slab === current) slab.used = 0;
  else release(slab);
}

function newSlab(): Slab {
  const slab = { buf: Buffer.allocUnsafeSlow(SLAB_BYTES), used: 0, live: 0 };
  slabOf.set(slab.buf.buffer, slab);
  return slab;
}

function release(slab: Slab): void {
  slab.used = 0;
  if (free.length < MAX_FREE) free.push(slab);
}
