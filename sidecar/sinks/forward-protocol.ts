// Fluent Forward protocol v1 (the one Fluentd and Fluent Bit's in_forward speak), client side:
// PackedForward messages (their entries are encoded by sidecar/encodings.ts) with the `chunk`
// option that asks for an ack, plus the shared-key handshake (HELO / PING / PONG).
import { createHash, randomBytes } from 'node:crypto';
import { Encoder } from '@msgpack/msgpack';

const encoder = new Encoder({ ignoreUndefined: true });

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
