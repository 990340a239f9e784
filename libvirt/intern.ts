// Strings that recur in every stats reply, decoded once. A GET_ALL_DOMAIN_STATS reply for 1000 domains
// repeats the same few dozen typed parameter names in every record, and the same domain names and UUIDs
// scrape after scrape; turning each occurrence into a new string was a native call and a heap object every
// time. The interner hashes the bytes in place and hands back the string it made the first time.

/** FNV-1a over bytes[at, at + n). */
function hashOf(bytes: Uint8Array, at: number, n: number): number {
  let hash = 0x811c9dc5;
  for (let i = at; i < at + n; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash & 0x3fffffff; // a small integer: no heap number per lookup
}

/** `key` holds one byte per character (latin1). */
function sameBytes(key: string, bytes: Uint8Array, at: number, n: number): boolean {
  if (key.length !== n) return false;
  for (let i = 0; i < n; i++) if (key.charCodeAt(i) !== bytes[at + i]) return false;
  return true;
}

/**
 * A bounded table of values made from strings, by the bytes the strings were decoded from. It never holds more
 * than `maxEntries` values from at most `maxBytes` bytes each: when full it starts over, so names of domains
 * long gone do not pile up. A hash collision only costs a decode: the table keeps the first entry and compares
 * bytes before handing it out.
 */
export class BytesTable<T> {
  private readonly byHash = new Map<number, { readonly key: string; readonly value: T }>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.byHash.size;
  }

  /** The value of bytes[at, at + n): `make` of their text (`decode`) when those bytes are not in the table. */
  get(bytes: Uint8Array, at: number, n: number, decode: (bytes: Uint8Array, at: number, n: number) => string, make: (text: string) => T): T {
    if (n > this.maxBytes) return make(decode(bytes, at, n));
    const hash = hashOf(bytes, at, n);
    const known = this.byHash.get(hash);
    if (known !== undefined && sameBytes(known.key, bytes, at, n)) return known.value;
    const text = decode(bytes, at, n);
    const value = make(text);
    if (known === undefined) {
      if (this.byHash.size >= this.maxEntries) this.byHash.clear();
      // The bytes as a latin1 string (not a view, which would keep the packet alive); ASCII text is its own key.
      const key = text.length === n && sameBytes(text, bytes, at, n) ? text : Buffer.prototype.toString.call(bytes, 'latin1', at, at + n);
      this.byHash.set(hash, { key, value });
    }
    return value;
  }
}

/** Strings by their bytes. */
export type StringInterner = BytesTable<string>;

export const sameText = (text: string): string => text;
