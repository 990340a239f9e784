// Shared plumbing of the collectors: copy libvirt fields into metrics, converting to base units.
import type { MetricDef } from '../catalogue.js';
import { StatsFields } from '../../libvirt/domain-stats.js';
import type { Labels, MetricWriter } from '../exposition.js';
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

/** Writes each mapped field of `entry` of the record `fields` read last that is present; libvirt omits what it cannot report, and so do we. */
export function putFields(out: MetricWriter, fields: StatsFields, entry: number, mappings: readonly FieldMetric[], shared: Labels, own?: Labels): void {
  for (let slot = 0; slot < mappings.length; slot++) {
    const value = fields.number(entry, slot);
    if (value === undefined) continue;
    const { metric, unit } = mappings[slot]!;
    out.put(metric, shared, toBaseUnit(value, unit), own);
  }
}

/**
 * A collector of an indexed device group (block, net): each entry's mapped fields, labelled `label` with
 * the entry's `name` field; an entry without a name cannot be told apart and is left out.
 */
export function perDeviceCollector(group: string, label: string, mappings: readonly FieldMetric[]): Collector {
  const fields = fieldsOf(group, mappings, 'name');
  const nameSlot = fields.slot('name');
  return (snapshot, out) => {
    for (const view of snapshot.domains) {
      const entries = fields.read(view.stats);
      for (let entry = 0; entry < entries; entry++) {
        const name = fields.text(entry, nameSlot);
        if (name !== undefined) putFields(out, fields, entry, mappings, view.labels, { [label]: name });
      }
    }
  };
}
