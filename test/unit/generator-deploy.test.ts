// `generate manifests` as an operator deploys it: every role scraped (metric → role → monitor), the
// instance label a node, --monitoring.labels for Prometheus' selectors, Pod Security "restricted" on
// every pod or its exception documented, tolerations and priority, app.kubernetes.io labels, kustomization.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { MANIFEST_FILES } from '../../generator/files.js';
import { metricDefinitions } from '../harness/checks/metric-definitions.js';
import { scrapeTargets, type PodTemplate } from '../harness/checks/monitoring-coverage.js';
import { dashboardExpressions, readDashboard, ruleExpressions } from '../harness/checks/observability-checks.js';
import { restrictedViolations } from '../harness/checks/pod-security.js';
import { readExpression } from '../harness/readers/promql.js';

type Obj = Record<string, any>;

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const ROLES = ['exporter', 'sidecar', 'events'];

function generate(...args: string[]): { files: Map<string, Obj[]>; text: Map<string, string>; dir: string } {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'lt-deploy-')), 'manifests');
  const r = spawnSync(process.execPath, [MAIN, 'generate', 'manifests', '--out', dir, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`generate manifests failed (${r.status}): ${r.stderr}`);
  const text = new Map(readdirSync(dir).map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));
  return { dir, text, files: new Map([...text].map(([f, t]) => [f, YAML.parseAllDocuments(t).map((d) => d.toJS() as Obj)])) };
}

const DEFAULTS = generate();
const objects = (files: Map<string, Obj[]>) => [...files].filter(([f]) => f !== MANIFEST_FILES.sidecar && f !== MANIFEST_FILES.kustomization).flatMap(([, d]) => d);

/** The pod templates: our DaemonSets, and the libvirt pod as the sidecar patch leaves it (in --container.namespace). */
function podTemplates(files: Map<string, Obj[]>, containerNamespace = 'openstack'): PodTemplate[] {
  const daemonSets = objects(files).filter((o) => o['kind'] === 'DaemonSet');
  const patch = files.get(MANIFEST_FILES.sidecar)![0]!['spec'].template;
  return [
    ...daemonSets.map((d) => ({ namespace: d['metadata'].namespace, labels: d['spec'].template.metadata.labels, containers: d['spec'].template.spec.containers })),
    { namespace: containerNamespace, labels: patch.metadata.labels, containers: patch.spec.containers },
  ];
}

/** Metrics an alert or a dashboard panel uses, with the role that exposes each. */
function usedMetrics(): Map<string, string> {
  const bySeries = new Map([...metricDefinitions().values()].flatMap((d) => [d.name, `${d.name}_bucket`, `${d.name}_sum`, `${d.name}_count`].map((s) => [s, d.role] as const)));
  const used = new Map<string, string>();
  for (const e of [...ruleExpressions(), ...dashboardExpressions(readDashboard())]) {
    for (const s of readExpression(e.expr).selectors) used.set(s.metric, bySeries.get(s.metric) ?? `unknown (${e.where})`);
  }
  return used;
}

function unscraped(files: Map<string, Obj[]>): string[] {
  const scraped = new Set(scrapeTargets(objects(files), podTemplates(files)).map((t) => t.role));
  return [...usedMetrics()].filter(([, role]) => !scraped.has(role)).map(([metric, role]) => `${metric} (${role})`);
}

test('every metric of an alert or a dashboard panel is exposed by a role that a monitor scrapes', (t) => {
  const used = usedMetrics();
  t.deepEqual([...new Set(used.values())].sort(), [...ROLES].sort(), 'the alerts and the dashboard use every role');
  t.deepEqual(unscraped(DEFAULTS.files), []);
});

test('each role is scraped once, on its own port, by name, with instance = the node name', (t) => {
  const targets = scrapeTargets(objects(DEFAULTS.files), podTemplates(DEFAULTS.files));
  t.deepEqual(
    targets.map((x) => [x.role, x.port, x.monitor, x.instanceIsNode]).sort(),
    [
      ['events', 9179, 'PodMonitor libvirt-telemetry/libvirt-telemetry-events', true],
      ['exporter', 9177, 'ServiceMonitor monitoring/libvirt-exporter', true],
      ['sidecar', 9178, 'PodMonitor openstack/libvirt-telemetry-sidecar', true],
    ].sort(),
  );
  for (const monitor of objects(DEFAULTS.files).filter((o) => /Monitor$/.test(o['kind']))) {
    const endpoints = (monitor['spec'].endpoints ?? monitor['spec'].podMetricsEndpoints) as Obj[];
    t.true(endpoints.every((e) => typeof e['port'] === 'string' && e['targetPort'] === undefined), `${monitor['kind']}: the port by name`);
  }
});

