// Whole-domain CPU time (the cpu-total group, from the host's cgroup accounting).
import { Metrics } from '../catalogue.js';
import { fieldsOf, fieldValues, perDomainCollector, type FieldMetric } from './fields.js';
import type { Collector } from './types.js';

const CPU: readonly FieldMetric[] = [
  { metric: Metrics.cpuTime, field: 'cpu.time', unit: 'ns' },
  { metric: Metrics.cpuUser, field: 'cpu.user', unit: 'ns' },
  { metric: Metrics.cpuSystem, field: 'cpu.system', unit: 'ns' },
];

export const collectCpu: Collector = perDomainCollector(fieldsOf('', CPU), fieldValues(CPU));
