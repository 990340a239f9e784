// A reply body decoded while it arrives (rpc.ts streams a long reply's payload here instead of buffering the
// packet whole). The decoding is the same item reader the whole-buffer path runs: a payload is a sequence of
// small items (a record's head, one parameter), each read by an XdrReader over the bytes that have arrived, which
// knows how many are still to come, so every count is checked against the whole payload exactly as it is in one
// buffer. An item cut by a chunk boundary is read again once its bytes are there: what is held besides the
// decoded value is at most one item, bounded by the protocol's limits on what an item may contain.
import { ProtocolError } from './errors.js';
import { ShortRead, XdrReader } from './xdr.js';

/** Decodes a payload item by item. */
export interface ItemReader<R> {
  /**
   * Reads the next item from `r`; true once the value is complete. It must change nothing before its last read
   * has succeeded: a read that runs past the bytes that have arrived throws, and the item is read again later.
   */
  next(r: XdrReader): boolean;
  /** The decoded value, once next() returned true. */
  value(): R;
}

/** A reply body fed as its bytes arrive. Both throw ProtocolError for a body that does not decode. */
export interface BodyDecoder<R> {
  feed(bytes: Buffer): void;
  /** After the last byte was fed: the decoded value. */
  end(): R;
}

/** Runs `reader` over a whole payload: the same items in one buffer. */
export function readAll<R>(r: XdrReader, reader: ItemReader<R>): R {
  while (!reader.next(r));
  return reader.value();
}

const NOTHING = Buffer.alloc(0);

/** Feeds a payload of `payloadBytes` to an ItemReader chunk by chunk; `what` names it in errors (as XdrReader.end). */
export class ItemStream<R> implements BodyDecoder<R> {
  /** The start of an item cut by a chunk boundary, sized for what that item was found to need so far. */
  private carry: Buffer | undefined;
  private carried = 0;
  /** Payload bytes not fed yet. */
  private left: number;
  private done = false;

  constructor(
    payloadBytes: number,
    private readonly reader: ItemReader<R>,
    private readonly what: string,
  ) {
    this.left = payloadBytes;
  }

  feed(bytes: Buffer): void {
    if (bytes.length > this.left) throw new ProtocolError(`${this.what}: fed ${bytes.length} bytes, only ${this.left} left`);
    this.left -= bytes.length;
    let at = 0;
    while (this.carry !== undefined) {
      const n = Math.min(this.carry.length - this.carried, bytes.length - at);
      bytes.copy(this.carry, this.carried, at, at + n);
      this.carried += n;
      at += n;
      if (this.carried < this.carry.length) return;
      const item = this.carry;
      this.carry = undefined;
      this.decode(item, bytes.length - at + this.left);
    }
    this.decode(at === 0 ? bytes : bytes.subarray(at), this.left);
  }

  end(): R {
    if (this.left !== 0) throw new ProtocolError(`${this.what}: ended with ${this.left} bytes not fed`);
    // With every byte fed, no item can be waiting for more (a read past the payload is a ProtocolError); an
    // unfinished value still gets its reader's own error, as it would from one buffer.
    if (!this.done) this.decode(NOTHING, 0);
    return this.reader.value();
  }

  /** Reads the items `bytes` holds; keeps the start of one it cuts. `beyond`: payload bytes after these. */
  private decode(bytes: Buffer, beyond: number): void {
    const r = new XdrReader(bytes, beyond);
    let start = 0;
    try {
      while (!this.done) {
        if (r.position === bytes.length && beyond > 0) return;
        start = r.position;
        this.done = this.reader.next(r);
      }
      r.end(this.what);
    } catch (err) {
      if (!(err instanceof ShortRead)) throw err;
      this.carry = Buffer.allocUnsafe(err.end - start);
      this.carried = bytes.copy(this.carry, 0, start);
    }
  }
}
