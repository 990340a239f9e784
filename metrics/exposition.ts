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

export type Labels = Readonly<Record<string, string>>;

export const NO_LABELS: Labels = Object.freeze({});

/** Where collectors put their samples. */
export interface MetricWriter {
  /**
   * One sample. `shared` are labels many series have in common (a domain's domain and uuid): pass the same
   * object for all of them, and the same object again next scrape, so that their text is cached (seriesLabels).
   * `own` are the labels of this series alone (vcpu, device, …).
   */
  put(def: MetricDef, shared: Labels, value: number, own?: Labels): void;
}

export const PROMETHEUS_TEXT = Registry.PROMETHEUS_CONTENT_TYPE;
export const OPENMETRICS_TEXT = Registry.OPENMETRICS_CONTENT_TYPE;
export type ContentType = typeof PROMETHEUS_TEXT | typeof OPENMETRICS_TEXT;

/** prom-client's sample; its registry also reads `sharedLabels` (formatted once per object) besides `labels`. */
type Sample = PromClient.MetricValue<string> & { sharedLabels: Labels };

/**
 * Each series' whole label set as one object that stays the same from scrape to scrape while `shared` does
 * (a domain's labels are kept by the collection for as long as the domain exists). prom-client formats a
 * `sharedLabels` object once and caches the text in a WeakMap, so a series' labels are escaped and joined
 * on its first scrape only; when the domain goes, its label sets and their cached text go with it.
 */
const combined = new WeakMap<Labels, LabelNode>();

/** A trie over the own labels' names and values, so that finding a series' label set allocates nothing. */
interface LabelNode {
  labels?: Labels;
  next?: Map<string, Map<string, LabelNode>>;
}

function seriesLabels(shared: Labels, own: Labels): Labels {
  let node: LabelNode | undefined;
  for (const name in own) {
    if (!node && !(node = combined.get(shared))) combined.set(shared, (node = {}));
    const value = own[name]!;
    const byName = (node.next ??= new Map());
    let byValue = byName.get(name);
    if (!byValue) byName.set(name, (byValue = new Map()));
    let child = byValue.get(value);
    if (!child) byValue.set(value, (child = {}));
    node = child;
  }
  return node ? (node.labels ??= Object.freeze({ ...shared, ...own })) : shared;
}

/**
 * Collects samples per metric family and serializes them with a prom-client registry. Each family is a real
 * prom-client Counter or Gauge (name and label names validated by prom-client), whose get() hands the
 * registry the samples as collected: a scrape sets every series exactly once, so the per-series label
 * validation and hashing of set()/inc() would only cost time (about half of a 1000-domain scrape's CPU).
 */
export class RegistryWriter implements MetricWriter {
  readonly registry: Registry<ContentType>;
  private readonly families = new Map<string, Sample[]>();

  constructor(contentType: ContentType = PROMETHEUS_TEXT) {
    this.registry = new Registry<ContentType>();
    this.registry.setContentType(contentType);
  }

  put(def: MetricDef, shared: Labels, value: number, own: Labels = NO_LABELS): void {
    if (!Number.isFinite(value)) return;
    let samples = this.families.get(def.name);
    if (!samples) {
      samples = [];
      this.families.set(def.name, samples);
      this.register(def, samples);
    }
    samples.push({ labels: NO_LABELS, sharedLabels: seriesLabels(shared, own), value });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  private register(def: MetricDef, samples: Sample[]): void {
    const config = { name: def.name, help: def.help, labelNames: def.labels, registers: [this.registry] };
    // prom-client's typings omit the `name` field its registry reads (and, for OpenMetrics, rewrites), and declare
    // `type` as a numeric enum where the runtime uses the strings 'counter' and 'gauge'.
    const family = (def.type === 'counter' ? new Counter(config) : new Gauge(config)) as (Counter | Gauge) & { name: string };
    family.get = async () => ({
      // family.name, not def.name: for OpenMetrics the registry has just dropped the counter's _total.
      name: family.name,
      help: def.help,
      type: def.type as unknown as PromClient.MetricType,
      aggregator: 'sum',
      collect: () => undefined,
      values: samples,
    });
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
