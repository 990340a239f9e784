// vCPU count and per-vCPU thread times (the vcpu group, or for running QEMU domains DOMAIN_GET_VCPUS); the
// threads' wait and delay only with --collector.vcpu-scheduling (exporter/collection.ts says why), and then
// wherever libvirt gives them, so that the series do not come and go with how a collection was made.
import { Metrics } from '../catalogue.js';
import { ColumnFamily, DOMAIN_ONLY, EntryIndex, fieldsOf, fieldValues, GROUP_CAPACITY, indexLabel, listFirstSamples, type FieldMetric } from './fields.js';
import type { Collector } from './types.js';

const DOMAIN: readonly FieldMetric[] = [{ metric: Metrics.infoVcpus, field: 'vcpu.current' }];

const TIME: FieldMetric = { metric: Metrics.vcpuTime, field: 'time', unit: 'ns' };
const SCHEDULING: readonly FieldMetric[] = [
  { metric: Metrics.vcpuWait, field: 'wait', unit: 'ns' },
  { metric: Metrics.vcpuDelay, field: 'delay', unit: 'ns' },
];

const DOMAIN_FIELDS = fieldsOf('', DOMAIN);
const DOMAIN_VALUES = fieldValues(DOMAIN);
const VCPU_LABEL = indexLabel('vcpu');
/** The per-vCPU fields read and their values, with and without the threads' wait and delay. */
const perVcpu = (mappings: readonly FieldMetric[]) => ({ fields: fieldsOf('vcpu', mappings), values: fieldValues(mappings) });
const WITH_SCHEDULING = perVcpu([TIME, ...SCHEDULING]);
const TIME_ONLY = perVcpu([TIME]);

export const collectVcpu: Collector = (snapshot) => {
  const { fields: vcpuFields, values: vcpuValues } = snapshot.vcpuScheduling ? WITH_SCHEDULING : TIME_ONLY;
  const domains = new EntryIndex(DOMAIN_FIELDS, snapshot.domains);
  const vcpus = new EntryIndex(vcpuFields, snapshot.domains, GROUP_CAPACITY);
  const domainFamilies = DOMAIN_VALUES.map((value) => new ColumnFamily(value, domains, DOMAIN_ONLY));
  const vcpuFamilies = vcpuValues.map((value) => new ColumnFamily(value, vcpus, VCPU_LABEL));
  const listed: ColumnFamily[] = [];
  const total = domainFamilies.length + vcpuFamilies.length;
  snapshot.domains.forEach((view, domain) => {
    DOMAIN_FIELDS.read(view.stats);
    if (DOMAIN_FIELDS.anyPresent(0)) listFirstSamples(listed, total, domainFamilies, domains.add(domain, 0));
    const count = vcpuFields.read(view.stats);
    for (let entry = 0; entry < count; entry++) listFirstSamples(listed, total, vcpuFamilies, vcpus.add(domain, entry));
  });
  return listed;
};
