// Codecs of the structs shared by many procedures (reference §3.4, §5.1).
import { LibvirtError } from './errors.js';
import { BytesTable, sameText } from './intern.js';
import { Limits } from './protocol.js';
import type { DomainRef } from './types.js';
import type { XdrReader, XdrWriter } from './xdr.js';

/** Smallest wire size of a remote_nonnull_domain: empty name (4) + uuid (16) + id (4). */
export const DOMAIN_MIN_BYTES = 24;

const UUID_TEXT = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Raw 16 UUID bytes (at `at` in `bytes`) → canonical lower-case text. Decoded once per UUID (DOMAIN_UUIDS below). */
export function uuidToString(bytes: Uint8Array, at = 0): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset + at, Limits.UUID_BYTES).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** UUID text (with or without dashes) → 16 raw bytes. */
export function uuidToBytes(uuid: string): Buffer {
  if (!UUID_TEXT.test(uuid)) throw new TypeError(`not a UUID: '${uuid}'`);
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

/**
 * Domain names and UUIDs come again in every reply: each kept once (intern.ts). Bounded: at most DOMAINS_KEPT
 * entries of at most 256 bytes per table (a domain name may be longer; it is then decoded). A table that starts
 * over when full misses on every domain of a host with more domains than that, scrape after scrape: room for
 * the largest hosts, and a few thousand more.
 */
const DOMAINS_KEPT = 16_384;
const DOMAIN_NAMES = new BytesTable<string>(DOMAINS_KEPT, 256);
const DOMAIN_UUIDS = new BytesTable<string>(DOMAINS_KEPT, Limits.UUID_BYTES);

/** How many domains' UUIDs are kept decoded (what a table that starts over too soon would show: fewer than the host's domains). */
export function domainsKept(): number {
  return DOMAIN_UUIDS.size;
}

const internedUuid = (bytes: Uint8Array, at: number): string => DOMAIN_UUIDS.get(bytes, at, Limits.UUID_BYTES, uuidToString, sameText);

export function readDomain(r: XdrReader): DomainRef {
  const name = r.internedString(Limits.STRING_MAX, DOMAIN_NAMES, 'domain name');
  const uuid = r.opaqueFixedWith(Limits.UUID_BYTES, internedUuid, 'domain uuid');
  const id = r.int('domain id');
  return { name, uuid, id };
}

export function writeDomain(w: XdrWriter, domain: DomainRef): void {
  w.string(domain.name, Limits.STRING_MAX);
  w.opaqueFixed(uuidToBytes(domain.uuid), Limits.UUID_BYTES);
  w.int(domain.id);
}

/** remote_error (§3.4) → LibvirtError. Only the fields a caller can use are kept. */
export function readRemoteError(r: XdrReader): LibvirtError {
  const code = r.int('error code');
  const domain = r.int('error domain');
  const message = r.optional((x) => x.string(Limits.STRING_MAX, 'error message'), 'error message');
  const level = r.int('error level');
  r.optional(readDomain, 'error dom');
  for (const what of ['error str1', 'error str2', 'error str3']) r.optional((x) => x.string(Limits.STRING_MAX, what), what);
  r.int('error int1');
  r.int('error int2');
  r.optional((x) => {
    x.string(Limits.STRING_MAX, 'error network name');
    x.opaqueFixed(Limits.UUID_BYTES, 'error network uuid');
  }, 'error net');
  r.end('remote_error');
  return new LibvirtError(message ?? `libvirt error ${code} (domain ${domain})`, code, domain, level);
}
