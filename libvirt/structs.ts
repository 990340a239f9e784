// Codecs of the structs shared by many procedures (reference §3.4, §5.1).
import { LibvirtError, ProtocolError } from './errors.js';
import { StringInterner } from './intern.js';
import { Limits, TypedParamType } from './protocol.js';
import type { DomainRef, TypedParams, TypedParamValue } from './types.js';
import type { XdrReader, XdrWriter } from './xdr.js';

/** Smallest wire size of a remote_nonnull_domain: empty name (4) + uuid (16) + id (4). */
export const DOMAIN_MIN_BYTES = 24;
/** Smallest wire size of a remote_typed_param: empty name (4) + type (4) + 4-byte arm. */
export const TYPED_PARAM_MIN_BYTES = 12;
/** libvirt's client copies names into char[VIR_TYPED_PARAM_FIELD_LENGTH = 80]; longer ones are refused. */
const TYPED_PARAM_NAME_MAX = 79;

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
 * Domain names and UUIDs come again in every reply, parameter names in every record: each kept once (intern.ts).
 * Bounded: at most 4096 entries of at most 256 bytes per table (a domain name may be longer; it is then decoded).
 */
const DOMAIN_NAMES = new StringInterner(4096, 256);
const DOMAIN_UUIDS = new StringInterner(4096, Limits.UUID_BYTES);
const PARAM_NAMES = new StringInterner(4096, TYPED_PARAM_NAME_MAX);

const internedUuid = (bytes: Uint8Array, at: number): string => DOMAIN_UUIDS.get(bytes, at, Limits.UUID_BYTES, uuidToString);

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

function readTypedParamValue(r: XdrReader, field: string): TypedParamValue {
  const type = r.int('typed param type');
  switch (type) {
    case TypedParamType.INT:
      return r.int(field);
    case TypedParamType.UINT:
      return r.uint(field);
    case TypedParamType.LLONG:
      return r.hyper(field);
    case TypedParamType.ULLONG:
      return r.uhyper(field);
    case TypedParamType.DOUBLE:
      return r.double(field);
    case TypedParamType.BOOLEAN:
      return r.int(field) !== 0;
    case TypedParamType.STRING:
      return r.string(Limits.STRING_MAX, field);
    default:
      // The arm's size is unknown, so nothing after it can be decoded.
      throw new ProtocolError(`typed param '${field}': unknown type ${type}`);
  }
}

/** remote_typed_param<max> → Map in wire order. */
export function readTypedParams(r: XdrReader, max: number): TypedParams {
  const params: TypedParams = new Map();
  r.array(max, TYPED_PARAM_MIN_BYTES, () => {
    const field = r.internedString(TYPED_PARAM_NAME_MAX, PARAM_NAMES, 'typed param name');
    params.set(field, readTypedParamValue(r, field));
  }, 'typed params');
  return params;
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
