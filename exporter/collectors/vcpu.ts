// vCPU count and per-vCPU thread times (the vcpu group).
import { Metrics } from '../catalogue.js';
import { ColumnFamily, DOMAIN_ONLY, EntryIndex, fieldsOf, fieldValues, indexLabel, listFirstSamples, type FieldMetric } from './fields.js';
import type { Collector } from './types.js';

const DOMAIN: readonly FieldMetric[] = [{ metric: Metrics.infoVcpus, field: 'vcpu.current' }];

const PER_VCPU: readonly FieldMetric[] = [
  { metric: Metrics.vcpuTime, field: 'time', unit: 'ns' },
  { metric: Metrics.vcpuWait, field: 'wait', unit: 'ns' },
  { metric: Metrics.vcpuDelay, field: 'delay', unit: 'ns' },
];

const DOMAIN_FIELDS = fieldsOf('', DOMAIN);
const VCPU_FIELDS = fieldsOf('vcpu', PER_VCPU);
const DOMAIN_VALUES = fieldValues(DOMAIN);
const VCPU_VALUES = fieldValues(PER_VCPU);
const VCPU_LABEL = indexLabel('vcpu');

export const collectVcpu: Collector = (snapshot) => {
  const domains = new EntryIndex(DOMAIN_FIELDS, snapshot.domains);
  const vcpus = new EntryIndex(VCPU_FIELDS, snapshot.domains);
  const domainFamilies = DOMAIN_VALUES.map((value) => new ColumnFamily(value, domains, DOMAIN_ONLY));
  const vcpuFamilies = VCPU_VALUES.map((value) => new ColumnFamily(value, vcpus, VCPU_LABEL));
  const listed: ColumnFamily[] = [];
  const total = domainFamilies.length + vcpuFamilies.length;
  snapshot.domains.forEach((view, domain) => {
    DOMAIN_FIELDS.read(view.stats);
    listFirstSamples(listed, total, domainFamilies, domains.add(domain, 0));
    const count = VCPU_FIELDS.read(view.stats);
    for (let entry = 0; entry < count; entry++) listFirstSamples(listed, total, vcpuFamilies, vcpus.add(domain, entry));
  });
  return listed;
};
