// Per-interface traffic counters (the interface group), labelled with the host-side device name.
// libvirt reports them from the guest's point of view (rx = received by the guest).
import { Metrics } from '../catalogue.js';
import { perDeviceCollector, type FieldMetric } from './fields.js';
import type { Collector } from './types.js';

const PER_INTERFACE: readonly FieldMetric[] = [
  { metric: Metrics.netReceiveBytes, field: 'rx.bytes' },
  { metric: Metrics.netTransmitBytes, field: 'tx.bytes' },
  { metric: Metrics.netReceivePackets, field: 'rx.pkts' },
  { metric: Metrics.netTransmitPackets, field: 'tx.pkts' },
  { metric: Metrics.netReceiveErrors, field: 'rx.errs' },
  { metric: Metrics.netTransmitErrors, field: 'tx.errs' },
  { metric: Metrics.netReceiveDrops, field: 'rx.drop' },
  { metric: Metrics.netTransmitDrops, field: 'tx.drop' },
];

export const collectNet: Collector = perDeviceCollector('net', 'interface', PER_INTERFACE);
