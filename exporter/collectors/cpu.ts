// Whole-domain CPU time (the cpu-total group, from the host's cgroup accounting).
import { DomainState } from '../../libvirt/protocol.js';
import { Metrics } from '../catalogue.js';
import { fieldsOf, fieldValues, perDomainCollector, type FieldMetric } from './fields.js';
import type { Collector } from './types.js';

const CPU: readonly FieldMetric[] = [
  { metric: Metrics.cpuTime, field: 'cpu.time', unit: 'ns' },
  { metric: Metrics.cpuUser, field: 'cpu.user', unit: 'ns' },
  { metric: Metrics.cpuSystem, field: 'cpu.system', unit: 'ns' },
];

const FIELDS = fieldsOf('', CPU, 'state.state');
const STATE = FIELDS.slot('state.state');

/**
 * Only a domain with a QEMU process has CPU times. libvirt 9.0 answers the cpu-total group of a shut-off
 * domain anyway, with the CPU times of libvirtd itself (it reads /proc of pid 0, its own).
 */
function hasProcess(fields: typeof FIELDS): boolean {
  const state = fields.number(0, STATE);
  return state !== DomainState.SHUTOFF && state !== DomainState.CRASHED;
}

export const collectCpu: Collector = perDomainCollector(FIELDS, fieldValues(CPU), undefined, hasProcess);