test('the coverage check can fail: without the sidecar PodMonitor, or with the patch not labelling the pods, the sidecar metrics are unscraped', (t) => {
  const withoutMonitor = new Map(DEFAULTS.files);
  withoutMonitor.delete(MANIFEST_FILES.sidecarMonitor);
  t.true(unscraped(withoutMonitor).includes('libvirt_telemetry_sidecar_dropped_total (sidecar)'));
  const unlabelled = new Map([...DEFAULTS.files].map(([f, d]) => [f, structuredClone(d)]));
  unlabelled.get(MANIFEST_FILES.sidecar)![0]!['spec'].template.metadata.labels = {};
  t.true(unscraped(unlabelled).includes('libvirt_telemetry_sidecar_lag_seconds (sidecar)'));
  const renamedPort = new Map([...DEFAULTS.files].map(([f, d]) => [f, structuredClone(d)]));
  renamedPort.get(MANIFEST_FILES.events)!.find((d) => d['kind'] === 'DaemonSet')!['spec'].template.spec.containers[0].ports[0].name = 'http';
  t.true(unscraped(renamedPort).includes('libvirt_events_connected (events)'));
});

test('the dashboard\'s node variable lists instance values (node names) and every query filters by it', (t) => {
  const dashboard = readDashboard();
  const node = dashboard.templating.list.find((v) => v.name === 'node');
  t.like(node, { label: 'Node', query: { query: 'label_values(libvirt_up, instance)' } } as never);
  t.false(dashboard.templating.list.some((v) => v.name === 'instance'));
  const exprs = dashboardExpressions(dashboard).filter((e) => e.where !== 'variable node');
  t.true(exprs.length >= 30);
  for (const e of exprs) {
    for (const s of readExpression(e.expr).selectors) t.true(s.matchers.some((m) => m.label === 'instance' && m.value === '$node'), `${e.where}: ${s.metric}`);
  }
});

test('--monitoring.labels labels the monitors and the PrometheusRule (kube-prometheus-stack\'s release selector)', (t) => {
  const { files } = generate('--monitoring.labels', 'release=kube-prometheus-stack,team=virt');
  const labelled = objects(files).filter((o) => ['ServiceMonitor', 'PodMonitor', 'PrometheusRule'].includes(o['kind']));
  t.is(labelled.length, 4);
  for (const o of labelled) t.like(o['metadata'].labels, { release: 'kube-prometheus-stack', team: 'virt' }, `${o['kind']} ${o['metadata'].name}`);
  for (const o of objects(files).filter((o) => !labelled.includes(o))) t.is(o['metadata'].labels?.release, undefined, `${o['kind']} ${o['metadata'].name}`);
});

test('every object carries the app.kubernetes.io labels; the patch labels the libvirt pods with its own key only', (t) => {
  const version = (JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string }).version;
  for (const o of objects(DEFAULTS.files)) {
    t.like(o['metadata'].labels, { 'app.kubernetes.io/name': 'libvirt-telemetry', 'app.kubernetes.io/part-of': 'libvirt-telemetry', 'app.kubernetes.io/version': version, 'app.kubernetes.io/managed-by': 'libvirt-telemetry-generate' }, `${o['kind']} ${o['metadata'].name}`);
    t.regex(o['metadata'].labels['app.kubernetes.io/component'], /^(exporter|events|sidecar|logging|monitoring)$/);
  }
  for (const d of objects(DEFAULTS.files).filter((o) => o['kind'] === 'DaemonSet')) {
    t.like(d['spec'].template.metadata.labels, d['spec'].selector.matchLabels);
    t.is(d['spec'].selector.matchLabels['app.kubernetes.io/version'], undefined, 'a selector never holds the version (it is immutable)');
  }
  t.deepEqual(Object.keys(DEFAULTS.files.get(MANIFEST_FILES.sidecar)![0]!['spec'].template.metadata.labels), ['telemetry.c5c3.io/sidecar']);
});

test('Pod Security "restricted": the exporter and the HA agent pods pass', (t) => {
  for (const d of objects(DEFAULTS.files).filter((o) => o['kind'] === 'DaemonSet')) {
    t.deepEqual(restrictedViolations(d['spec'].template.spec), [], d['metadata'].name);
  }
});

test('Pod Security "restricted": the sidecar breaks only the documented rules (root for 0600 logs, hostPath), and says why', (t) => {
  const spec = DEFAULTS.files.get(MANIFEST_FILES.sidecar)![0]!['spec'].template.spec;
  const sidecar = (spec.containers as Obj[]).filter((c) => c['image']);
  t.deepEqual(restrictedViolations({ containers: sidecar, volumes: spec.volumes }).sort(), [
    'container libvirt-telemetry-sidecar: runAsNonRoot is not true',
    'container libvirt-telemetry-sidecar: runAsUser is 0',
    'volume qemu-logs: type hostPath is not allowed',
    'volume sidecar-state: type hostPath is not allowed',
  ]);
  const comment = DEFAULTS.text.get(MANIFEST_FILES.sidecar)!.split('\n').filter((l) => l.startsWith('#')).join(' ');
  t.regex(comment, /root \(uid 0\) with every capability dropped/);
  t.regex(comment, /mode 0600, so no group and no non-root user can read them/);
  t.regex(comment, /hostPath volumes keep the logs and the checkpoints/);
});

