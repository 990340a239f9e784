// One stats record of GET_ALL_DOMAIN_STATS, sorted once into domain-wide fields and the indexed
// groups (vcpu.<n>, block.<n>, net.<n>) so that each collector reads only what it needs.
import type { DomainRef, DomainStatsRecord, TypedParamValue } from '../libvirt/types.js';

export type Fields = ReadonlyMap<string, TypedParamValue>;

export type DomainLabels = Readonly<{ domain: string; uuid: string }> & Readonly<Record<string, string>>;

export function labelsOf(domain: DomainRef): DomainLabels {
  return Object.freeze({ domain: domain.name, uuid: domain.uuid });
}

export interface DomainView {
  readonly ref: DomainRef;
  /** The labels of every series of this domain, one object shared by all of them. */
  readonly labels: DomainLabels;
  /** Every field by its full name; collectors read those without an index here: `state.state`, `cpu.time`, `balloon.rss`, `vcpu.current`, … */
  readonly fields: Fields;
  /** `vcpu.<n>.<field>` by vCPU number (may be sparse after hot-unplug). */
  readonly vcpus: ReadonlyMap<string, Fields>;
  /** `block.<n>.<field>` by index. */
  readonly blocks: ReadonlyMap<string, Fields>;
  /** `net.<n>.<field>` by index; indices can have gaps (a NIC without a host device reports nothing). */
  readonly nets: ReadonlyMap<string, Fields>;
}

const INDEXED = ['vcpu', 'block', 'net'] as const;
type IndexedGroup = (typeof INDEXED)[number];
/** Shared by every view without an indexed group (most, with the test driver): no garbage per domain. */
const NONE: ReadonlyMap<string, Fields> = new Map();

/** `labels`: pass the domain's object of the previous scrape when it still fits, see seriesLabels (exposition.ts). */
export function viewOf(record: DomainStatsRecord, labels: DomainLabels = labelsOf(record.domain)): DomainView {
  const groups: Partial<Record<IndexedGroup, Map<string, Map<string, TypedParamValue>>>> = {};
  // forEach, not for-of: no [key, value] array per field; nothing is allocated for a field without an index.
  record.params.forEach((value, key) => {
    const group = indexedGroupOf(key);
    if (group === undefined) return;
    const dot = key.indexOf('.', group.length + 1);
    const index = dot > 0 ? key.slice(group.length + 1, dot) : '';
    if (!/^\d+$/.test(index)) return; // vcpu.current, block.count, net.count: domain-wide, read from `fields`
    const byIndex = (groups[group] ??= new Map());
    let entry = byIndex.get(index);
    if (!entry) byIndex.set(index, (entry = new Map()));
    entry.set(key.slice(dot + 1), value);
  });
  // The record's own map serves as `fields`: collectors look up names without an index, and those are in it.
  return { ref: record.domain, labels, fields: record.params, vcpus: groups.vcpu ?? NONE, blocks: groups.block ?? NONE, nets: groups.net ?? NONE };
}

function indexedGroupOf(key: string): IndexedGroup | undefined {
  for (const group of INDEXED) if (key.startsWith(group) && key.charCodeAt(group.length) === 0x2e) return group;
  return undefined;
}

/** A numeric field as a JS number (64-bit counters arrive as bigint); undefined when absent or not numeric. */
export function numeric(value: TypedParamValue | undefined): number | undefined {
  switch (typeof value) {
    case 'number':
      return value;
    case 'bigint':
      return Number(value);
    case 'boolean':
      return value ? 1 : 0;
    default:
      return undefined;
  }
}

export function text(value: TypedParamValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
