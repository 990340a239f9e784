// Checks of the alert rules and the Grafana dashboard against the metric definitions in the code.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { DOMAIN_EVENT_KINDS, DOMAIN_STATE_NAMES, DOMAIN_STATE_REASON_NAMES } from '../../../libvirt/protocol.js';
import { seriesNames, type MetricDefinition } from './metric-definitions.js';
import { matcherValues, readExpression, substituteGrafanaVariables } from '../readers/promql.js';
import { REPO_ROOT } from '../inputs/samples.js';

export const RULES_FILE = path.join(REPO_ROOT, 'deploy', 'prometheus', 'libvirt-telemetry.rules.yml');
export const RULES_TEST_FILE = path.join(REPO_ROOT, 'deploy', 'prometheus', 'libvirt-telemetry.rules.test.yml');
export const DASHBOARD_FILE = path.join(REPO_ROOT, 'deploy', 'grafana', 'libvirt-telemetry.json');

/** Labels Prometheus attaches to every scraped series (target and Kubernetes service discovery labels). */
const TARGET_LABELS = new Set(['instance', 'job', 'namespace', 'pod', 'container', 'service', 'endpoint', 'node']);

/** Label values the code can produce, where they are a closed set. */
const KNOWN_VALUES: Record<string, Record<string, ReadonlySet<string>>> = {
  libvirt_domain_state: {
    state: new Set(DOMAIN_STATE_NAMES),
    reason: new Set(DOMAIN_STATE_REASON_NAMES.flat()),
  },
  libvirt_events_total: { type: new Set(Object.keys(DOMAIN_EVENT_KINDS)) },
};

export interface NamedExpression {
  readonly where: string;
  readonly expr: string;
}

/** Problems of one expression: unknown metrics, labels the metric does not have, impossible label values. */
export function expressionProblems(e: NamedExpression, definitions: ReadonlyMap<string, MetricDefinition>): string[] {
  const bySeries = new Map([...definitions.values()].flatMap((d) => seriesNames(d).map((s) => [s, d] as const)));
  const problems: string[] = [];
  const parts = readExpression(substituteGrafanaVariables(e.expr));
  const used: MetricDefinition[] = [];
  for (const s of parts.selectors) {
    const def = bySeries.get(s.metric);
    if (!def) {
      problems.push(`${e.where}: unknown metric '${s.metric}'`);
      continue;
    }
    used.push(def);
    for (const m of s.matchers) {
      if (!def.labels.includes(m.label) && !TARGET_LABELS.has(m.label) && !(m.label === 'le' && s.metric.endsWith('_bucket'))) {
        problems.push(`${e.where}: ${s.metric} has no label '${m.label}'`);
        continue;
      }
      const known = KNOWN_VALUES[s.metric]?.[m.label];
      for (const v of (known && matcherValues(m)) ?? []) if (!known!.has(v)) problems.push(`${e.where}: ${s.metric} never has ${m.label}="${v}"`);
    }
  }
  const labels = new Set([...TARGET_LABELS, 'le', ...used.flatMap((d) => d.labels)]);
  for (const l of parts.groupingLabels) if (!labels.has(l)) problems.push(`${e.where}: grouping by '${l}', which none of its metrics has`);
  if (parts.selectors.length === 0) problems.push(`${e.where}: no metric in '${e.expr}'`);
  return problems;
}

interface RuleGroups {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}

export function ruleExpressions(text = readFileSync(RULES_FILE, 'utf8')): NamedExpression[] {
  const rules = YAML.parse(text) as RuleGroups;
  return rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr })));
}

/** The labels that name a VM on every signal (docs/records.md, "Identity"). */
export const IDENTITY_LABELS = ['domain', 'uuid'] as const;

/** Alerts about one domain: their expression selects a series that carries the domain's identity. */
export function perDomainAlerts(definitions: ReadonlyMap<string, MetricDefinition>, text = readFileSync(RULES_FILE, 'utf8')): string[] {
  const rules = YAML.parse(text) as RuleGroups;
  const bySeries = new Map([...definitions.values()].flatMap((d) => seriesNames(d).map((s) => [s, d] as const)));
  return rules.groups.flatMap((g) =>
    g.rules.filter((r) => r.alert && readExpression(r.expr).selectors.some((s) => IDENTITY_LABELS.every((l) => bySeries.get(s.metric)?.labels.includes(l)))).map((r) => r.alert!),
  );
}

interface RuleTests {
  tests: { alert_rule_test?: { alertname: string; exp_alerts: { exp_labels?: Record<string, string> }[] }[] }[];
}

/**
 * Alerts the promtool tests expect to fire with the identity labels. promtool compares the labels exactly,
 * so for these the test proves the labels survive the rule's expression (aggregations included).
 */
export function alertsTestedWithIdentity(text = readFileSync(RULES_TEST_FILE, 'utf8')): Set<string> {
  const tests = YAML.parse(text) as RuleTests;
  return new Set(
    tests.tests.flatMap((t) => (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.some((e) => IDENTITY_LABELS.every((l) => e.exp_labels?.[l]))).map((a) => a.alertname)),
  );
}

export interface DataLink {
  title: string;
  url: string;
  targetBlank?: boolean;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { refId: string; expr: string }[];
  fieldConfig?: { defaults?: { links?: DataLink[] } };
}

export interface Variable {
  name: string;
  type: string;
  query?: string | { query: string };
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

export function dashboardExpressions(d: Dashboard): NamedExpression[] {
  const panels = d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel '${p.title}' ${t.refId}`, expr: t.expr })));
  const variables = d.templating.list.flatMap((v) => {
    const q = typeof v.query === 'object' ? v.query.query : undefined;
    const inner = q && /^label_values\((.*),\s*\w+\)$/.exec(q)?.[1];
    return inner ? [{ where: `variable ${v.name}`, expr: inner }] : [];
  });
  return [...panels, ...variables];
}

/** Layout problems Grafana would show as a broken dashboard: duplicate ids, overlapping or out-of-grid panels. */
export function dashboardLayoutProblems(d: Dashboard): string[] {
  const problems: string[] = [];
  const ids = new Set<number>();
  for (const p of d.panels) {
    if (ids.has(p.id)) problems.push(`duplicate panel id ${p.id}`);
    ids.add(p.id);
    const g = p.gridPos;
    if (g.x < 0 || g.w < 1 || g.x + g.w > 24 || g.h < 1 || g.y < 0) problems.push(`panel '${p.title}' is outside the 24-column grid`);
    if (p.type !== 'row' && !p.targets?.length) problems.push(`panel '${p.title}' has no query`);
  }
  d.panels.forEach((a, i) => {
    for (const b of d.panels.slice(i + 1)) {
      const ga = a.gridPos;
      const gb = b.gridPos;
      if (ga.x < gb.x + gb.w && gb.x < ga.x + ga.w && ga.y < gb.y + gb.h && gb.y < ga.y + ga.h) problems.push(`panels '${a.title}' and '${b.title}' overlap`);
    }
  });
  return problems;
}
