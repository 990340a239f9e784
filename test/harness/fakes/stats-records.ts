// Stats records as libvirtd sends them: named typed parameters encoded as a GET_ALL_DOMAIN_STATS reply, and
// decoded by the client's own decoder for tests that start from readable records (virsh captures, tables).
import { readDomainStats } from '../../../libvirt/domain-stats.js';
import { Limits, TypedParamType } from '../../../libvirt/protocol.js';
import { writeDomain } from '../../../libvirt/structs.js';
import type { DomainRef, DomainStatsRecord } from '../../../libvirt/types.js';
import { XdrReader, XdrWriter } from '../../../libvirt/xdr.js';

/** A value as libvirt's C side has it: 64-bit integers as bigint. */
export type WireValue = number | bigint | string | boolean;
/** A typed parameter: name, wire type (TypedParamType), value. */
export type Param = readonly [name: string, type: number, value: WireValue];

export interface PlainStatsRecord {
  readonly domain: DomainRef;
  readonly params: ReadonlyMap<string, WireValue>;
}

/** The wire type libvirt would use for `value`: INT or UINT when it fits, ULLONG (LLONG if negative) for bigint. */
export function wireTypeOf(value: WireValue): number {
  switch (typeof value) {
    case 'string':
      return TypedParamType.STRING;
    case 'boolean':
      return TypedParamType.BOOLEAN;
    case 'bigint':
      return value < 0n ? TypedParamType.LLONG : TypedParamType.ULLONG;
    default:
      if (Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff) return TypedParamType.INT;
      if (Number.isInteger(value) && value >= 0 && value <= 0xffffffff) return TypedParamType.UINT;
      return TypedParamType.DOUBLE;
  }
}

export function writeParam(w: XdrWriter, [name, type, value]: Param): void {
  w.string(name, Limits.STRING_MAX);
  w.int(type);
  switch (type) {
    case TypedParamType.INT:
      w.int(value as number);
      break;
    case TypedParamType.UINT:
      w.uint(value as number);
      break;
    case TypedParamType.LLONG:
      w.hyper(value as bigint);
      break;
    case TypedParamType.ULLONG:
      w.uhyper(value as bigint);
      break;
    case TypedParamType.DOUBLE:
      w.double(value as number);
      break;
    case TypedParamType.BOOLEAN:
      w.int(value ? 1 : 0);
      break;
    default:
      w.string(value as string, Limits.STRING_MAX);
  }
}

/** One remote_domain_stats_record. */
export function writeStatsRecord(w: XdrWriter, domain: DomainRef, params: readonly Param[]): void {
  writeDomain(w, domain);
  w.uint(params.length);
  for (const p of params) writeParam(w, p);
}

/** `records` as the payload of a GET_ALL_DOMAIN_STATS reply. */
export function statsPayload(records: readonly PlainStatsRecord[]): Buffer {
  const w = new XdrWriter(Limits.MESSAGE_MAX);
  w.uint(records.length);
  for (const { domain, params } of records) writeStatsRecord(w, domain, [...params].map(([name, value]) => [name, wireTypeOf(value), value] as const));
  return w.finish();
}

/** `records` through the wire and the client's decoder: what the exporter gets from libvirtd for them. */
export function decodedStats(records: readonly PlainStatsRecord[]): DomainStatsRecord[] {
  const r = new XdrReader(statsPayload(records));
  const decoded = readDomainStats(r);
  r.end('stats records');
  return decoded;
}
