// vCPU count and per-vCPU thread times (the vcpu group).
import { Metrics } from '../catalogue.js';
import { fieldsOf, putFields, type FieldMetric } from './fields.js';
import type { Collector } from './types.js';

const DOMAIN: readonly FieldMetric[] = [{ metric: Metrics.infoVcpus, field: 'vcpu.current' }];

const PER_VCPU: readonly FieldMetric[] = [
  { metric: Metrics.vcpuTime, field: 'time', unit: 'ns' },
  { metric: Metrics.vcpuWait, field: 'wait', unit: 'ns' },
  { metric: Metrics.vcpuDelay, field: 'delay', unit: 'ns' },
];

const DOMAIN_FIELDS = fieldsOf('', DOMAIN);
const VCPU_FIELDS = fieldsOf('vcpu', PER_VCPU);

export const collectVcpu: Collector = (snapshot, out) => {
  for (const view of snapshot.domains) {
    DOMAIN_FIELDS.read(view.stats);
    putFields(out, DOMAIN_FIELDS, 0, DOMAIN, view.labels);
    const vcpus = VCPU_FIELDS.read(view.stats);
    for (let entry = 0; entry < vcpus; entry++) putFields(out, VCPU_FIELDS, entry, PER_VCPU, view.labels, { vcpu: String(VCPU_FIELDS.index(entry)) });
  }
};
