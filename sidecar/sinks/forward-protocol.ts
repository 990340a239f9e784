// Fluent Forward protocol v1 (the one Fluentd and Fluent Bit's in_forward speak), client side:
// PackedForward messages with EventTime (msgpack ext type 0) and the `chunk` option that asks
// for an ack, plus the shared-key handshake (HELO / PING / PONG).
import { createHash, randomBytes } from 'node:crypto';
import { Encoder, ExtData } from '@msgpack/msgpack';
import { slabCopy } from '../payload-slabs.js';

export const EVENT_TIME_EXT = 0;

const encoder = new Encoder({ ignoreUndefined: true });

/** EventTime: seconds and nanoseconds, each a big-endian uint32. */
export function eventTime(iso: string | null | undefined, fallbackMs: number): ExtData {
  let ms = iso ? Date.parse(iso) : NaN;
  let nanos: number;
  if (Number.isNaN(ms)) {
    ms = fallbackMs;
    nanos = (ms % 1000) * 1e6;
  } else nanos = fractionNanos(iso!);
  const seconds = Math.floor(ms / 1000);
  // What DataView.setUint32 writes (both take the value modulo 2^32), without a DataView per record.
  const data = new Uint8Array(8);
  data[0] = seconds >>> 24;
  data[1] = seconds >>> 16;
  data[2] = seconds >>> 8;
  data[3] = seconds;
  data[4] = nanos >>> 24;
  data[5] = nanos >>> 16;
  data[6] = nanos >>> 8;
  data[7] = nanos;
  return new ExtData(EVENT_TIME_EXT, data);
}

/**
 * The first 9 digits after the first `.` followed by a digit, as nanoseconds: Date.parse keeps
 * milliseconds only, the record's time may carry µs (QEMU, journal) or ns (CRI).
 */
function fractionNanos(iso: string): number {
  let at = iso.indexOf('.') + 1;
  if (at === 0) return 0;
  if (!isDigit(iso.charCodeAt(at))) {
    const m = /\.(\d)/.exec(iso);
    if (!m) return 0;
    at = m.index + 1;
  }
  let nanos = 0;
  for (let i = 0; i < 9; i++) {
    const c = iso.charCodeAt(at);
    const digit = isDigit(c);
    nanos = nanos * 10 + (digit ? c - 48 : 0);
    if (digit) at++;
    else at = iso.length;
  }
  return nanos;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Length of a msgpack array header at `bytes[0]`. */
function arrayHeaderLength(bytes: Uint8Array): number {
  const b = bytes[0]!;
  if (b >= 0x90 && b <= 0x9f) return 1;
  if (b === 0xdc) return 3;
  if (b === 0xdd) return 5;
  throw new Error(`not a msgpack array (0x${b.toString(16)})`);
}

export interface TimedRecord {
  readonly time: string | null;
}

/** `[EventTime, record]` entries, concatenated: the body of a PackedForward message. */
export function forwardEntries(records: readonly TimedRecord[], now = Date.now()): Buffer {
  const entries = records.map((r) => [eventTime(r.time, now), r]);
  // One encode of the array, minus its header, is exactly the concatenated entries.
  const all = encoder.encodeSharedRef(entries);
  const header = arrayHeaderLength(all);
  return slabCopy(Buffer.from(all.buffer, all.byteOffset + header, all.length - header), all.length - header);
}

/**
 * `[tag, <entries>, {size, chunk}]` with the entries as msgpack bin (PackedForward mode), as the
 * parts to write one after the other: the entries (payload slabs) are not copied into one message.
 */
export function packedForward(tag: string, entries: readonly Uint8Array[], size: number, chunk: string): Uint8Array[] {
  const length = entries.reduce((n, e) => n + e.length, 0);
  const tagBytes = encoder.encode(tag);
  // fixarray of 3, the tag, then the smallest bin header for the length (what encode() would pick).
  const head = Buffer.allocUnsafe(1 + tagBytes.length + 5);
  head[0] = 0x93;
  head.set(tagBytes, 1);
  let at = 1 + tagBytes.length;
  if (length < 0x100) {
    head[at++] = 0xc4;
    head[at++] = length;
  } else if (length < 0x10000) {
    head[at++] = 0xc5;
    at = head.writeUInt16BE(length, at);
  } else {
    head[at++] = 0xc6;
    at = head.writeUInt32BE(length, at);
  }
  return [head.subarray(0, at), ...entries, encoder.encode({ size, chunk })];
}

export function newChunkId(): string {
  return randomBytes(16).toString('base64');
}

function sha512hex(...parts: (string | Uint8Array)[]): string {
  const hash = createHash('sha512');
  for (const p of parts) hash.update(p);
  return hash.digest('hex');
}

export interface Helo {
  readonly nonce: Uint8Array;
  /** Salt for user authentication; empty when the server has no users. */
  readonly auth: Uint8Array;
  readonly keepalive: boolean;
}

function bytesOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value);
  return new Uint8Array(0);
}

export function parseHelo(message: unknown): Helo {
  if (!Array.isArray(message) || message[0] !== 'HELO' || typeof message[1] !== 'object' || message[1] === null)
    throw new Error('expected HELO from the forward server');
  const options = message[1] as Record<string, unknown>;
  return { nonce: bytesOf(options['nonce']), auth: bytesOf(options['auth']), keepalive: options['keepalive'] !== false };
}

export interface Credentials {
  readonly sharedKey: string;
  readonly hostname: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
}

export function ping(helo: Helo, creds: Credentials, salt: Uint8Array = randomBytes(16)): { message: Uint8Array; salt: Uint8Array } {
  const username = creds.username ?? '';
  const passwordDigest = helo.auth.length ? sha512hex(helo.auth, username, creds.password ?? '') : '';
  const digest = sha512hex(salt, creds.hostname, helo.nonce, creds.sharedKey);
  return { message: encoder.encode(['PING', creds.hostname, salt, digest, username, passwordDigest]), salt };
}

/** Checks PONG: authentication accepted, and the server proved it knows the shared key. */
export function checkPong(message: unknown, helo: Helo, creds: Credentials, salt: Uint8Array): void {
  if (!Array.isArray(message) || message[0] !== 'PONG') throw new Error('expected PONG from the forward server');
  const [, ok, reason, serverHostname, digest] = message as [string, unknown, unknown, unknown, unknown];
  if (ok !== true) throw new Error(`forward server refused authentication: ${String(reason)}`);
  const expected = sha512hex(salt, String(serverHostname), helo.nonce, creds.sharedKey);
  if (digest !== expected) throw new Error('forward server does not know the shared key (PONG digest mismatch)');
}

/** The chunk id of an ack response `{ack: <chunk>}`, if `message` is one. */
export function ackOf(message: unknown): string | undefined {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) return undefined;
  const ack = (message as Record<string, unknown>)['ack'];
  return typeof ack === 'string' ? ack : undefined;
}
