// Checks of the dashboard's data links: every domain panel links to the VM's logs in Loki and in OpenSearch
// and to its Evictions, by the uuid of the series the user clicked, and the links come out right once Grafana
// has interpolated them (a small interpolator with the variable formats the links use).
import { readExpression, substituteGrafanaVariables } from '../readers/promql.js';
import { IDENTITY_LABELS, type Dashboard, type DataLink } from './observability-checks.js';

/** The series of the HA agent that lists the Evictions stored per VM. */
export const EVICTIONS_METRIC = 'libvirt_events_eviction_timestamp_seconds';

/** What a click hands to a link: the series' labels (time series) or the row's fields (table). */
export interface Clicked {
  readonly domain: string;
  readonly uuid: string;
}

/** Values of the dashboard's variables and Grafana's globals (times in epoch ms), as at a click. */
export type LinkContext = Record<string, string | readonly string[]>;

/** Grafana's `${name}` / `${name:format}` interpolation, for the formats the links use; throws on an unknown name. */
export function interpolate(url: string, context: LinkContext): string {
  return url.replace(/\$\{([\w.]+)(?::([\w:]+))?\}/g, (_, name: string, format: string | undefined) => {
    const value = context[name];
    if (value === undefined) throw new Error(`unknown variable \${${name}}`);
    const values = typeof value === 'string' ? [value] : value;
    switch (format) {
      case undefined:
        return values.join(',');
      case 'percentencode':
        return encodeURIComponent(values.join(','));
      case 'queryparam':
        return values.map((v) => `var-${name}=${encodeURIComponent(v)}`).join('&');
      case 'date:iso':
        return new Date(Number(values[0])).toISOString();
      default:
        throw new Error(`format ${format} of \${${name}} is not one the links use`);
    }
  });
}

/** Panels about single domains: their queries select by the domain variable. */
export function domainPanels(d: Dashboard): Dashboard['panels'] {
  return d.panels.filter((p) => p.targets?.some((t) => t.expr.includes('domain=~"$domain"')));
}

function variableDefault(d: Dashboard, name: string): string | undefined {
  const v = d.templating.list.find((x) => x.name === name);
  return typeof v?.query === 'string' ? v.query : undefined;
}

/** A click's context: the variables' defaults, a Loki data source uid, one node, every domain. */
export function clickContext(d: Dashboard, panelType: string, clicked: Clicked): LinkContext {
  const field = panelType === 'table' ? '__data.fields' : '__field.labels';
  const context: LinkContext = {
    [`${field}.domain`]: clicked.domain,
    [`${field}.uuid`]: clicked.uuid,
    __org: '1',
    __from: String(Date.UTC(2026, 11, 7, 9, 0)),
    __to: String(Date.UTC(2026, 11, 7, 10, 0)),
    __url_time_range: 'from=1796634000000&to=1796637600000',
    loki_datasource: 'P8E80F9AEF21F6940',
    node: ['node-1'],
    domain: ['$__all'],
  };
  for (const v of d.templating.list) if (!(v.name in context) && typeof v.query === 'string') context[v.name] = v.query;
  return context;
}

/** The LogQL a Loki link must run: the records of generate's Loki output (JSON lines) whose uuid is the VM's. */
export function expectedLogQl(job: string, uuid: string): string {
  return `{job=~"${job}"} |= "${uuid}" | json | uuid = "${uuid}"`;
}

function lokiProblems(where: string, url: string, d: Dashboard, uuid: string): string[] {
  const u = new URL(url, 'http://grafana.example');
  if (u.pathname !== '/explore') return [`${where}: the Loki link opens ${u.pathname}, not Explore`];
  const panes = JSON.parse(u.searchParams.get('panes') ?? '{}') as Record<string, { datasource: string; queries: { expr: string; datasource: { type: string; uid: string } }[] }>;
  const pane = Object.values(panes)[0];
  const problems: string[] = [];
  if (pane?.datasource !== 'P8E80F9AEF21F6940' || pane.queries[0]?.datasource.uid !== 'P8E80F9AEF21F6940' || pane.queries[0]?.datasource.type !== 'loki') {
    problems.push(`${where}: the Loki link does not query the \${loki_datasource} data source`);
  }
  const expr = pane?.queries[0]?.expr;
  const wanted = expectedLogQl(variableDefault(d, 'loki_job') ?? '?', uuid);
  if (expr !== wanted) problems.push(`${where}: the Loki link queries '${expr}', expected '${wanted}'`);
  return problems;
}

