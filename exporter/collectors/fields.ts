// Shared plumbing of the collectors: copy libvirt fields into metrics, converting to base units.
import type { MetricDef } from '../catalogue.js';
import { numeric, text, type DomainView, type Fields } from '../domain-view.js';
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

/** Writes each mapped field that is present; libvirt omits what it cannot report, and so do we. */
export function putFields(out: MetricWriter, fields: Fields, mappings: readonly FieldMetric[], shared: Labels, own?: Labels): void {
  for (const { metric, field, unit } of mappings) {
    const value = numeric(fields.get(field));
    if (value !== undefined) out.put(metric, shared, toBaseUnit(value, unit), own);
  }
}

/**
 * A collector of an indexed device group (block, net): each entry's mapped fields, labelled `label` with
 * the entry's `name` field; an entry without a name cannot be told apart and is left out.
 */
export function perDeviceCollector(devices: (view: DomainView) => ReadonlyMap<string, Fields>, label: string, mappings: readonly FieldMetric[]): Collector {
  return (snapshot, out) => {
    for (const view of snapshot.domains) {
      for (const fields of devices(view).values()) {
        const name = text(fields.get('name'));
        if (name !== undefined) putFields(out, fields, mappings, view.labels, { [label]: name });
      }
    }
  };
}
