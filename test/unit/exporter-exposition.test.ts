// The exposition formats with prom-client family by family, through parts of prom-client that its typings do
// not declare (exposition.ts lists them). These tests pin them: the version is exact, and the streamed text
// must equal, byte for byte, what prom-client's documented path (Counter/Gauge, Registry#metrics) makes of
// the same samples. A prom-client upgrade that changes any of it fails here, not in production.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import test from 'ava';
import type * as PromClient from 'prom-client';
import type { MetricDef } from '../../exporter/catalogue.js';
import { OPENMETRICS_TEXT, PROMETHEUS_TEXT, SampleList, writeFamilies, type ContentType, type Labels } from '../../exporter/exposition.js';
import { REPO_ROOT as repoRoot } from '../harness/repo.js';

const require = createRequire(import.meta.url);
const promClient = require('prom-client') as typeof PromClient;

const COUNTER: MetricDef = { name: 'test_read_bytes_total', type: 'counter', labels: ['domain', 'uuid', 'device'], help: 'Bytes read, with a \\ backslash\nand a newline.' };
const GAUGE: MetricDef = { name: 'test_state', type: 'gauge', labels: ['domain', 'uuid'], help: 'A gauge.' };
const PLAIN: MetricDef = { name: 'test_up', type: 'gauge', labels: [], help: 'No labels.' };

const vm1: Labels = Object.freeze({ domain: 'vm1', uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fa0' });
const odd: Labels = Object.freeze({ domain: 'we"ird\\name\nx', uuid: '00000000-0000-0000-0000-0000000000ff' });

type Put = [MetricDef, Labels, number, Labels?];
const PUTS: Put[] = [
  [PLAIN, {}, 1],
  [GAUGE, vm1, 0.25],
  [GAUGE, odd, 1e21],
  [COUNTER, vm1, 12800, { device: 'vda' }],
  [COUNTER, vm1, 3, { device: 'v"db' }],
  [COUNTER, odd, 1.5e-7, { device: 'sda' }],
];

/** Families of `puts`, in the order of their first sample. */
function familiesOf(puts: readonly Put[]): SampleList[] {
  const families = new Map<MetricDef, SampleList>();
  for (const [def, shared, value, own] of puts) {
    let family = families.get(def);
    if (!family) families.set(def, (family = new SampleList(def)));
    family.put(shared, value, own);
  }
  return [...families.values()];
}

async function ours(contentType: ContentType, puts: readonly Put[] = PUTS): Promise<{ text: string; parts: number }> {
  const parts: string[] = [];
  await writeFamilies(familiesOf(puts), contentType, (text) => void parts.push(text));
  return { text: parts.join(''), parts: parts.length };
}

/** The same samples through prom-client's documented API: a series' labels in the order own, shared. */
async function documented(contentType: ContentType, puts: readonly Put[] = PUTS): Promise<string> {
  const registry = new promClient.Registry<ContentType>();
  registry.setContentType(contentType);
  const metrics = new Map<MetricDef, PromClient.Counter | PromClient.Gauge>();
  for (const def of [PLAIN, GAUGE, COUNTER]) {
    const config = { name: def.name, help: def.help, labelNames: def.labels, registers: [registry] };
    metrics.set(def, def.type === 'counter' ? new promClient.Counter(config) : new promClient.Gauge(config));
  }
  for (const [def, shared, value, own] of puts) {
    const labels = { ...own, ...shared };
    const metric = metrics.get(def)!;
    if (metric instanceof promClient.Counter) metric.inc(labels, value);
    else metric.set(labels, value);
  }
  return registry.metrics();
}

for (const contentType of [PROMETHEUS_TEXT, OPENMETRICS_TEXT] as const) {
  test(`streamed family by family, the text is prom-client's own (${contentType.split(';')[0]})`, async (t) => {
    const { text, parts } = await ours(contentType);
    t.is(text, await documented(contentType));
    t.is(parts, 4, 'one piece per family, then the ending');
  });
}

// A big host's family is formatted in runs of samples; the runs' text joined must still be prom-client's.
const MANY: Put[] = [
  ...PUTS,
  ...Array.from({ length: 1300 }, (_, i): Put => [COUNTER, i % 2 ? vm1 : odd, i * 1.5, { device: `vd${i}` }]),
  ...Array.from({ length: 1025 }, (_, i): Put => [GAUGE, Object.freeze({ domain: `vm${i}`, uuid: `u${i}` }), i]),
];

for (const contentType of [PROMETHEUS_TEXT, OPENMETRICS_TEXT] as const) {
  test(`families of thousands of samples, streamed in runs, are prom-client's own text (${contentType.split(';')[0]})`, async (t) => {
    const { text, parts } = await ours(contentType, MANY);
    t.is(text, await documented(contentType, MANY));
    t.true(parts > 4, 'a big family is handed on in several pieces');
  });
}

test('a shared label object is formatted once and reused, yet a changed own label shows', async (t) => {
  const text = (
    await textOf([
      [COUNTER, vm1, 1, { device: 'vda' }],
      [COUNTER, vm1, 2, { device: 'vdb' }],
    ])
  ).split('\n').filter((l) => !l.startsWith('#'));
  t.deepEqual(text.filter(Boolean), [
    `test_read_bytes_total{device="vda",domain="vm1",uuid="${vm1['uuid']}"} 1`,
    `test_read_bytes_total{device="vdb",domain="vm1",uuid="${vm1['uuid']}"} 2`,
  ]);
});

async function textOf(puts: readonly Put[]): Promise<string> {
  return (await ours(PROMETHEUS_TEXT, puts)).text;
}

test('non-finite values are left out, not written as NaN or Inf, and a family left without samples is not written', async (t) => {
  const puts: Put[] = [
    [GAUGE, vm1, Number.NaN],
    [GAUGE, odd, Number.POSITIVE_INFINITY],
    [PLAIN, {}, 1],
  ];
  t.is(await textOf(puts), '# HELP test_up No labels.\n# TYPE test_up gauge\ntest_up 1\n');
});

test('prom-client is pinned to the exact version installed, the one these tests were written against', (t) => {
  const spec = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies['prom-client'];
  const installed = (require('prom-client/package.json') as { version: string }).version;
  t.regex(spec ?? '', /^\d+\.\d+\.\d+$/, 'an exact version, no range');
  t.is(spec, installed);
});