// The restricted check can fail.
const BROKEN: [string, (spec: Obj) => void, string][] = [
  ['no seccomp profile', (s) => delete s['securityContext'].seccompProfile, 'container libvirt-exporter: seccompProfile is not RuntimeDefault or Localhost'],
  ['Unconfined seccomp in the container', (s) => (s['containers'][0].securityContext.seccompProfile = { type: 'Unconfined' }), 'container libvirt-exporter: seccompProfile is not RuntimeDefault or Localhost'],
  ['privilege escalation allowed', (s) => delete s['containers'][0].securityContext.allowPrivilegeEscalation, 'container libvirt-exporter: allowPrivilegeEscalation is not false'],
  ['capabilities kept', (s) => (s['containers'][0].securityContext.capabilities = { drop: ['NET_RAW'] }), 'container libvirt-exporter: capabilities do not drop ALL'],
  ['a capability added', (s) => (s['containers'][0].securityContext.capabilities.add = ['SYS_ADMIN']), 'container libvirt-exporter: capabilities added beyond NET_BIND_SERVICE'],
  ['root allowed', (s) => delete s['securityContext'].runAsNonRoot, 'container libvirt-exporter: runAsNonRoot is not true'],
  ['host network', (s) => (s['hostNetwork'] = true), 'hostNetwork is set'],
  ['a hostPath volume', (s) => (s['volumes'] = [{ name: 'logs', hostPath: { path: '/var/log' } }]), 'volume logs: type hostPath is not allowed'],
  ['a writable root', (s) => (s['containers'][0].securityContext.readOnlyRootFilesystem = false), 'container libvirt-exporter: root file system is writable'],
  ['privileged', (s) => (s['containers'][0].securityContext.privileged = true), 'container libvirt-exporter: privileged'],
];

for (const [what, breakIt, expected] of BROKEN) {
  test(`the restricted check catches: ${what}`, (t) => {
    const spec = structuredClone(DEFAULTS.files.get(MANIFEST_FILES.exporter)!.find((d) => d['kind'] === 'DaemonSet')!['spec'].template.spec);
    breakIt(spec);
    t.true(restrictedViolations(spec).includes(expected), restrictedViolations(spec).join('; '));
  });
}

test('the per-node agents tolerate the hypervisor taint by default; --k8s.tolerations and --k8s.priority-class-name change them', (t) => {
  const specs = (files: Map<string, Obj[]>) => objects(files).filter((o) => o['kind'] === 'DaemonSet').map((d) => d['spec'].template.spec as Obj);
  for (const spec of specs(DEFAULTS.files)) {
    t.deepEqual(spec['tolerations'], [{ key: 'node-role.kubernetes.io/hypervisor', operator: 'Exists', effect: 'NoSchedule' }]);
    t.is(spec['priorityClassName'], undefined);
  }
  const custom = generate('--k8s.tolerations', 'dedicated=hypervisor:NoExecute,maintenance', '--k8s.priority-class-name', 'system-node-critical');
  for (const spec of specs(custom.files)) {
    t.deepEqual(spec['tolerations'], [{ key: 'dedicated', operator: 'Equal', value: 'hypervisor', effect: 'NoExecute' }, { key: 'maintenance', operator: 'Exists' }]);
    t.is(spec['priorityClassName'], 'system-node-critical');
  }
  for (const spec of specs(generate('--k8s.tolerations', '').files)) t.is(spec['tolerations'], undefined);
});

test('bad --monitoring.labels, --k8s.tolerations and --k8s.priority-class-name are one-line usage errors', (t) => {
  for (const args of [
    ['--monitoring.labels', 'release'], ['--monitoring.labels', 'bad key=x'], ['--monitoring.labels', 'k=v v'],
    ['--k8s.tolerations', 'key:Sometimes'], ['--k8s.tolerations', '=x'], ['--k8s.priority-class-name', 'Critical'],
  ]) {
    const r = spawnSync(process.execPath, [MAIN, 'generate', 'manifests', '--out', path.join(mkdtempSync(path.join(os.tmpdir(), 'lt-deploy-')), 'm'), ...args], { encoding: 'utf8' });
    t.is(r.status, 2, args.join(' '));
    t.regex(r.stderr, /^libvirt-telemetry generate: --(monitoring\.labels|k8s\.tolerations|k8s\.priority-class-name): [^\n]+\n$/, args.join(' '));
  }
});

test('kustomization.yaml lists every file of whole objects; the patch of a foreign DaemonSet is left to kubectl patch', (t) => {
  const [kustomization] = DEFAULTS.files.get(MANIFEST_FILES.kustomization)!;
  t.like(kustomization, { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
  const expected = [...DEFAULTS.files.keys()].filter((f) => f !== MANIFEST_FILES.kustomization && f !== MANIFEST_FILES.sidecar).sort();
  t.deepEqual([...kustomization!['resources']].sort(), expected);
  for (const f of kustomization!['resources'] as string[]) t.true(existsSync(path.join(DEFAULTS.dir, f)), f);
  t.regex(DEFAULTS.text.get(MANIFEST_FILES.kustomization)!, new RegExp(`${MANIFEST_FILES.sidecar.replaceAll('.', '\\.')} is a patch of the libvirt DaemonSet`));
});
