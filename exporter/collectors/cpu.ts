// Whole-domain CPU time (the cpu-total group, from the host's cgroup accounting).
import { Metrics } from '../catalogue.js';
import { fieldsOf, putFields, type FieldMetric } from './fields.js';
import type { Collector } from './types.js';

const CPU: readonly FieldMetric[] = [
  { metric: Metrics.cpuTime, field: 'cpu.time', unit: 'ns' },
  { metric: Metrics.cpuUser, field: 'cpu.user', unit: 'ns' },
  { metric: Metrics.cpuSystem, field: 'cpu.system', unit: 'ns' },
];

const FIELDS = fieldsOf('', CPU);

export const collectCpu: Collector = (snapshot, out) => {
  for (const view of snapshot.domains) {
    FIELDS.read(view.stats);
    putFields(out, FIELDS, 0, CPU, view.labels);
  }
};
