// A running domain's CPU and vCPU times added to its stats record under the names the cpu-total and vcpu stats
// groups give them, from DOMAIN_GET_CPU_STATS and DOMAIN_GET_VCPUS. libvirt answers those two from the cgroup
// and /proc without the domain's job; its cpu-total and vcpu groups read the same sources but also ask QEMU's
// monitor (query-stats, query-stats-schemas) for KVM figures no collector reads, which under load cost more
// than the times themselves. What the groups give and these calls do not: vcpu.maximum, vcpu.<n>.wait,
// vcpu.<n>.delay and the KVM figures.
import { Columns, NO_INDEX, STATS_KEYS, textAt } from './domain-stats.js';
import { TypedParamType } from './protocol.js';
import type { DomainCpuTotals, DomainStatsRecord, VcpuInfo } from './types.js';

/** A parameter to add: its key (group and field as STATS_KEYS has them), index, wire type and value. */
interface Added {
  readonly group: string;
  readonly field: string;
  readonly index: number;
  readonly type: number;
  readonly value: number;
}

/** `record` with the CPU and vCPU times that were read (undefined: that call failed) after its own parameters. */
export function withCpuTimes(record: DomainStatsRecord, totals: DomainCpuTotals | undefined, vcpus: readonly VcpuInfo[] | undefined): DomainStatsRecord {
  const added: Added[] = [];
  const total = (field: string, value: number | undefined): void => {
    if (value !== undefined) added.push({ group: '', field, index: NO_INDEX, type: TypedParamType.ULLONG, value });
  };
  total('cpu.time', totals?.cpuTimeNs);
  total('cpu.user', totals?.userTimeNs);
  total('cpu.system', totals?.systemTimeNs);
  if (vcpus) {
    // GET_VCPUS lists the online vCPUs only, as vcpu.current counts them.
    added.push({ group: '', field: 'vcpu.current', index: NO_INDEX, type: TypedParamType.UINT, value: vcpus.length });
    for (const vcpu of vcpus) {
      added.push({ group: 'vcpu', field: 'state', index: vcpu.number, type: TypedParamType.INT, value: vcpu.state });
      added.push({ group: 'vcpu', field: 'time', index: vcpu.number, type: TypedParamType.ULLONG, value: vcpu.cpuTimeNs });
    }
  }
  return added.length === 0 ? record : extended(record, added);
}

/** A copy of `record` in columns of its own, with `added` after its parameters. */
function extended(record: DomainStatsRecord, added: readonly Added[]): DomainStatsRecord {
  const { columns, first, end } = record;
  const copy = new Columns(end - first + added.length);
  for (let at = first; at < end; at++) {
    const text = textAt(columns, at);
    if (text !== undefined) copy.addText(columns.keys[at], columns.indexes[at]!, text);
    else copy.add(columns.keys[at], columns.indexes[at]!, columns.types[at]!, columns.values[at]!);
  }
  for (const param of added) copy.add(STATS_KEYS.idOf(param.group, param.field), param.index, param.type, param.value);
  return { domain: record.domain, columns: copy, first: 0, end: copy.length };
}
