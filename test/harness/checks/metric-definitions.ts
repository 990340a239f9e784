// Every metric libvirt-telemetry serves, read from the code that defines it: the exporter's catalogue,
// the sidecar's and the HA agent's prom-client registries (process metrics included).
import { Metrics as ExporterMetrics } from '../../../exporter/catalogue.js';
import { createMetrics as createSidecarMetrics } from '../../../sidecar/metrics.js';
import { AgentMetrics } from '../../../events/metrics.js';

export interface MetricDefinition {
  readonly name: string;
  readonly type: string;
  readonly labels: readonly string[];
  readonly role: 'exporter' | 'sidecar' | 'events';
}

interface PromClientMetric {
  name: string;
  labelNames?: readonly string[];
  constructor: { name: string };
}

function fromRegistry(role: MetricDefinition['role'], metrics: PromClientMetric[]): MetricDefinition[] {
  return metrics.map((m) => ({ name: m.name, type: m.constructor.name.toLowerCase(), labels: [...(m.labelNames ?? [])], role }));
}

export function metricDefinitions(): Map<string, MetricDefinition> {
  const all: MetricDefinition[] = [
    ...Object.values(ExporterMetrics).map((m) => ({ name: m.name, type: m.type, labels: m.labels, role: 'exporter' as const })),
    ...fromRegistry('sidecar', createSidecarMetrics().registry.getMetricsAsArray() as unknown as PromClientMetric[]),
    ...fromRegistry('events', new AgentMetrics().registry.getMetricsAsArray() as unknown as PromClientMetric[]),
  ];
  return new Map(all.map((m) => [m.name, m]));
}

/** The series names a metric exposes (a histogram: _bucket, _sum, _count). */
export function seriesNames(m: MetricDefinition): string[] {
  return m.type === 'histogram' ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name];
}
