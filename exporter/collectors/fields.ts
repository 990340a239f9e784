// Shared plumbing of the collectors: each builds, in one pass over a scrape's records, an index of where the
// fields it reads are in the stats columns; each of its families then reads its values through that index
// when the family is written, converting them to base units. No record is read once per family, and no
// sample exists before its family is written.
import type { MetricDef } from '../catalogue.js';
import { grown, numberAt, StatsFields, textAt } from '../../libvirt/domain-stats.js';
import type { DomainView } from '../domain-view.js';
import { NO_LABELS, type Family, type Labels, type SampleRun } from '../exposition.js';
import type { Collector } from './types.js';

/** libvirt's units that are not Prometheus base units (seconds, bytes). */
export type Unit = 'ns' | 'KiB';

/** Into base units; dividing by 1e9 (not multiplying by 1e-9) keeps 240000000 ns exactly 0.24 s. */
export function toBaseUnit(value: number, unit: Unit | undefined): number {
  if (unit === 'ns') return value / 1e9;
  if (unit === 'KiB') return value * 1024;
  return value;
}

export interface FieldMetric {
  readonly metric: MetricDef;
  /** libvirt's field name, relative to the group entry for indexed groups (`rd.bytes` of `block.<n>.rd.bytes`). */
  readonly field: string;
  readonly unit?: Unit;
}

/** A reader of `mappings`' fields (slots 0 … mappings.length − 1), then of `extra` fields, of `group` ('' for names without index). */
export function fieldsOf(group: string, mappings: readonly FieldMetric[], ...extra: string[]): StatsFields {
  return new StatsFields(group, [...mappings.map((m) => m.field), ...extra]);
}

const NO_VIEWS: readonly DomainView[] = [];

/** The first room of an index of an indexed group (disks, NICs, vCPUs): it grows by doubling as entries come. */
export const GROUP_CAPACITY = 64;

/**
 * The entries of one group of every domain of a snapshot (a domain's own fields, or each of its disks, NICs or
 * vCPUs), one row each in the order their samples are listed: the row's domain, its group index, and where
 * each field `fields` reads is in the domain's stats columns (−1: absent). Typed arrays, a few bytes per field:
 * no object per entry.
 */
export class EntryIndex {
  rows = 0;
  private readonly width: number;
  private domainOf: Uint32Array;
  private indexes: Uint32Array;
  private positions: Int32Array;

  /** `capacity`: rows to make room for at first; one per domain for the fields without index, fewer for a group whose entries a host may not have. */
  constructor(
    private readonly fields: StatsFields,
    private domains: readonly DomainView[],
    capacity = Math.max(1, domains.length),
  ) {
    this.width = fields.fields.length;
    this.domainOf = new Uint32Array(capacity);
    this.indexes = new Uint32Array(capacity);
    this.positions = new Int32Array(capacity * this.width);
  }

  /** Adds entry `entry` of the record `fields` read last, the record of domain `domain`; returns its row. */
  add(domain: number, entry: number): number {
    const row = this.rows++;
    const width = this.width;
    if (this.domainOf.length < this.rows) {
      this.domainOf = grown(this.domainOf, this.rows);
      this.indexes = grown(this.indexes, this.rows);
    }
    if (this.positions.length < this.rows * width) this.positions = grown(this.positions, this.rows * width);
    this.domainOf[row] = domain;
    this.indexes[row] = this.fields.index(entry);
    for (let slot = 0; slot < width; slot++) this.positions[row * width + slot] = this.fields.position(entry, slot);
    return row;
  }

  /** The domain of `row`. */
  view(row: number): DomainView {
    return this.domains[this.domainOf[row]!]!;
  }

  /** The group index of `row`. */
  index(row: number): number {
    return this.indexes[row]!;
  }

  /** Field `slot` of `row`, if present and a number. */
  number(row: number, slot: number): number | undefined {
    const at = this.positions[row * this.width + slot]!;
    return at < 0 ? undefined : numberAt(this.view(row).stats.columns, at);
  }

  /** Field `slot` of `row`, if present and a string. */
  text(row: number, slot: number): string | undefined {
    const at = this.positions[row * this.width + slot]!;
    return at < 0 ? undefined : textAt(this.view(row).stats.columns, at);
  }

  /** Lets go of the rows and of the snapshot, once every family reading them is written. */
  release(): void {
    this.rows = 0;
    this.domains = NO_VIEWS;
    // New empty arrays: a subarray would keep the whole buffer.
    this.domainOf = new Uint32Array(0);
    this.indexes = new Uint32Array(0);
    this.positions = new Int32Array(0);
  }
}

/**
 * How a row of an index gets the labels of its series: one object per collector. `shared` are labels that stay
 * the same scrape after scrape (the domain's), an object prom-client formats once (exposition.ts); `own` are
 * the series' own (the vcpu, the device, …), formatted for each sample and written before the shared ones.
 */
export interface RowLabels {
  shared(entries: EntryIndex, row: number): Labels;
  own(entries: EntryIndex, row: number): Labels;
}

const domainLabels = (entries: EntryIndex, row: number): Labels => entries.view(row).labels;

/** No labels of its own: the domain's are all. */
export const DOMAIN_ONLY: RowLabels = { shared: domainLabels, own: () => NO_LABELS };

