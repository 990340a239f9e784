// Assigned memory, memory usage and the balloon fields (the balloon group; sizes arrive in KiB).
import { Metrics } from '../catalogue.js';
import { fieldsOf, fieldValues, perDomainCollector, type FieldMetric } from './fields.js';
import type { Collector } from './types.js';

const BALLOON: readonly FieldMetric[] = [
  { metric: Metrics.infoMemory, field: 'balloon.maximum', unit: 'KiB' },
  { metric: Metrics.balloonCurrent, field: 'balloon.current', unit: 'KiB' },
  { metric: Metrics.balloonRss, field: 'balloon.rss', unit: 'KiB' },
  { metric: Metrics.balloonAvailable, field: 'balloon.available', unit: 'KiB' },
  { metric: Metrics.balloonUnused, field: 'balloon.unused', unit: 'KiB' },
  { metric: Metrics.balloonUsable, field: 'balloon.usable', unit: 'KiB' },
  { metric: Metrics.balloonDiskCaches, field: 'balloon.disk_caches', unit: 'KiB' },
  { metric: Metrics.balloonSwapIn, field: 'balloon.swap_in', unit: 'KiB' },
  { metric: Metrics.balloonSwapOut, field: 'balloon.swap_out', unit: 'KiB' },
  { metric: Metrics.balloonMajorFaults, field: 'balloon.major_fault' },
  { metric: Metrics.balloonMinorFaults, field: 'balloon.minor_fault' },
  { metric: Metrics.balloonHugetlbAllocations, field: 'balloon.hugetlb_pgalloc' },
  { metric: Metrics.balloonHugetlbFailures, field: 'balloon.hugetlb_pgfail' },
];

const FIELDS = fieldsOf('', BALLOON, 'balloon.last-update');

export const collectMemory: Collector = perDomainCollector(FIELDS, [
  ...fieldValues(BALLOON),
  // 0 means the guest never sent stats (libvirt reports it without a balloon driver).
  { metric: Metrics.balloonLastUpdate, kind: 'nonzero', slot: FIELDS.slot('balloon.last-update') },
  { metric: Metrics.memoryUsage, kind: 'difference', slot: FIELDS.slot('balloon.available'), minus: FIELDS.slot('balloon.usable'), unit: 'KiB' },
]);
