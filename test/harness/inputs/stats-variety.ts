// Stats records of every awkward shape the exposition must keep in its order and text: fields present in some
// domains and not others, first met in any order, indices with gaps, devices without a name, strings where
// numbers belong, NaN, infinities and values that overflow when converted, odd characters in names.
// Deterministic (a fixed seed), so the same records come out every time.
import type { PlainStatsRecord, WireValue } from '../fakes/stats-records.js';

const FLAT = [
  'state.state', 'state.reason', 'cpu.time', 'cpu.user', 'cpu.system', 'vcpu.current', 'vcpu.maximum', 'balloon.current', 'balloon.maximum',
  'balloon.rss', 'balloon.available', 'balloon.usable', 'balloon.unused', 'balloon.disk_caches', 'balloon.swap_in', 'balloon.swap_out',
  'balloon.major_fault', 'balloon.minor_fault', 'balloon.hugetlb_pgalloc', 'balloon.hugetlb_pgfail', 'balloon.last-update', 'block.count', 'net.count',
];
const PER_ENTRY: Readonly<Record<string, readonly string[]>> = {
  vcpu: ['state', 'time', 'wait', 'delay'],
  block: ['name', 'path', 'rd.reqs', 'rd.bytes', 'rd.times', 'wr.reqs', 'wr.bytes', 'wr.times', 'fl.reqs', 'fl.times', 'capacity'],
  net: ['name', 'rx.bytes', 'rx.pkts', 'rx.errs', 'rx.drop', 'tx.bytes', 'tx.pkts', 'tx.errs', 'tx.drop'],
};
const VALUES: readonly WireValue[] = [0, 1, 2, 7, 1e21, 1.5e-7, 123456789, Number.NaN, Number.POSITIVE_INFINITY, -3, 1.7e308, 'text', 4096, 2 ** 40, 9];

/** `count` domains of up to 40 parameters each, half without an index, half of vCPUs, disks and NICs 0–3. */
export function varietyRecords(count: number, seed = 42): PlainStatsRecord[] {
  let state = seed;
  const random = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const records: PlainStatsRecord[] = [];
  for (let d = 0; d < count; d++) {
    const params = new Map<string, WireValue>();
    const n = Math.floor(random() * 40);
    for (let i = 0; i < n; i++) {
      if (random() < 0.5) params.set(pick(FLAT), pick(VALUES));
      else {
        const group = pick(Object.keys(PER_ENTRY));
        const field = pick(PER_ENTRY[group]!);
        const index = Math.floor(random() * 4);
        params.set(`${group}.${index}.${field}`, field === 'name' ? (random() < 0.9 ? `dev"${index}\\${d % 3}` : 5) : pick(VALUES));
      }
    }
    const name = d % 7 === 0 ? `we"ird\\name\n${d}` : `vm${d}`;
    records.push({ domain: { name, uuid: `00000000-0000-4000-8000-${d.toString(16).padStart(12, '0')}`, id: d }, params });
  }
  return records;
}
