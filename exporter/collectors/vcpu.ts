// vCPU count and per-vCPU thread times (the vcpu group).
import { Metrics } from '../catalogue.js';
import { putFields, type FieldMetric } from './fields.js';
import type { Collector } from './types.js';

const DOMAIN: readonly FieldMetric[] = [{ metric: Metrics.infoVcpus, field: 'vcpu.current' }];

const PER_VCPU: readonly FieldMetric[] = [
  { metric: Metrics.vcpuTime, field: 'time', unit: 'ns' },
  { metric: Metrics.vcpuWait, field: 'wait', unit: 'ns' },
  { metric: Metrics.vcpuDelay, field: 'delay', unit: 'ns' },
];

export const collectVcpu: Collector = (snapshot, out) => {
  for (const view of snapshot.domains) {
    putFields(out, view.fields, DOMAIN, view.labels);
    for (const [vcpu, fields] of view.vcpus) putFields(out, fields, PER_VCPU, view.labels, { vcpu });
  }
};
