// The alert rules and the Grafana dashboard name only metrics, labels and label values the exporter,
// the sidecar and the HA agent define (read from their code), and the dashboard's layout is sound.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { metricDefinitions } from '../harness/checks/metric-definitions.js';
import {
  alertsTestedWithIdentity,
  dashboardExpressions,
  dashboardLayoutProblems,
  expressionProblems,
  perDomainAlerts,
  readDashboard,
  ruleExpressions,
  RULES_FILE,
  RULES_TEST_FILE,
} from '../harness/checks/observability-checks.js';
import { readExpression } from '../harness/readers/promql.js';

const definitions = metricDefinitions();

test('the metric definitions hold the design document\'s metrics and every role\'s own', (t) => {
  for (const name of ['libvirt_up', 'libvirt_domain_info_vcpus', 'libvirt_domain_net_transmit_drops_total', 'libvirt_events_total', 'libvirt_telemetry_sidecar_dropped_total']) {
    t.true(definitions.has(name), name);
  }
});

test('alert rules: every metric, label and label value exists', (t) => {
  const exprs = ruleExpressions();
  t.true(exprs.length >= 10);
  t.deepEqual(exprs.flatMap((e) => expressionProblems(e, definitions)), []);
});

test('alert rules cover libvirt down, crashed domains, I/O errors and sidecar drops', (t) => {
  const used = new Set(ruleExpressions().flatMap((e) => readExpression(e.expr).selectors.map((s) => s.metric)));
  for (const m of ['libvirt_up', 'libvirt_domain_state', 'libvirt_events_total', 'libvirt_telemetry_sidecar_dropped_total']) t.true(used.has(m), m);
});

test('alert rules: every per-domain alert has a promtool test that expects its domain and uuid labels', (t) => {
  const perDomain = perDomainAlerts(definitions);
  t.deepEqual(perDomain, ['LibvirtDomainCrashed', 'LibvirtDomainPausedByIOError', 'LibvirtDomainNetworkErrors']);
  const tested = alertsTestedWithIdentity();
  t.deepEqual(perDomain.filter((a) => !tested.has(a)), []);
});

test('the identity check catches a per-domain alert whose test does not expect the uuid', (t) => {
  const withoutUuid = readFileSync(RULES_TEST_FILE, 'utf8').replace('domain: vm1, uuid: u1, interface: vnet0', 'domain: vm1, interface: vnet0');
  t.false(alertsTestedWithIdentity(withoutUuid).has('LibvirtDomainNetworkErrors'));
});

test('dashboard: every metric, label and label value exists', (t) => {
  const exprs = dashboardExpressions(readDashboard());
  t.true(exprs.length >= 30);
  t.deepEqual(exprs.flatMap((e) => expressionProblems(e, definitions)), []);
});

test('dashboard: shows every metric of the design document', (t) => {
  const used = new Set(dashboardExpressions(readDashboard()).flatMap((e) => readExpression(e.expr).selectors.map((s) => s.metric)));
  const core = ['libvirt_domain_info_vcpus', 'libvirt_domain_info_memory_bytes', 'libvirt_domain_vcpu_time_seconds_total', 'libvirt_domain_memory_usage_bytes',
    'libvirt_domain_block_read_bytes_total', 'libvirt_domain_block_write_bytes_total', 'libvirt_domain_block_read_requests_total', 'libvirt_domain_block_write_requests_total',
    'libvirt_domain_net_receive_bytes_total', 'libvirt_domain_net_transmit_bytes_total', 'libvirt_domain_net_receive_packets_total', 'libvirt_domain_net_transmit_packets_total',
    'libvirt_domain_net_receive_errors_total', 'libvirt_domain_net_transmit_drops_total', 'libvirt_up'];
  t.deepEqual(core.filter((m) => !used.has(m)), []);
});

test('dashboard: unique ids, panels on the grid without overlaps, each with a query', (t) => {
  const d = readDashboard();
  t.is(d.uid, 'libvirt-telemetry');
  t.deepEqual(dashboardLayoutProblems(d), []);
});

// The checks can fail.
const BAD: [string, string, RegExp][] = [
  ['a misspelled metric', 'rate(libvirt_domain_block_read_byte_total[5m])', /unknown metric 'libvirt_domain_block_read_byte_total'/],
  ['a label the metric lacks', 'libvirt_up{domain="vm1"}', /libvirt_up has no label 'domain'/],
  ['a state libvirt has not', 'libvirt_domain_state{state="exploded"} == 1', /never has state="exploded"/],
  ['a reason in an alternation', 'libvirt_domain_state{reason=~"crashed|melted"}', /never has reason="melted"/],
  ['an event type the agent never counts', 'increase(libvirt_events_total{type="io_error"}[5m])', /never has type="io_error"/],
  ['grouping by a label nobody has', 'sum by (hypervisor) (libvirt_up)', /grouping by 'hypervisor'/],
  ['a histogram series that does not exist', 'libvirt_events_eviction_write_seconds_total', /unknown metric/],
];
for (const [what, expr, expected] of BAD) {
  test(`the name check catches ${what}`, (t) => {
    const problems = expressionProblems({ where: 'test', expr }, definitions);
    t.true(problems.some((p) => expected.test(p)), problems.join('; '));
  });
}

test('the name check reads metric names through functions, operators, strings and ranges', (t) => {
  const parts = readExpression('histogram_quantile(0.99, sum by (le) (rate(libvirt_events_eviction_write_seconds_bucket{instance=~"a|b"}[5m]))) > bool 0.5 and on(instance) libvirt_up{job="x,y}"} offset 5m');
  t.deepEqual(parts.selectors.map((s) => s.metric), ['libvirt_events_eviction_write_seconds_bucket', 'libvirt_up']);
  t.deepEqual(parts.groupingLabels, ['le', 'instance']);
  t.deepEqual(parts.selectors[1]!.matchers, [{ label: 'job', op: '=', value: 'x,y}' }]);
});

test('a wrong name in the rules file itself is caught', (t) => {
  const broken = readFileSync(RULES_FILE, 'utf8').replace('libvirt_telemetry_sidecar_dropped_total', 'libvirt_telemetry_sidecar_drops_total');
  const problems = ruleExpressions(broken).flatMap((e) => expressionProblems(e, definitions));
  t.deepEqual(problems, ["rule LibvirtTelemetrySidecarDrops: unknown metric 'libvirt_telemetry_sidecar_drops_total'"]);
});

test('overlapping dashboard panels are caught', (t) => {
  const d = readDashboard();
  d.panels[5]!.gridPos = { ...d.panels[4]!.gridPos };
  t.true(dashboardLayoutProblems(d).some((p) => /overlap/.test(p)));
});
