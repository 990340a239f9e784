// `libvirt-telemetry generate manifests`: the files a user applies, parsed back from disk and validated
// against the Kubernetes schemas of their kinds; the design document's DaemonSet and ServiceMonitor; the
// single definitions they reuse (deploy/, the Fluent Bit renderer, package version).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { generateFiles } from '../../generator/generate.js';
import { ALL_MANIFEST_FILE_NAMES, MANIFEST_FILES } from '../../generator/files.js';
import { parseCommandLine } from '../../runtime/options.js';
import { generateCommand } from '../../generator/command.js';
import { eventsCommand } from '../../events/command.js';
import { loadCommand } from '../../cli/commands.js';
import { podOfPatch, validateManifest } from '../harness/checks/k8s-schemas.js';
import { REPO_ROOT } from '../harness/repo.js';

type Obj = Record<string, any>;

const MAIN = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
const VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function generateManifests(...args: string[]): Map<string, Obj[]> {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'lt-manifests-')), 'manifests');
  const r = spawnSync(process.execPath, [MAIN, 'generate', 'manifests', '--out', out, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`generate manifests failed (${r.status}): ${r.stderr}`);
  return new Map(readdirSync(out).map((f) => [f, YAML.parseAllDocuments(readFileSync(path.join(out, f), 'utf8')).map((d) => d.toJS() as Obj)]));
}

function find(docs: Obj[], kind: string): Obj {
  const found = docs.filter((d) => d['kind'] === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0]!;
}

/** Every path of `expected` holds the same value in `actual` (extra fields in `actual` allowed). */
function assertSubset(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void }, actual: unknown, expected: unknown, at = ''): void {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    for (const [k, v] of Object.entries(expected)) assertSubset(t, (actual as Obj | undefined)?.[k], v, `${at}.${k}`);
  } else if (Array.isArray(expected)) {
    t.deepEqual(Array.isArray(actual) ? actual.length : -1, expected.length, `${at}: length`);
    expected.forEach((v, i) => assertSubset(t, (actual as unknown[])[i], v, `${at}[${i}]`));
  } else t.deepEqual(actual, expected, at);
}

/** The design document's manifest of `kind: <kind>` (its YAML blocks, copied into test/fixtures/design/). */
function designDocument(kind: string): Obj {
  const text = readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'design', 'exporter-manifests.yaml'), 'utf8');
  const docs = YAML.parseAllDocuments(text).map((d) => d.toJS() as Obj);
  return docs.find((b) => b['kind'] === kind)!;
}

const DEFAULTS = generateManifests();
const VARIANT_ARGS = [
  '--model', 'container', '--format', 'yaml', '--image', 'registry.example/lt:test',
  '--k8s.monitoring-namespace', 'obs', '--k8s.logging-namespace', 'logs', '--k8s.ha-namespace', 'ha', '--container.name', 'libvirt',
];
const VARIANT = generateManifests(...VARIANT_ARGS);

test('manifests: writes exactly the documented files', (t) => {
  t.deepEqual([...DEFAULTS.keys()].sort(), [...ALL_MANIFEST_FILE_NAMES].sort());
});

for (const [name, files] of [['defaults', DEFAULTS], ['container model, custom image and namespaces', VARIANT]] as const) {
  test(`manifests (${name}): every document validates against the schema of its kind`, (t) => {
    let count = 0;
    for (const [file, docs] of files) {
      for (const doc of docs) {
        if (file === MANIFEST_FILES.kustomization) continue; // no API object: checked on its own below
        const object = file === MANIFEST_FILES.sidecar ? podOfPatch(doc) : doc;
        t.notThrows(() => validateManifest(object), `${file}: ${String(doc['kind'])}`);
        count++;
      }
    }
    t.is(count, 16, 'DaemonSet, Service, ServiceMonitor, ConfigMap, sidecar patch, PodMonitor, ServiceAccount, Role, RoleBinding, ClusterRole, ClusterRoleBinding, DaemonSet, PodMonitor, CRD, PrometheusRule, ConfigMap');
  });
}

test('manifests: the exporter DaemonSet is the design document\'s, with our image and the exporter role', (t) => {
  const doc = designDocument('DaemonSet');
  const ours = find(DEFAULTS.get(MANIFEST_FILES.exporter)!, 'DaemonSet');
  const docContainer = doc['spec'].template.spec.containers[0];
  const ourContainer = ours['spec'].template.spec.containers[0];
  t.is(ourContainer.image, `ghcr.io/c5c3/libvirt-telemetry:${VERSION}`);
  t.deepEqual(ourContainer.args, ['exporter', ...docContainer.args]);
  delete docContainer.image;
  delete docContainer.args;
  assertSubset(t, ours, doc);
});

