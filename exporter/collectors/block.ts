// Per-disk I/O counters and latency (the block group), labelled with the disk's target name.
import { Metrics } from '../catalogue.js';
import { perDeviceCollector, type FieldMetric } from './fields.js';
import type { Collector } from './types.js';

const PER_DISK: readonly FieldMetric[] = [
  { metric: Metrics.blockReadBytes, field: 'rd.bytes' },
  { metric: Metrics.blockWriteBytes, field: 'wr.bytes' },
  { metric: Metrics.blockReadRequests, field: 'rd.reqs' },
  { metric: Metrics.blockWriteRequests, field: 'wr.reqs' },
  { metric: Metrics.blockFlushRequests, field: 'fl.reqs' },
  { metric: Metrics.blockReadTime, field: 'rd.times', unit: 'ns' },
  { metric: Metrics.blockWriteTime, field: 'wr.times', unit: 'ns' },
  { metric: Metrics.blockFlushTime, field: 'fl.times', unit: 'ns' },
];

export const collectBlock: Collector = perDeviceCollector('block', 'device', PER_DISK);