function openSearchProblems(where: string, url: string, d: Dashboard, uuid: string): string[] {
  const base = `${variableDefault(d, 'opensearch_url')}/app/discover#/?`;
  if (!url.startsWith(base)) return [`${where}: the OpenSearch link does not open Discover under \${opensearch_url}`];
  const state = new URLSearchParams(url.slice(base.length));
  const app = state.get('_a') ?? '';
  const problems: string[] = [];
  if (!app.includes(`query:(language:kuery,query:'uuid:"${uuid}"')`)) problems.push(`${where}: the OpenSearch link's query is not uuid:"${uuid}" (${app})`);
  if (!app.includes(`index:'${variableDefault(d, 'opensearch_index_pattern')}'`)) problems.push(`${where}: the OpenSearch link does not use \${opensearch_index_pattern}`);
  if (!(state.get('_g') ?? '').includes("time:(from:'2026-12-07T09:00:00.000Z',to:'2026-12-07T10:00:00.000Z')")) problems.push(`${where}: the OpenSearch link does not keep the time range`);
  return problems;
}

function evictionsProblems(where: string, url: string, d: Dashboard, uuid: string): string[] {
  const u = new URL(url, 'http://grafana.example');
  const problems: string[] = [];
  if (u.pathname !== `/d/${d.uid}/${d.uid}`) problems.push(`${where}: the Evictions link opens ${u.pathname}, not this dashboard`);
  if (u.searchParams.get('var-uuid') !== uuid) problems.push(`${where}: the Evictions link sets uuid to ${u.searchParams.get('var-uuid')}, not ${uuid}`);
  const table = d.panels.find((p) => String(p.id) === u.searchParams.get('viewPanel'));
  const listsEvictions = table?.type === 'table' && table.targets?.some((t) => readExpression(t.expr).selectors.some((s) => s.metric === EVICTIONS_METRIC && s.matchers.some((m) => m.label === 'uuid' && m.value === '$uuid')));
  if (!listsEvictions) problems.push(`${where}: the Evictions link does not open a table of ${EVICTIONS_METRIC} selected by \$uuid`);
  return problems;
}

/** Everything wrong with the domain panels' links; empty when each opens the clicked VM's logs and Evictions. */
export function dashboardLinkProblems(d: Dashboard): string[] {
  const problems: string[] = [];
  const uuid = '4dea22b3-1d52-d8f3-2516-782e98ab3fa0';
  for (const p of domainPanels(d)) {
    const where = `panel '${p.title}'`;
    for (const t of p.targets ?? []) {
      const grouping = readExpression(substituteGrafanaVariables(t.expr)).groupingLabels;
      const dropped = IDENTITY_LABELS.filter((l) => grouping.length > 0 && !grouping.includes(l));
      if (dropped.length) problems.push(`${where} ${t.refId}: its aggregation drops ${dropped.join(', ')}, which the links need`);
      if (!t.expr.includes('uuid=~"$uuid"')) problems.push(`${where} ${t.refId}: not selected by the uuid variable`);
    }
    const links: DataLink[] = p.fieldConfig?.defaults?.links ?? [];
    const kinds: [RegExp, (w: string, url: string, dash: Dashboard, id: string) => string[]][] = [
      [/in Loki/, lokiProblems],
      [/in OpenSearch/, openSearchProblems],
      ...(p.type === 'table' ? [] : [[/^Evictions/, evictionsProblems] as [RegExp, typeof evictionsProblems]]),
    ];
    for (const [title, check] of kinds) {
      const link = links.find((l) => title.test(l.title));
      if (!link) {
        problems.push(`${where}: no link ${title}`);
        continue;
      }
      try {
        problems.push(...check(`${where} '${link.title}'`, interpolate(link.url, clickContext(d, p.type, { domain: 'vm1', uuid })), d, uuid));
      } catch (err) {
        problems.push(`${where} '${link.title}': ${(err as Error).message}`);
      }
    }
  }
  return problems;
}
