// The dashboard's links from each domain panel to the VM's logs (Loki, OpenSearch) and Evictions, checked
// after Grafana's interpolation with the uuid of the clicked series; and the failures the check catches.
import test from 'ava';
import { generateOptions } from '../../generator/options.js';
import { clickContext, dashboardLinkProblems, domainPanels, expectedLogQl, interpolate } from '../harness/checks/dashboard-links.js';
import { readDashboard } from '../harness/checks/observability-checks.js';

const UUID = '4dea22b3-1d52-d8f3-2516-782e98ab3fa0';

test('every domain panel links to the clicked VM\'s logs in Loki and OpenSearch and to its Evictions', (t) => {
  const d = readDashboard();
  t.true(domainPanels(d).length >= 13);
  t.deepEqual(dashboardLinkProblems(d), []);
});

test('the Loki link searches what generate\'s Loki output writes: JSON lines under the job label, uuid a field, not a stream label', (t) => {
  const labels = (generateOptions.find((o) => o.name === 'loki.labels')!.default as readonly string[]).map((l) => l.split('=')[0]);
  t.true(labels.includes('job'));
  t.false(labels.includes('uuid'), 'uuid is no stream label: the link parses it out of the line');
  const d = readDashboard();
  t.is(d.templating.list.find((v) => v.name === 'loki_job')!.query, 'libvirt-telemetry');
  t.true((generateOptions.find((o) => o.name === 'loki.labels')!.default as readonly string[]).includes('job=libvirt-telemetry'));
  const cpu = d.panels.find((p) => p.title === 'CPU usage per domain')!;
  const loki = cpu.fieldConfig!.defaults!.links!.find((l) => /Loki/.test(l.title))!;
  const url = new URL(interpolate(loki.url, clickContext(d, cpu.type, { domain: 'vm1', uuid: UUID })), 'http://grafana.example');
  t.is(JSON.parse(url.searchParams.get('panes')!).lt.queries[0].expr, expectedLogQl('libvirt-telemetry', UUID));
  t.is(interpolate(loki.title, clickContext(d, cpu.type, { domain: 'vm1', uuid: UUID })), `Logs of vm1 in Loki (uuid ${UUID})`);
});

test('the data source and the search targets are dashboard variables', (t) => {
  const byName = new Map(readDashboard().templating.list.map((v) => [v.name, v]));
  t.like(byName.get('loki_datasource'), { type: 'datasource', query: 'loki' });
  for (const name of ['loki_job', 'opensearch_url', 'opensearch_index_pattern', 'uuid']) t.is(byName.get(name)?.type, 'textbox', name);
  t.is(byName.get('uuid')!.query, '.*', 'every uuid unless a link chose one');
});

// The check can fail.
const BROKEN: [string, (json: string) => string, RegExp][] = [
  ['a panel without its Loki link', (j) => j.replace('"title": "Logs of ${__field.labels.domain} in Loki', '"title": "Logs of ${__field.labels.domain} elsewhere'), /no link \/in Loki\//],
  ['a misspelt label in a link', (j) => j.replace('var-uuid=${__field.labels.uuid}', 'var-uuid=${__field.labels.uid}'), /unknown variable \$\{__field.labels.uid\}/],
  ['an aggregation that drops the uuid', (j) => j.replace('sum by (domain, uuid)', 'sum by (domain)'), /drops uuid/],
  ['a panel no longer selected by the uuid variable', (j) => j.replace(', uuid=~\\"$uuid\\"}', '}'), /not selected by the uuid variable/],
  ['an OpenSearch query on another field', (j) => j.replace("query:'uuid:%22${__field.labels.uuid}%22'", "query:'domain:%22${__field.labels.uuid}%22'"), /query is not uuid:/],
  ['an Evictions link to a panel that does not list them', (j) => j.replace('viewPanel=34', 'viewPanel=9'), /does not open a table/],
];
for (const [what, breakIt, expected] of BROKEN) {
  test(`the link check catches ${what}`, (t) => {
    const json = JSON.stringify(readDashboard(), null, 2);
    const broken = breakIt(json);
    t.not(broken, json, 'the breakage applies');
    const problems = dashboardLinkProblems(JSON.parse(broken));
    t.true(problems.some((p) => expected.test(p)), problems.join('; '));
  });
}
