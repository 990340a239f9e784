// Turns collected values into the exposition format through a prom-client registry built fresh for each
// scrape: nothing outlives a scrape, so a gone domain leaves no series behind, and overlapping scrapes
// never mutate each other's metrics (prom-client also renames counters in place for OpenMetrics).
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { MetricDef } from './catalogue.js';

// Only the three classes used, not prom-client's index: that one also loads the cluster aggregator, the
// Pushgateway client and the default process metrics, ~9 MiB of resident memory for nothing.
const require = createRequire(import.meta.url);
const Registry = require('prom-client/lib/registry.js') as typeof PromClient.Registry;
const Counter = require('prom-client/lib/counter.js') as typeof PromClient.Counter;
const Gauge = require('prom-client/lib/gauge.js') as typeof PromClient.Gauge;
type Registry<T extends PromClient.RegistryContentType> = PromClient.Registry<T>;
type Counter = PromClient.Counter;
type Gauge = PromClient.Gauge;

export type Labels = Record<string, string>;

/** Where collectors put their samples. */
export interface MetricWriter {
  put(def: MetricDef, labels: Labels, value: number): void;
}

export const PROMETHEUS_TEXT = Registry.PROMETHEUS_CONTENT_TYPE;
export const OPENMETRICS_TEXT = Registry.OPENMETRICS_CONTENT_TYPE;
export type ContentType = typeof PROMETHEUS_TEXT | typeof OPENMETRICS_TEXT;

export class RegistryWriter implements MetricWriter {
  readonly registry: Registry<ContentType>;
  private readonly families = new Map<string, Gauge | Counter>();

  constructor(contentType: ContentType = PROMETHEUS_TEXT) {
    this.registry = new Registry<ContentType>();
    this.registry.setContentType(contentType);
  }

  put(def: MetricDef, labels: Labels, value: number): void {
    if (!Number.isFinite(value)) return;
    let family = this.families.get(def.name);
    if (!family) {
      const config = { name: def.name, help: def.help, labelNames: def.labels, registers: [this.registry] };
      family = def.type === 'counter' ? new Counter(config) : new Gauge(config);
      this.families.set(def.name, family);
    }
    if (family instanceof Counter) family.inc(labels, value);
    else family.set(labels, value);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * Picks the exposition format from an Accept header by q-value: OpenMetrics 1.0.0 when the client prefers it
 * (Prometheus does), the classic text format otherwise — also for a missing, empty or unparsable header.
 */
export function negotiate(accept: string | undefined): ContentType {
  let best: { type: ContentType; q: number } = { type: PROMETHEUS_TEXT, q: -1 };
  for (const range of (accept ?? '').split(',')) {
    const [mediaRange, ...params] = range.split(';').map((s) => s.trim().toLowerCase());
    let q = 1;
    let version: string | undefined;
    for (const param of params) {
      const [key, raw] = param.split('=', 2).map((s) => s.trim());
      if (key === 'q') q = raw !== undefined && /^[01](\.\d{0,3})?$/.test(raw) ? Number(raw) : 0;
      if (key === 'version') version = raw;
    }
    let type: ContentType | undefined;
    if (mediaRange === 'application/openmetrics-text' && (version === undefined || version === '1.0.0')) type = OPENMETRICS_TEXT;
    else if (mediaRange === 'text/plain' && (version === undefined || version === '0.0.4')) type = PROMETHEUS_TEXT;
    else if (mediaRange === '*/*' || mediaRange === 'text/*') type = PROMETHEUS_TEXT;
    if (type && q > 0 && q > best.q) best = { type, q };
  }
  return best.type;
}
