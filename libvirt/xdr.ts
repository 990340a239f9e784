// XDR (RFC 4506) as rpcgen writes it for libvirt (reference §2). The reader trusts nothing:
// every length and count is checked against the protocol maximum AND the bytes actually left
// before anything is allocated, so a decoded value is never larger than the packet it came from.
import { ProtocolError } from './errors.js';
import { sameText, type BytesTable, type StringInterner } from './intern.js';

const pad4 = (n: number): number => (4 - (n & 3)) & 3;

const utf8 = (bytes: Uint8Array, at: number, n: number): string => Buffer.prototype.toString.call(bytes, 'utf8', at, at + n);

/**
 * Thrown (not an Error: no stack is captured) by a reader over part of a payload when a read runs past the bytes
 * that have arrived but not past the payload: the item is read again once `end` bytes of this buffer are there.
 */
export class ShortRead {
  constructor(readonly end: number) {}
}

export class XdrReader {
  private offset = 0;

  /** `beyond`: bytes of the payload after `buf` that have not arrived yet (xdr-stream.ts); 0 for a whole payload. */
  constructor(
    private readonly buf: Buffer,
    private readonly beyond = 0,
  ) {}

  /** Bytes left of the payload, including those still to come: what every count is checked against. */
  get remaining(): number {
    return this.buf.length - this.offset + this.beyond;
  }

  get position(): number {
    return this.offset;
  }

  /** Fails unless every byte was consumed: trailing bytes mean we decoded with the wrong layout. */
  end(what: string): void {
    if (this.remaining !== 0) throw new ProtocolError(`${what}: ${this.remaining} unexpected trailing bytes`);
  }

  private need(bytes: number, what: string): number {
    if (bytes > this.remaining) {
      throw new ProtocolError(`${what}: needs ${bytes} bytes, only ${this.remaining} left`);
    }
    const at = this.offset;
    if (at + bytes > this.buf.length) throw new ShortRead(at + bytes);
    this.offset += bytes;
    return at;
  }

  int(what = 'int'): number {
    return this.buf.readInt32BE(this.need(4, what));
  }

  uint(what = 'unsigned int'): number {
    return this.buf.readUInt32BE(this.need(4, what));
  }

  hyper(what = 'hyper'): bigint {
    return this.buf.readBigInt64BE(this.need(8, what));
  }

  uhyper(what = 'unsigned hyper'): bigint {
    return this.buf.readBigUInt64BE(this.need(8, what));
  }

  /** A hyper as the nearest double (one rounding, as Number(bigint)): no BigInt per value. */
  hyperAsNumber(what = 'hyper'): number {
    const at = this.need(8, what);
    return this.buf.readInt32BE(at) * 0x1_0000_0000 + this.buf.readUInt32BE(at + 4);
  }

  /** An unsigned hyper as the nearest double (one rounding, as Number(bigint)). */
  uhyperAsNumber(what = 'unsigned hyper'): number {
    const at = this.need(8, what);
    return this.buf.readUInt32BE(at) * 0x1_0000_0000 + this.buf.readUInt32BE(at + 4);
  }

  double(what = 'double'): number {
    return this.buf.readDoubleBE(this.need(8, what));
  }

  /** libvirt only ever writes 0 or 1; anything else is garbage (stricter than glibc's xdr_bool, on purpose). */
  bool(what = 'bool'): boolean {
    const v = this.uint(what);
    if (v > 1) throw new ProtocolError(`${what}: bool must be 0 or 1, got ${v}`);
    return v === 1;
  }

  /** A variable-length count or byte length, bounded by `max` and by what is left (`minBytesEach` per unit). */
  count(max: number, minBytesEach: number, what: string): number {
    if (this.remaining < 4) this.need(4, `${what} length`); // throws; the message is built only then
    const n = this.uint();
    if (n > max) throw new ProtocolError(`${what}: length ${n} exceeds the protocol maximum ${max}`);
    if (n * minBytesEach > this.remaining) {
      throw new ProtocolError(`${what}: length ${n} cannot fit in the ${this.remaining} bytes left`);
    }
    return n;
  }

  string(max: number, what = 'string'): string {
    const n = this.count(max, 1, what);
    const at = this.need(n + pad4(n), what);
    return this.buf.toString('utf8', at, at + n);
  }

  /**
   * A string, or undefined when its bytes do not contain `needle`: a reply that is only searched (a domain XML
   * looked through for one namespace) is never decoded into a string.
   */
  stringContaining(max: number, needle: Uint8Array, what = 'string'): string | undefined {
    const n = this.count(max, 1, what);
    const at = this.need(n + pad4(n), what);
    // The first match from `at`: if it does not end within the string, no later one does.
    const found = this.buf.indexOf(needle, at);
    return found >= 0 && found + needle.length <= at + n ? this.buf.toString('utf8', at, at + n) : undefined;
  }

  /** A string that recurs from packet to packet: handed out by `interner` when its bytes were seen before. */
  internedString(max: number, interner: StringInterner, what = 'string'): string {
    return this.interned(max, interner, sameText, what);
  }