test('manifests: the ServiceMonitor is the design document\'s and selects the exporter Service by its labels and port name', (t) => {
  const docs = DEFAULTS.get(MANIFEST_FILES.exporter)!;
  const monitor = find(docs, 'ServiceMonitor');
  assertSubset(t, monitor, designDocument('ServiceMonitor'));
  const service = find(docs, 'Service');
  const daemonSet = find(docs, 'DaemonSet');
  assertSubset(t, service['metadata'].labels, monitor['spec'].selector.matchLabels);
  assertSubset(t, daemonSet['spec'].template.metadata.labels, service['spec'].selector);
  t.is(service['spec'].ports[0].name, monitor['spec'].endpoints[0].port);
  t.is(service['spec'].ports[0].targetPort, daemonSet['spec'].template.spec.containers[0].ports[0].name);
});

test('manifests: the ConfigMap holds the Fluent Bit files generate writes for the same options', (t) => {
  for (const [files, args] of [[DEFAULTS, []], [VARIANT, VARIANT_ARGS]] as const) {
    const configMap = find(files.get(MANIFEST_FILES.fluentBit)!, 'ConfigMap');
    const options = parseCommandLine(generateCommand, args, {}).options;
    t.deepEqual(configMap['data'], Object.fromEntries(generateFiles(options).files));
  }
  t.deepEqual(Object.keys(find(VARIANT.get(MANIFEST_FILES.fluentBit)!, 'ConfigMap')['data']), ['fluent-bit.yaml']);
  t.is(find(VARIANT.get(MANIFEST_FILES.fluentBit)!, 'ConfigMap')['metadata'].namespace, 'logs');
});

/** A document without the labels the renderer adds to every object. */
function unlabelled(d: Obj): Obj {
  const { labels: _labels, ...metadata } = d['metadata'] as Obj;
  return { ...d, metadata };
}

test('manifests: the Eviction CRD and the RBAC rules are those of deploy/', (t) => {
  const deploy = (f: string) => YAML.parseAllDocuments(readFileSync(path.join(REPO_ROOT, 'deploy', f), 'utf8')).map((d) => d.toJS() as Obj);
  t.deepEqual(DEFAULTS.get(MANIFEST_FILES.crd)!.map(unlabelled), deploy('crd/eviction-crd.yaml'));
  // The rules themselves: test/unit/events-rbac.test.ts derives them from the agent's client.
  t.deepEqual(unlabelled(find(VARIANT.get(MANIFEST_FILES.events)!, 'ClusterRole')), find(deploy('rbac/events-rbac.yaml'), 'ClusterRole'));
  t.deepEqual(find(VARIANT.get(MANIFEST_FILES.events)!, 'Role')['rules'], find(deploy('rbac/events-rbac.yaml'), 'Role')['rules']);
});

test('manifests: the HA agent runs as the bound ServiceAccount in --k8s.ha-namespace and learns its node and namespace', (t) => {
  const docs = VARIANT.get(MANIFEST_FILES.events)!;
  const account = find(docs, 'ServiceAccount');
  const binding = find(docs, 'RoleBinding');
  const daemonSet = find(docs, 'DaemonSet');
  t.is(account['metadata'].namespace, 'ha');
  t.is(daemonSet['metadata'].namespace, 'ha');
  t.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: account['metadata'].name, namespace: 'ha' }]);
  t.is(binding['roleRef'].name, find(docs, 'Role')['metadata'].name);
  const spec = daemonSet['spec'].template.spec;
  t.is(spec.serviceAccountName, account['metadata'].name);
  t.deepEqual(spec.nodeSelector, { 'node-role.kubernetes.io/hypervisor': '' });
  const container = spec.containers[0];
  t.deepEqual(container.args, ['events', '--libvirt.uri=qemu+tcp://$(NODE_IP):16509/system']);
  t.deepEqual(
    Object.fromEntries(container.env.map((e: Obj) => [e['name'], e['valueFrom'].fieldRef.fieldPath])),
    { NODE_IP: 'status.hostIP', LIBVIRT_TELEMETRY_EVENTS_HYPERVISOR: 'spec.nodeName', LIBVIRT_TELEMETRY_EVENTS_NAMESPACE: 'metadata.namespace' },
  );
  // The role reads them as its options, in the current spelling (no deprecation warning).
  const downward: Record<string, string> = { 'spec.nodeName': 'node-a', 'metadata.namespace': 'ha', 'status.hostIP': '10.0.0.1' };
  const env = Object.fromEntries(container.env.map((e: Obj) => [e['name'], downward[e['valueFrom'].fieldRef.fieldPath]]));
  const parsed = parseCommandLine(eventsCommand, container.args.slice(1), env);
  t.like(parsed.options, { hypervisor: 'node-a', namespace: 'ha' });
  t.deepEqual(parsed.warnings, []);
  t.true(spec.securityContext.runAsNonRoot);
  t.is(container.readinessProbe.httpGet.path, '/healthz');
  t.is(container.livenessProbe, undefined, 'a libvirtd restart must not get the agent killed');
});

