// Turns `virsh domstats --raw` output (the captures in test/fixtures/samples/real/) into stats records with the
// wire types libvirt uses (INT/UINT → number, ULLONG → bigint, STRING → string), and into the records the
// libvirt client decodes from them.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sample } from '../inputs/samples.js';
import type { DomainStatsRecord } from '../../../libvirt/types.js';
import { decodedStats, type PlainStatsRecord, type WireValue } from '../fakes/stats-records.js';

/** A stable made-up uuid for a domain name (the captures do not show uuids). */
export function uuidFor(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

// Fields libvirt sends as 32-bit INT/UINT; every other integer field is a ULLONG.
const SMALL_INT = /^(state\.(state|reason)|vcpu\.(current|maximum|\d+\.state)|(net|block|cpu\.cache\.monitor)\.count|block\.\d+\.backingIndex|dirtyrate\.(calc_status|calc_period))$/;

function typed(key: string, raw: string): WireValue {
  if (!/^-?\d+$/.test(raw)) return raw;
  if (/\.(name|path)$/.test(key)) return raw;
  return SMALL_INT.test(key) ? Number(raw) : BigInt(raw);
}

export function parseDomstats(text: string): PlainStatsRecord[] {
  const records: PlainStatsRecord[] = [];
  let params: Map<string, WireValue> | undefined;
  for (const line of text.split('\n')) {
    const header = /^Domain: '(.*)'$/.exec(line);
    if (header) {
      params = new Map();
      records.push({ domain: { name: header[1]!, uuid: uuidFor(header[1]!), id: records.length + 1 }, params });
      continue;
    }
    const field = /^\s+([^=]+)=(.*)$/.exec(line);
    if (field && params) params.set(field[1]!, typed(field[1]!, field[2]!));
  }
  return records;
}

/** A capture's records as the client decodes them from libvirtd's reply. */
export function sampleRecords(file: string): DomainStatsRecord[] {
  return decodedStats(parseDomstats(readFileSync(sample(`real/${file}`), 'utf8')));
}
