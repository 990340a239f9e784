// vCPU count and per-vCPU thread times (the vcpu group, or for running QEMU domains DOMAIN_GET_VCPUS); the
// threads' wait and delay only with --collector.vcpu-scheduling (exporter/collection.ts says why), and then
// wherever libvirt gives them, so that the series do not come and go with how a collection was made.
import { Metrics } from '../catalogue.js';
import { EntryIndex, fieldFamilies, fieldsOf, FirstSampleOrder, type FieldMetric } from './fields.js';
import type { Collector } from './types.js';

const DOMAIN: readonly FieldMetric[] = [{ metric: Metrics.infoVcpus, field: 'vcpu.current' }];

const TIME: FieldMetric = { metric: Metrics.vcpuTime, field: 'time', unit: 'ns' };
const SCHEDULING: readonly FieldMetric[] = [
  { metric: Metrics.vcpuWait, field: 'wait', unit: 'ns' },
  { metric: Metrics.vcpuDelay, field: 'delay', unit: 'ns' },
];

const DOMAIN_FIELDS = fieldsOf('', DOMAIN);
const WITH_SCHEDULING = { mappings: [TIME, ...SCHEDULING], fields: fieldsOf('vcpu', [TIME, ...SCHEDULING]) };
const TIME_ONLY = { mappings: [TIME], fields: fieldsOf('vcpu', [TIME]) };

export const collectVcpu: Collector = (snapshot) => {
  const { mappings: perVcpu, fields: vcpuFields } = snapshot.vcpuScheduling ? WITH_SCHEDULING : TIME_ONLY;
  const domains = new EntryIndex(DOMAIN_FIELDS, snapshot.domains);
  const vcpus = new EntryIndex(vcpuFields, snapshot.domains);
  const domainFamilies = fieldFamilies(domains, DOMAIN);
  const vcpuFamilies = fieldFamilies(vcpus, perVcpu, (row) => ({ vcpu: String(vcpus.index(row)) }));
  const order = new FirstSampleOrder(domainFamilies.length + vcpuFamilies.length);
  snapshot.domains.forEach((view, domain) => {
    DOMAIN_FIELDS.read(view.stats);
    order.saw(domainFamilies, domains.add(domain, 0));
    const count = vcpuFields.read(view.stats);
    for (let entry = 0; entry < count; entry++) order.saw(vcpuFamilies, vcpus.add(domain, entry));
  });
  return order.families;
};