  /** A recurring string as the value `table` made of it (with `make`) the first time its bytes were seen. */
  interned<T>(max: number, table: BytesTable<T>, make: (text: string) => T, what = 'string'): T {
    const n = this.count(max, 1, what);
    return table.get(this.buf, this.need(n + pad4(n), what), n, utf8, make);
  }

  /** Fixed-length opaque: exactly `n` bytes (+ padding); returns a view into the packet. */
  opaqueFixed(n: number, what = 'opaque'): Buffer {
    const at = this.need(n + pad4(n), what);
    return this.buf.subarray(at, at + n);
  }

  /** Fixed-length opaque handed to `read` in place (the packet and the offset), without a view object per value. */
  opaqueFixedWith<T>(n: number, read: (bytes: Uint8Array, at: number) => T, what = 'opaque'): T {
    return read(this.buf, this.need(n + pad4(n), what));
  }

  optional<T>(decode: (r: XdrReader) => T, what = 'optional'): T | undefined {
    return this.bool(`${what} presence`) ? decode(this) : undefined;
  }

  /** Variable-length array; `minBytesEach` is the smallest wire size of one element (bounds the count early). */
  array<T>(max: number, minBytesEach: number, decode: (r: XdrReader) => T, what = 'array'): T[] {
    const n = this.count(max, minBytesEach, what);
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = decode(this);
    return out;
  }
}

/**
 * A reader that lives as long as the process, so that readers keep their hidden class. V8 frees a hidden
 * class once no object of it is left, and with it all code optimized for it. Readers live for one packet:
 * without this one, each full collection between an exporter's scrapes discarded the optimized decoders,
 * and the next scrape decoded unoptimized while they were compiled again.
 */
export const SHAPE_ANCHOR: XdrReader = new XdrReader(Buffer.alloc(0));

/** A growable big-endian writer; `maxBytes` bounds the whole encoding. */
export class XdrWriter {
  private buf: Buffer;
  private offset = 0;

  constructor(
    private readonly maxBytes: number,
    initialBytes = 256,
  ) {
    this.buf = Buffer.allocUnsafe(Math.min(initialBytes, maxBytes));
  }

  get length(): number {
    return this.offset;
  }

  /** Returns the offset to write at. May replace this.buf: call it before reading this.buf. */
  private reserve(bytes: number): number {
    const need = this.offset + bytes;
    if (need > this.maxBytes) throw new RangeError(`XDR encoding exceeds ${this.maxBytes} bytes`);
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxBytes, Math.max(need, this.buf.length * 2)));
      this.buf.copy(grown, 0, 0, this.offset);
      this.buf = grown;
    }
    const at = this.offset;
    this.offset = need;
    return at;
  }

  int(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`not an XDR int: ${v}`);
    const at = this.reserve(4);
    this.buf.writeInt32BE(v, at);
    return this;
  }

  uint(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`not an XDR unsigned int: ${v}`);
    const at = this.reserve(4);
    this.buf.writeUInt32BE(v, at);
    return this;
  }

  hyper(v: bigint): this {
    const at = this.reserve(8);
    this.buf.writeBigInt64BE(v, at);
    return this;
  }

  uhyper(v: bigint): this {
    const at = this.reserve(8);
    this.buf.writeBigUInt64BE(v, at);
    return this;
  }

  double(v: number): this {
    const at = this.reserve(8);
    this.buf.writeDoubleBE(v, at);
    return this;
  }

  bool(v: boolean): this {
    return this.uint(v ? 1 : 0);
  }

  string(v: string, max: number): this {
    const n = Buffer.byteLength(v, 'utf8');
    if (n > max) throw new RangeError(`string of ${n} bytes exceeds the protocol maximum ${max}`);
    this.uint(n);
    const at = this.reserve(n + pad4(n));
    this.buf.write(v, at, n, 'utf8');
    this.buf.fill(0, at + n, at + n + pad4(n));
    return this;
  }

  opaqueFixed(bytes: Uint8Array, n: number): this {
    if (bytes.length !== n) throw new RangeError(`fixed opaque needs ${n} bytes, got ${bytes.length}`);
    const at = this.reserve(n + pad4(n));
    this.buf.set(bytes, at);
    this.buf.fill(0, at + n, at + n + pad4(n));
    return this;
  }

  optional<T>(v: T | undefined, encode: (w: XdrWriter, v: T) => void): this {
    this.bool(v !== undefined);
    if (v !== undefined) encode(this, v);
    return this;
  }

  array<T>(items: readonly T[], max: number, encode: (w: XdrWriter, v: T) => void): this {
    if (items.length > max) throw new RangeError(`array of ${items.length} exceeds the protocol maximum ${max}`);
    this.uint(items.length);
    for (const item of items) encode(this, item);
    return this;
  }

  /** Overwrites an already written unsigned int (the packet length word). */
  patchUint(at: number, v: number): void {
    this.buf.writeUInt32BE(v, at);
  }

  /** The encoded bytes (a view; the writer must not be used afterwards). */
  finish(): Buffer {
    return this.buf.subarray(0, this.offset);
  }
}
