// A running domain's CPU and vCPU times added to its stats record under the names the cpu-total and vcpu stats
// groups give them, from DOMAIN_GET_CPU_STATS and DOMAIN_GET_VCPUS. libvirt answers those two from the cgroup
// and /proc without the domain's job; its cpu-total and vcpu groups read the same sources but also ask QEMU's
// monitor (query-stats, query-stats-schemas) for KVM figures no collector reads, which under load cost more
// than the times themselves. What the groups give and these calls do not: vcpu.maximum, vcpu.<n>.wait,
// vcpu.<n>.delay and the KVM figures.
import { NO_INDEX, STATS_KEYS } from './domain-stats.js';
import { TypedParamType } from './protocol.js';
import type { DomainCpuTotals, DomainStatsRecord, StatsColumns, VcpuInfo } from './types.js';

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
  const size = end - first + added.length;
  const copy = { keys: new Uint16Array(size), indexes: new Uint32Array(size), types: new Uint8Array(size), values: new Float64Array(size), strings: [] as string[] };
  copy.keys.set(columns.keys.subarray(first, end));
  copy.indexes.set(columns.indexes.subarray(first, end));
  copy.types.set(columns.types.subarray(first, end));
  copy.values.set(columns.values.subarray(first, end));
  // A STRING's value is its position in the columns' strings.
  for (let at = 0; at < end - first; at++) {
    if (copy.types[at] === TypedParamType.STRING) copy.values[at] = copy.strings.push(columns.strings[copy.values[at]!]!) - 1;
  }
  let length = end - first;
  for (const param of added) {
    const key = STATS_KEYS.idOf(param.group, param.field);
    if (key === undefined) {
      STATS_KEYS.left++;
      continue;
    }
    copy.keys[length] = key;
    copy.indexes[length] = param.index;
    copy.types[length] = param.type;
    copy.values[length] = param.value;
    length++;
  }
  const result: StatsColumns = copy;
  return { domain: record.domain, columns: result, first: 0, end: length };
}