test('manifests: --image and the namespaces reach every object', (t) => {
  const images = [...VARIANT.values()].flat().flatMap((d) => (d['spec']?.template?.spec?.containers ?? []) as Obj[]).filter((c) => c['image']);
  t.is(images.length, 3, 'exporter, sidecar, events');
  for (const c of images) t.is(c['image'], 'registry.example/lt:test');
  t.true([...VARIANT.get(MANIFEST_FILES.exporter)!].every((d) => d['metadata'].namespace === 'obs'));
});

test("manifests: every container's arguments are valid for its role, in the current spelling", async (t) => {
  const containers = [...DEFAULTS.values(), ...VARIANT.values()].flat().flatMap((d) => (d['spec']?.template?.spec?.containers ?? []) as Obj[]).filter((c) => c['image']);
  t.true(containers.length >= 6);
  for (const c of containers) {
    const [role, ...args] = c['args'] as string[];
    const command = await loadCommand(role!);
    t.truthy(command, role);
    const env = Object.fromEntries(((c['env'] ?? []) as Obj[]).map((e) => [e['name'], 'x']));
    t.deepEqual(parseCommandLine(command!, args, env).warnings, [], `${role} ${args.join(' ')}`);
  }
});

test('manifests: the sidecar patch shares the QEMU log volume with the libvirtd container and keeps state on the host', (t) => {
  const patch = VARIANT.get(MANIFEST_FILES.sidecar)![0]!;
  const spec = patch['spec'].template.spec;
  const [libvirtd, sidecar] = spec.containers as Obj[];
  t.is(libvirtd!['name'], 'libvirt', '--container.name');
  t.deepEqual(libvirtd!['volumeMounts'], [{ name: 'qemu-logs', mountPath: '/var/log/libvirt/qemu' }]);
  t.is(sidecar!['args'][0], 'sidecar');
  t.true(sidecar!['args'].includes('--state-dir=/var/lib/libvirt-telemetry/sidecar'));
  t.deepEqual(spec.volumes.map((v: Obj) => [v['name'], v['hostPath'].path]), [
    ['qemu-logs', '/var/log/libvirt/qemu'],
    ['sidecar-state', '/var/lib/libvirt-telemetry/sidecar'],
  ]);
});

test('manifests: the PrometheusRule and the dashboard ConfigMap hold deploy/\'s rules and dashboard', (t) => {
  const rule = find(VARIANT.get(MANIFEST_FILES.alerts)!, 'PrometheusRule');
  t.deepEqual(rule['spec'], YAML.parse(readFileSync(path.join(REPO_ROOT, 'deploy', 'prometheus', 'libvirt-telemetry.rules.yml'), 'utf8')));
  t.is(rule['metadata'].namespace, 'obs');
  const dashboard = find(VARIANT.get(MANIFEST_FILES.dashboard)!, 'ConfigMap');
  t.is(dashboard['data']['libvirt-telemetry.json'], readFileSync(path.join(REPO_ROOT, 'deploy', 'grafana', 'libvirt-telemetry.json'), 'utf8'));
  t.is(dashboard['metadata'].labels.grafana_dashboard, '1');
});

