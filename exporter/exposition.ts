// Turns collected values into the exposition format with prom-client, a run of samples at a time: a
// scrape's samples are kept as compact per-family columns, and each run's text is made by prom-client's
// registry and handed on (to the HTTP response) before the next is made, so a scrape never holds its whole
// text, nor more than one run's sample objects. Samples are collected fresh for each scrape: a gone
// domain leaves no series behind, and overlapping scrapes never share state.
//
// What is used of prom-client beyond its documented API, all pinned to the exact version in package.json
// and checked byte for byte against its documented path (Counter/Gauge → Registry#metrics) by
// test/unit/exporter-exposition.test.ts, which fails when any of it changes:
// - Registry#getMetricsAsString(family): formats one family from anything with a get() → { name, help,
//   type, values }; Registry#metrics() is exactly these joined (by '\n\n' and a final '\n' for the text
//   format, by '\n' and a final '\n# EOF\n' for OpenMetrics, where a counter family is named without
//   `_total` and its samples with it); its text is the `# HELP` and `# TYPE` lines, then one line per
//   sample, all joined by '\n', so the lines of a family formatted in runs are the runs' lines in order;
// - a sample's `sharedLabels`: formatted once per object and cached (a WeakMap keyed by the object), after
//   the sample's own `labels`;
// - lib/registry.js and lib/validation.js loaded by path.
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { MetricDef } from './catalogue.js';

// Only the registry and the name checks, not prom-client's index: that one also loads the cluster aggregator,
// the Pushgateway client and the default process metrics: resident memory for nothing (bench/RESULTS.md#start-up-footprint).
const require = createRequire(import.meta.url);
const Registry = require('prom-client/lib/registry.js') as typeof PromClient.Registry;
const { validateMetricName, validateLabelName } = require('prom-client/lib/validation.js') as {
  validateMetricName(name: string): boolean;
  validateLabelName(names: readonly string[]): boolean;
};

export type Labels = Readonly<Record<string, string>>;

export const NO_LABELS: Labels = Object.freeze({});

/** Where collectors put their samples. */
export interface MetricWriter {
  /**
   * One sample. `shared` are labels many series have in common (a domain's domain and uuid): pass the same
   * object for all of them, and the same object again next scrape, so that prom-client formats their text
   * once. `own` are the labels of this series alone (vcpu, device, …), formatted for every sample.
   */
  put(def: MetricDef, shared: Labels, value: number, own?: Labels): void;
}

export const PROMETHEUS_TEXT = Registry.PROMETHEUS_CONTENT_TYPE;
export const OPENMETRICS_TEXT = Registry.OPENMETRICS_CONTENT_TYPE;
export type ContentType = typeof PROMETHEUS_TEXT | typeof OPENMETRICS_TEXT;

/** What this module calls of a registry: getMetricsAsString is public in the JavaScript, absent from the typings. */
interface FamilyFormatter {
  getMetricsAsString(family: { get(): Promise<unknown> }): Promise<string>;
}

function formatter(contentType: ContentType): FamilyFormatter {
  const registry = new Registry<ContentType>();
  registry.setContentType(contentType);
  return registry as unknown as FamilyFormatter;
}

/** One registry per format; they hold no metrics, only the format (getMetricsAsString reads their content type). */
const REGISTRIES: Readonly<Record<ContentType, FamilyFormatter>> = {
  [PROMETHEUS_TEXT]: formatter(PROMETHEUS_TEXT),
  [OPENMETRICS_TEXT]: formatter(OPENMETRICS_TEXT),
};

/** prom-client's sample as its registry reads it: `labels` formatted each time, `sharedLabels` once per object. */
interface Sample {
  labels: Labels;
  sharedLabels: Labels;
  value: number;
}

/** One family's samples of one scrape, as columns: three array slots per sample, no object per sample. */
interface FamilySamples {
  readonly def: MetricDef;
  readonly shared: Labels[];
  readonly own: Labels[];
  readonly values: number[];
}

const checked = new WeakSet<MetricDef>();

/** The name checks prom-client's Counter and Gauge constructors make, once per definition. */
function checkNames(def: MetricDef): void {
  if (checked.has(def)) return;
  if (!validateMetricName(def.name)) throw new Error(`invalid metric name: ${def.name}`);
  if (!validateLabelName(def.labels)) throw new Error(`invalid label name in ${def.name}: ${def.labels.join(', ')}`);
  checked.add(def);
}

/** How prom-client's registry names a family (it drops a counter's `_total` for OpenMetrics and puts it on each sample). */
function familyName(def: MetricDef, contentType: ContentType): string {
  return contentType === OPENMETRICS_TEXT && def.type === 'counter' ? def.name.replace(/_total$/, '') : def.name;
}

/** Receives the exposition text piece by piece; may return a promise to hold the next piece back (backpressure). */
export type TextSink = (text: string) => void | Promise<void>;

/** The samples of one scrape, by family in the order of their first sample. */
export class ScrapeSamples implements MetricWriter {
  private readonly families = new Map<MetricDef, FamilySamples>();

  put(def: MetricDef, shared: Labels, value: number, own: Labels = NO_LABELS): void {
    if (!Number.isFinite(value)) return;
    let family = this.families.get(def);
    if (!family) {
      checkNames(def);
      this.families.set(def, (family = { def, shared: [], own: [], values: [] }));
    }
    family.shared.push(shared);
    family.own.push(own);
    family.values.push(value);
  }

  /**
   * Writes the exposition to `sink`: each family in runs of at most BATCH samples, then the format's ending.
   * prom-client formats a run as a family of its own (`# HELP`, `# TYPE`, then the sample lines joined by
   * '\n'), so every run after a family's first is handed on without those two header lines.
   */
  async writeTo(contentType: ContentType, sink: TextSink): Promise<void> {
    const registry = REGISTRIES[contentType];
    const separator = contentType === OPENMETRICS_TEXT ? '\n' : '\n\n';
    let first = true;
    for (const family of this.families.values()) {
      const count = family.values.length;
      const header = await registry.getMetricsAsString(familyOf(family, contentType, 0, 0));
      for (let start = 0; start < count; start += BATCH) {
        const text = await registry.getMetricsAsString(familyOf(family, contentType, start, Math.min(count, start + BATCH)));
        if (start > 0) await sink(text.slice(header.length));
        else await sink(first ? text : separator + text);
      }
      first = false;
    }
    await sink(contentType === OPENMETRICS_TEXT ? '\n# EOF\n' : '\n');
  }
}

/**
 * Samples per call of prom-client's formatter. A family of a big host has hundreds of thousands; formatted in
 * one call, its sample objects, its line strings and their join all live at once and outgrow the young
 * generation. In runs, each run's garbage dies young and the text goes to the socket before the next is made.
 */
const BATCH = 512;

/**
 * What Registry#getMetricsAsString reads of a metric: its get(). Samples [start, end) of the family; the sample
 * objects live only while it runs.
 */
function familyOf(family: FamilySamples, contentType: ContentType, start: number, end: number): { get(): Promise<unknown> } {
  const { def, shared, own, values } = family;
  return {
    get: async () => {
      const samples = new Array<Sample>(end - start);
      for (let i = start; i < end; i++) samples[i - start] = { labels: own[i]!, sharedLabels: shared[i]!, value: values[i]! };
      return { name: familyName(def, contentType), help: def.help, type: def.type, aggregator: 'sum', values: samples };
    },
  };
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
