// Shared plumbing of the collectors: each builds, in one pass over a scrape's records, an index of where the
// fields it reads are in the stats columns; each of its families then reads its values through that index
// when the family is written, converting them to base units. No record is read once per family, and no
// sample exists before its family is written.
import type { MetricDef } from '../catalogue.js';
import { grown, numberAt, StatsFields, textAt } from '../../libvirt/domain-stats.js';
import type { DomainView } from '../domain-view.js';
import type { Family, Labels, SampleRun } from '../exposition.js';
import type { Snapshot } from '../snapshot.js';
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

  constructor(
    private readonly fields: StatsFields,
    private domains: readonly DomainView[],
  ) {
    this.width = fields.fields.length;
    const capacity = Math.max(1, domains.length);
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
    this.domainOf = this.domainOf.subarray(0, 0);
    this.indexes = this.indexes.subarray(0, 0);
    this.positions = this.positions.subarray(0, 0);
  }
}

/** A family of an index's rows: a sample for each row `value` gives a number for, labelled with the row's domain and `own`. */
export class EntryFamily implements Family {
  constructor(
    readonly def: MetricDef,
    readonly entries: EntryIndex,
    /** The row's value in base units; undefined when it has none. */
    readonly value: (row: number) => number | undefined,
    private readonly own?: (row: number) => Labels,
  ) {}

  get rows(): number {
    return this.entries.rows;
  }

  putRow(row: number, run: SampleRun): void {
    const value = this.value(row);
    if (value !== undefined) run.put(this.entries.view(row).labels, value, this.own?.(row));
  }

  release(): void {
    this.entries.release();
  }
}

/** A family per mapping: field `slot` (the mapping's position) of each row, in base units. */
export function fieldFamilies(entries: EntryIndex, mappings: readonly FieldMetric[], own?: (row: number) => Labels): EntryFamily[] {
  return mappings.map(({ metric, unit }, slot) => {
    const value = (row: number): number | undefined => {
      const raw = entries.number(row, slot);
      return raw === undefined ? undefined : toBaseUnit(raw, unit);
    };
    return new EntryFamily(metric, entries, value, own);
  });
}

/**
 * A collector's families in the order of their first sample, which is the order of the exposition: told each
 * row as the index grows, in the order the rows are listed, it lists a family at its first row with a sample.
 */
export class FirstSampleOrder {
  readonly families: EntryFamily[] = [];
  private readonly listed = new Set<EntryFamily>();

  constructor(private readonly total: number) {}

  /** The row `row` of `families`, which read the same index. */
  saw(families: readonly EntryFamily[], row: number): void {
    if (this.families.length === this.total) return;
    for (const family of families) {
      if (this.listed.has(family)) continue;
      const value = family.value(row);
      if (value === undefined || !Number.isFinite(value)) continue;
      this.listed.add(family);
      this.families.push(family);
    }
  }

}

/**
 * The families `familiesOf` makes of an index of every domain's fields that have no group index (cpu.time,
 * balloon.current: `fields` of group ''), in the order of their first sample.
 */
export function perDomainFamilies(snapshot: Snapshot, fields: StatsFields, familiesOf: (entries: EntryIndex) => EntryFamily[]): EntryFamily[] {
  const entries = new EntryIndex(fields, snapshot.domains);
  const families = familiesOf(entries);
  const order = new FirstSampleOrder(families.length);
  snapshot.domains.forEach((view, domain) => {
    fields.read(view.stats);
    order.saw(families, entries.add(domain, 0));
  });
  return order.families;
}

/**
 * A collector of an indexed device group (block, net): each entry's mapped fields, labelled `label` with
 * the entry's `name` field; an entry without a name cannot be told apart and is left out.
 */
export function perDeviceCollector(group: string, label: string, mappings: readonly FieldMetric[]): Collector {
  const fields = fieldsOf(group, mappings, 'name');
  const nameSlot = fields.slot('name');
  return (snapshot) => {
    const entries = new EntryIndex(fields, snapshot.domains);
    const families = fieldFamilies(entries, mappings, (row) => ({ [label]: entries.text(row, nameSlot)! }));
    const order = new FirstSampleOrder(families.length);
    snapshot.domains.forEach((view, domain) => {
      const count = fields.read(view.stats);
      for (let entry = 0; entry < count; entry++) {
        if (fields.text(entry, nameSlot) !== undefined) order.saw(families, entries.add(domain, entry));
      }
    });
    return order.families;
  };
}