// The checks above can fail: broken variants of the generated objects are rejected.
const BROKEN: [string, string, (docs: Map<string, Obj[]>) => Obj][] = [
  ['containerPort as text', MANIFEST_FILES.exporter, (f) => {
    const d = find(f.get(MANIFEST_FILES.exporter)!, 'DaemonSet');
    d['spec'].template.spec.containers[0].ports[0].containerPort = '9177';
    return d;
  }],
  ['DaemonSet without selector', MANIFEST_FILES.exporter, (f) => {
    const d = find(f.get(MANIFEST_FILES.exporter)!, 'DaemonSet');
    delete d['spec'].selector;
    return d;
  }],
  ['memory limit that is no quantity', MANIFEST_FILES.exporter, (f) => {
    const d = find(f.get(MANIFEST_FILES.exporter)!, 'DaemonSet');
    d['spec'].template.spec.containers[0].resources.limits.memory = 'plenty';
    return d;
  }],
  ['ServiceMonitor endpoints not a list', MANIFEST_FILES.exporter, (f) => {
    const d = find(f.get(MANIFEST_FILES.exporter)!, 'ServiceMonitor');
    d['spec'].endpoints = { port: 'metrics' };
    return d;
  }],
  ['Service port out of type', MANIFEST_FILES.exporter, (f) => {
    const d = find(f.get(MANIFEST_FILES.exporter)!, 'Service');
    d['spec'].ports[0].port = 'metrics';
    return d;
  }],
  ['ConfigMap data not text', MANIFEST_FILES.fluentBit, (f) => {
    const d = find(f.get(MANIFEST_FILES.fluentBit)!, 'ConfigMap');
    d['data'] = { 'fluent-bit.conf': 42 };
    return d;
  }],
  ['ClusterRole rule without verbs', MANIFEST_FILES.events, (f) => {
    const d = find(f.get(MANIFEST_FILES.events)!, 'ClusterRole');
    delete d['rules'][0].verbs;
    return d;
  }],
  ['ClusterRoleBinding without roleRef', MANIFEST_FILES.events, (f) => {
    const d = find(f.get(MANIFEST_FILES.events)!, 'ClusterRoleBinding');
    delete d['roleRef'];
    return d;
  }],
  ['CRD without scope', MANIFEST_FILES.crd, (f) => {
    const d = find(f.get(MANIFEST_FILES.crd)!, 'CustomResourceDefinition');
    delete d['spec'].scope;
    return d;
  }],
  ['sidecar volume mount without mountPath', MANIFEST_FILES.sidecar, (f) => {
    const pod = podOfPatch(f.get(MANIFEST_FILES.sidecar)![0]!) as Obj;
    delete pod['spec'].containers[1].volumeMounts[0].mountPath;
    return pod;
  }],
  ['PrometheusRule rule without expr', MANIFEST_FILES.alerts, (f) => {
    const d = find(f.get(MANIFEST_FILES.alerts)!, 'PrometheusRule');
    delete d['spec'].groups[0].rules[0].expr;
    return d;
  }],
  ['an unknown kind', MANIFEST_FILES.exporter, () => ({ apiVersion: 'v1', kind: 'Servce', metadata: { name: 'x' } })],
];

for (const [what, file, breakIt] of BROKEN) {
  test(`manifests: validation rejects ${what} (${file})`, (t) => {
    const copy = new Map([...DEFAULTS].map(([k, v]) => [k, structuredClone(v)]));
    t.throws(() => validateManifest(breakIt(copy)));
  });
}

test('manifests: default --out is ./manifests; a directory with foreign files is refused', (t) => {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'lt-manifests-cwd-'));
  const r = spawnSync(process.execPath, [MAIN, 'generate', 'manifests'], { cwd, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(readdirSync(path.join(cwd, 'manifests')).sort(), [...ALL_MANIFEST_FILE_NAMES].sort());
  const fluentBit = spawnSync(process.execPath, [MAIN, 'generate', 'manifests', '--out', 'fluent-bit'], { cwd, encoding: 'utf8' });
  t.is(fluentBit.status, 0, fluentBit.stderr);
  const refused = spawnSync(process.execPath, [MAIN, 'generate', '--out', 'manifests'], { cwd, encoding: 'utf8' });
  t.is(refused.status, 2);
  t.regex(refused.stderr, /holds files generate did not write/);
});

test('manifests: a literal secret is refused (it would land in a ConfigMap); ${VAR} is accepted', (t) => {
  const base = ['generate', 'manifests', '--out', path.join(mkdtempSync(path.join(os.tmpdir(), 'lt-manifests-')), 'm'), '--output', 'forward', '--forward.host', 'agg'];
  const literal = spawnSync(process.execPath, [MAIN, ...base, '--forward.shared-key', 'hunter2'], { encoding: 'utf8' });
  t.is(literal.status, 2);
  t.regex(literal.stderr, /^libvirt-telemetry generate: --forward.shared-key: the manifests put the configuration into a ConfigMap/);
  const variable = spawnSync(process.execPath, [MAIN, ...base, '--forward.shared-key', '${FORWARD_SHARED_KEY}'], { encoding: 'utf8' });
  t.is(variable.status, 0, variable.stderr);
});

test('manifests: a bad target or namespace is a one-line usage error', (t) => {
  for (const args of [['generate', 'helm'], ['generate', 'manifests', '--k8s.monitoring-namespace', 'Monitoring'], ['generate', 'manifests', '--image', '']]) {
    const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
    t.is(r.status, 2, args.join(' '));
    t.regex(r.stderr, /^libvirt-telemetry generate: [^\n]+\n$/);
  }
});
