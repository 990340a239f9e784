// Turns collected values into the exposition format with prom-client, a run of samples at a time: each
// family's samples are made from the collectors' own data (the stats columns, read through a per-scrape index)
// only when the family is written, and each run's text is made by prom-client's registry and handed on (to
// the HTTP response) before the next run is made. So a scrape never holds its whole text, nor a sample of a
// family that is not being written. Samples are made fresh for each scrape: a gone domain leaves no series
// behind, and overlapping scrapes never share state.
//
// What is used of prom-client beyond its documented API, all pinned to the exact version in package.json
// and checked byte for byte against its documented path (Counter/Gauge → Registry#metrics) by
// test/unit/exporter-exposition.test.ts, which fails when any of it changes:
// - Registry#getMetricsAsString(family): formats one family from anything with a get() → { name, help,
//   type, values }; Registry#metrics() is exactly these joined (by '\n\n' and a final '\n' for the text
//   format, by '\n' and a final '\n# EOF\n' for OpenMetrics, where a counter family is named without
//   `_total` and its samples with it); its text is the `# HELP` and `# TYPE` lines, then one line per
//   sample, all joined by '\n', so the lines of a family formatted in runs are the runs' lines in order;
//   it reads the samples while it runs and keeps none of them;
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

/**
 * One family of a scrape, as its collector hands it over: rows (domains, devices, …) that are visited in order
 * when the family is written, each giving at most one sample. Nothing of it is made before it is written.
 */
export interface Family {
  readonly def: MetricDef;
  /**
   * Puts the samples of rows `row`, `row` + 1, … into `run` until the run is full or the rows end; returns
   * the row to go on with. A row without a sample is passed over.
   */
  putRows(row: number, run: SampleRun): number;
  /** Lets go of what its rows are read from, once it is written. */
  release?(): void;
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

/**
 * The samples of one run, handed to prom-client's formatter and then made again for the next run. The sample
 * objects are reused from run to run (the formatter keeps none of them): one writer's runs are formatted one
 * after the other, so each writer has a run of its own.
 */
export class SampleRun {
  private readonly samples: Sample[] = [];
  length = 0;

  /** BATCH samples: the formatter's turn. */
  get full(): boolean {
    return this.length >= BATCH;
  }

  /**
   * One sample. `shared` are labels that recur: those many series have in common (a domain's domain and uuid),
   * or one series' labels that stay scrape after scrape. Pass the same object for all of them, and the same
   * object again next scrape, so that prom-client formats their text once. `own` are the labels of this series
   * alone (vcpu, device, …), formatted for every sample. A non-finite value is left out: the exposition has no
   * NaN or Inf from libvirt.
   */
  put(shared: Labels, value: number, own: Labels = NO_LABELS): void {
    if (!Number.isFinite(value)) return;
    const sample = this.samples[this.length];
    if (sample === undefined) this.samples.push({ labels: own, sharedLabels: shared, value });
    else {
      sample.labels = own;
      sample.sharedLabels = shared;
      sample.value = value;
    }
    this.length++;
  }

  clear(): void {
    this.length = 0;
  }

  /** Lets go of the last run's samples. */
  release(): void {
    this.length = this.samples.length = 0;
  }

  /** What Registry#getMetricsAsString reads of a metric, for the samples put since the last clear(). */
  asMetric(def: MetricDef, contentType: ContentType): { get(): Promise<unknown> } {
    return metricOf(def, contentType, this.length === this.samples.length ? this.samples : this.samples.slice(0, this.length));
  }
}

/** What Registry#getMetricsAsString reads of a metric: its get(). */
function metricOf(def: MetricDef, contentType: ContentType, values: readonly Sample[]): { get(): Promise<unknown> } {
  return { get: async () => ({ name: familyName(def, contentType), help: def.help, type: def.type, aggregator: 'sum', values }) };
}

/**
 * A family of samples put one by one, kept until written: for the few samples of a scrape that are not read
 * from the stats columns (the exporter's own health).
 */
export class SampleList implements Family {
  private readonly shared: Labels[] = [];
  private readonly own: Labels[] = [];
  private readonly values: number[] = [];

  constructor(readonly def: MetricDef) {}

  put(shared: Labels, value: number, own: Labels = NO_LABELS): void {
    this.shared.push(shared);
    this.own.push(own);
    this.values.push(value);
  }

  putRows(row: number, run: SampleRun): number {
    for (; row < this.values.length && !run.full; row++) run.put(this.shared[row]!, this.values[row]!, this.own[row]!);
    return row;
  }

  release(): void {
    this.shared.length = this.own.length = this.values.length = 0;
  }
}

/**
 * Writes the exposition of `families` to `sink`, in their order: each family in runs of at most BATCH samples,
 * then the format's ending. A family whose rows give no sample is left out. prom-client formats a run as a
 * family of its own (`# HELP`, `# TYPE`, then the sample lines joined by '\n'), so every run after a family's
 * first is handed on without those two header lines.
 */
export async function writeFamilies(families: Iterable<Family>, contentType: ContentType, sink: TextSink, run = new SampleRun()): Promise<void> {
  const registry = REGISTRIES[contentType];
  const separator = contentType === OPENMETRICS_TEXT ? '\n' : '\n\n';
  let first = true;
  for (const family of families) {
    const { def } = family;
    checkNames(def);
    let header: string | undefined;
    for (let row = 0, end = false; !end; ) {
      run.clear();
      const next = family.putRows(row, run);
      end = next === row || !run.full;
      row = next;
      if (run.length === 0) continue;
      const text = await registry.getMetricsAsString(run.asMetric(def, contentType));
      if (header !== undefined) await sink(text.slice(header.length));
      else {
        header = await registry.getMetricsAsString(metricOf(def, contentType, []));
        await sink(first ? text : separator + text);
        first = false;
      }
    }
  }
  await sink(contentType === OPENMETRICS_TEXT ? '\n# EOF\n' : '\n');
}

/**
 * Samples per call of prom-client's formatter. A family of a big host has hundreds of thousands; formatted in
 * one call, its sample objects, its line strings and their join all live at once and outgrow the young
 * generation. In runs, each run's garbage dies young and the text goes to the socket before the next is made.
 */
const BATCH = 512;

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
