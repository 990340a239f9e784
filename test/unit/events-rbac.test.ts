// Least privilege of the HA agent: the rules its RBAC grants are derived here from the requests its client
// can make (KUBE_OPERATIONS) and compared with deploy/rbac/events-rbac.yaml and with what `generate manifests`
// writes: namespaced requests through a Role in the agent's namespace, cluster-scoped ones through a
// ClusterRole, nothing more (no list, no get, no Hypervisor spec).
import { readFileSync } from 'node:fs';
import test from 'ava';
import YAML from 'yaml';
import { KUBE_OPERATIONS, type KubeOperation } from '../../events/kube-client.js';
import { parseCommandLine } from '../../runtime/options.js';
import { generateCommand } from '../../generator/command.js';
import { MANIFEST_FILES } from '../../generator/files.js';
import { generateManifestFiles } from '../../generator/generate.js';

type Obj = Record<string, any>;
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** One rule per group and resource(/subresource), its verbs sorted. */
function rulesFor(operations: readonly KubeOperation[]): Rule[] {
  const byResource = new Map<string, Rule>();
  for (const op of operations) {
    const resource = op.subresource ? `${op.resource}/${op.subresource}` : op.resource;
    const rule = byResource.get(`${op.group} ${resource}`) ?? { apiGroups: [op.group], resources: [resource], verbs: [] };
    if (!rule.verbs.includes(op.verb)) rule.verbs.push(op.verb);
    rule.verbs.sort();
    byResource.set(`${op.group} ${resource}`, rule);
  }
  return [...byResource.values()];
}

const operations: KubeOperation[] = Object.values(KUBE_OPERATIONS);
const roleRules = rulesFor(operations.filter((op) => op.namespaced));
const clusterRoleRules = rulesFor(operations.filter((op) => !op.namespaced));

function one(docs: Obj[], kind: string): Obj {
  const found = docs.filter((d) => d['kind'] === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0]!;
}

const parseAll = (text: string): Obj[] => YAML.parseAllDocuments(text).map((d) => d.toJS() as Obj);
// This file runs from dist/test/unit/.
const shipped = parseAll(readFileSync(new URL('../../../deploy/rbac/events-rbac.yaml', import.meta.url), 'utf8'));
const generated = parseAll(generateManifestFiles(parseCommandLine(generateCommand, ['manifests', '--k8s.ha-namespace', 'ha'], {}).options).get(MANIFEST_FILES.events)!);

test('the requests the client can make: an Eviction create in a namespace, a Hypervisor status patch at the cluster scope', (t) => {
  t.deepEqual(roleRules, [{ apiGroups: ['hypervisor.c5c3.io'], resources: ['evictions'], verbs: ['create'] }]);
  t.deepEqual(clusterRoleRules, [{ apiGroups: ['hypervisor.c5c3.io'], resources: ['hypervisors/status'], verbs: ['patch'] }]);
});

for (const [source, docs, namespace] of [['deploy/rbac/events-rbac.yaml', shipped, 'libvirt-telemetry'], ['generate manifests --k8s.ha-namespace ha', generated, 'ha']] as const) {
  test(`${source}: the Role and ClusterRole grant exactly the client's requests, bound to the agent's ServiceAccount`, (t) => {
    const account = one(docs, 'ServiceAccount');
    t.is(account['metadata'].namespace, namespace);
    const role = one(docs, 'Role');
    t.deepEqual(role['rules'], roleRules);
    t.is(role['metadata'].namespace, namespace, 'the Role lives where the agent creates its Evictions');
    t.deepEqual(one(docs, 'ClusterRole')['rules'], clusterRoleRules);
    const subject = [{ kind: 'ServiceAccount', name: account['metadata'].name, namespace }];
    const roleBinding = one(docs, 'RoleBinding');
    t.is(roleBinding['metadata'].namespace, namespace);
    t.deepEqual(roleBinding['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role['metadata'].name });
    t.deepEqual(roleBinding['subjects'], subject);
    const clusterBinding = one(docs, 'ClusterRoleBinding');
    t.deepEqual(clusterBinding['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: one(docs, 'ClusterRole')['metadata'].name });
    t.deepEqual(clusterBinding['subjects'], subject);
  });
}

test('generate manifests: the agent runs as that ServiceAccount and writes its Evictions into its own namespace (the Role\'s)', (t) => {
  const daemonSet = one(generated, 'DaemonSet');
  const pod = daemonSet['spec'].template.spec;
  t.is(daemonSet['metadata'].namespace, one(generated, 'Role')['metadata'].namespace);
  t.is(pod.serviceAccountName, one(generated, 'ServiceAccount')['metadata'].name);
  // --namespace comes from the DaemonSet's own namespace.
  t.deepEqual(pod.containers[0].env.find((e: Obj) => e['name'] === 'LIBVIRT_TELEMETRY_EVENTS_NAMESPACE'), { name: 'LIBVIRT_TELEMETRY_EVENTS_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
});