/** `label` is the entry's group index (`vcpu="0"`). */
export function indexLabel(label: string): RowLabels {
  return { shared: domainLabels, own: (entries, row) => ({ [label]: String(entries.index(row)) }) };
}

/** `label` is the entry's field `slot`, a string (`device="vda"`): rows without it are not added to the index. */
export function nameLabel(label: string, slot: number): RowLabels {
  return { shared: domainLabels, own: (entries, row) => ({ [label]: entries.text(row, slot)! }) };
}

/**
 * What a family's value of a row is: field `slot` in base units ('field'); 1 when field `slot` is present
 * ('present'); field `slot` unless it is 0 ('nonzero'); field `slot` minus field `minus`, in base units
 * ('difference'). A row without the fields has no sample.
 */
export interface RowValue {
  readonly metric: MetricDef;
  readonly kind: 'field' | 'present' | 'nonzero' | 'difference';
  readonly slot: number;
  readonly minus?: number;
  readonly unit?: Unit;
}

/** The values of mapped fields, one per mapping: `mappings[i]` is field slot i. */
export function fieldValues(mappings: readonly FieldMetric[]): RowValue[] {
  return mappings.map(({ metric, unit }, slot) => ({ metric, kind: 'field', slot, unit }));
}

/**
 * A family of an index's rows: a sample for each row that has a value, labelled with the row's domain and
 * `labels`. One class for every family read from the columns, so that the code that makes the samples sees
 * one shape of family, and none of its objects is made anew per scrape but the family and its index.
 */
export class ColumnFamily implements Family {
  readonly def: MetricDef;

  constructor(
    private readonly spec: RowValue,
    readonly entries: EntryIndex,
    private readonly labels: RowLabels,
  ) {
    this.def = spec.metric;
  }

  get rows(): number {
    return this.entries.rows;
  }

  /** The value of `row`, undefined when it has none. */
  value(row: number): number | undefined {
    const { kind, slot, unit } = this.spec;
    const value = this.entries.number(row, slot);
    if (value === undefined) return undefined;
    switch (kind) {
      case 'field':
        return toBaseUnit(value, unit);
      case 'present':
        return 1;
      case 'nonzero':
        return value || undefined;
      case 'difference': {
        const minus = this.entries.number(row, this.spec.minus!);
        return minus === undefined ? undefined : toBaseUnit(value - minus, unit);
      }
    }
  }

  putRows(row: number, run: SampleRun): number {
    const { entries, labels } = this;
    for (; row < entries.rows && !run.full; row++) {
      const value = this.value(row);
      if (value !== undefined) run.put(labels.shared(entries, row), value, labels.own(entries, row));
    }
    return row;
  }

  release(): void {
    this.entries.release();
  }
}

/**
 * Lists `families`, which read the same index, in `listed` at their first sample: told each row as the index
 * grows, in the order the rows are listed, `listed` ends up in the order of the exposition. Arrays only, no
 * object of its own: nothing of it outlives the scrape (runtime/heap.ts says why that matters).
 */
export function listFirstSamples(listed: ColumnFamily[], total: number, families: readonly ColumnFamily[], row: number): void {
  if (listed.length === total) return;
  for (const family of families) {
    if (listed.includes(family)) continue;
    const value = family.value(row);
    if (value !== undefined && Number.isFinite(value)) listed.push(family);
  }
}

/**
 * A collector of the fields of a domain that have no group index (cpu.time, balloon.current: `fields` of
 * group ''): a family per value, each row labelled as `labels` says; only the domains `included` accepts
 * (asked with the domain's record read).
 */
export function perDomainCollector(
  fields: StatsFields,
  values: readonly RowValue[],
  labels: RowLabels = DOMAIN_ONLY,
  included: (fields: StatsFields) => boolean = () => true,
): Collector {
  return (snapshot) => {
    const entries = new EntryIndex(fields, snapshot.domains);
    const families = values.map((value) => new ColumnFamily(value, entries, labels));
    const listed: ColumnFamily[] = [];
    snapshot.domains.forEach((view, domain) => {
      fields.read(view.stats);
      // A domain with none of the fields (a shut-off one, a test driver's) has no sample here: no row to visit per family.
      if (!fields.anyPresent(0) || !included(fields)) return;
      listFirstSamples(listed, families.length, families, entries.add(domain, 0));
    });
    return listed;
  };
}

/**
 * A collector of an indexed device group (block, net): each entry's mapped fields, labelled `label` with
 * the entry's `name` field; an entry without a name cannot be told apart and is left out.
 */
export function perDeviceCollector(group: string, label: string, mappings: readonly FieldMetric[]): Collector {
  const fields = fieldsOf(group, mappings, 'name');
  const nameSlot = fields.slot('name');
  const labels = nameLabel(label, nameSlot);
  const values = fieldValues(mappings);
  return (snapshot) => {
    const entries = new EntryIndex(fields, snapshot.domains, GROUP_CAPACITY);
    const families = values.map((value) => new ColumnFamily(value, entries, labels));
    const listed: ColumnFamily[] = [];
    snapshot.domains.forEach((view, domain) => {
      const count = fields.read(view.stats);
      for (let entry = 0; entry < count; entry++) {
        if (fields.text(entry, nameSlot) !== undefined) listFirstSamples(listed, families.length, families, entries.add(domain, entry));
      }
    });
    return listed;
  };
}
