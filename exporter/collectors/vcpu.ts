// vCPU count and per-vCPU thread times (the vcpu group).
import { Metrics } from '../catalogue.js';
import { EntryIndex, fieldFamilies, fieldsOf, FirstSampleOrder, type FieldMetric } from './fields.js';
import type { Collector } from './types.js';

const DOMAIN: readonly FieldMetric[] = [{ metric: Metrics.infoVcpus, field: 'vcpu.current' }];

const PER_VCPU: readonly FieldMetric[] = [
  { metric: Metrics.vcpuTime, field: 'time', unit: 'ns' },
  { metric: Metrics.vcpuWait, field: 'wait', unit: 'ns' },
  { metric: Metrics.vcpuDelay, field: 'delay', unit: 'ns' },
];

const DOMAIN_FIELDS = fieldsOf('', DOMAIN);
const VCPU_FIELDS = fieldsOf('vcpu', PER_VCPU);

export const collectVcpu: Collector = (snapshot) => {
  const domains = new EntryIndex(DOMAIN_FIELDS, snapshot.domains);
  const vcpus = new EntryIndex(VCPU_FIELDS, snapshot.domains);
  const domainFamilies = fieldFamilies(domains, DOMAIN);
  const vcpuFamilies = fieldFamilies(vcpus, PER_VCPU, (row) => ({ vcpu: String(vcpus.index(row)) }));
  const order = new FirstSampleOrder(domainFamilies.length + vcpuFamilies.length);
  snapshot.domains.forEach((view, domain) => {
    DOMAIN_FIELDS.read(view.stats);
    order.saw(domainFamilies, domains.add(domain, 0));
    const count = VCPU_FIELDS.read(view.stats);
    for (let entry = 0; entry < count; entry++) order.saw(vcpuFamilies, vcpus.add(domain, entry));
  });
  return order.families;
};
