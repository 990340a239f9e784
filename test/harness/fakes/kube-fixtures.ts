// The fake API server set up the way the agent meets a real cluster: the Eviction CRD and the RBAC we
// ship (deploy/rbac/: the Role in the agent's namespace, the ClusterRole), a Hypervisor CRD as the operator would install it, and a Hypervisor object.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../repo.js';
import { FakeKubeApiServer, type CustomResourceDefinition, type FakeKubeApiServerOptions, type PolicyRule } from './fake-kube-apiserver.js';

function yamlDocuments(file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(path.join(REPO_ROOT, file), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
}

export function evictionCrd(): CustomResourceDefinition {
  return yamlDocuments('deploy/crd/eviction-crd.yaml')[0] as unknown as CustomResourceDefinition;
}

export function hypervisorCrd(): CustomResourceDefinition {
  return yamlDocuments('test/fixtures/events/hypervisor-crd.yaml')[0] as unknown as CustomResourceDefinition;
}

interface Binding {
  roleRef: { kind: string; name: string };
  subjects: { kind: string; name: string; namespace: string }[];
}

/**
 * The RBAC of deploy/rbac/events-rbac.yaml moved to `namespace` (as `generate manifests` moves it): the rules its
 * bindings grant the agent's ServiceAccount, cluster-wide (ClusterRoleBinding) and in `namespace` (RoleBinding).
 */
export function agentRbac(namespace: string): { user: string; rules: PolicyRule[]; roles: { namespace: string; rules: PolicyRule[] }[] } {
  const docs = yamlDocuments('deploy/rbac/events-rbac.yaml');
  const account = docs.find((d) => d.kind === 'ServiceAccount') as { metadata: { name: string; namespace: string } };
  const granted = (bindingKind: string, roleKind: string): PolicyRule[] =>
    (docs.filter((d) => d.kind === bindingKind) as unknown as Binding[])
      .filter((b) => b.subjects.some((s) => s.kind === 'ServiceAccount' && s.name === account.metadata.name && s.namespace === account.metadata.namespace))
      .flatMap((b) => (docs.find((d) => d.kind === roleKind && (d.metadata as { name: string }).name === b.roleRef.name) as { rules: PolicyRule[] }).rules);
  return {
    user: `system:serviceaccount:${namespace}:${account.metadata.name}`,
    rules: granted('ClusterRoleBinding', 'ClusterRole'),
    roles: [{ namespace, rules: granted('RoleBinding', 'Role') }],
  };
}

export const HYPERVISOR = 'node-1';

/**
 * A started fake API server with our CRDs, the Hypervisor `node-1`, and the agent's RBAC with its
 * namespace `agentNamespace`. `tls` and `host` as in FakeKubeApiServerOptions.
 */
export async function startFakeCluster(
  namespaces = ['default', 'ha'],
  agentNamespace = 'ha',
  extra: Pick<FakeKubeApiServerOptions, 'tls' | 'host'> = {},
): Promise<FakeKubeApiServer> {
  const server = new FakeKubeApiServer({ crds: [evictionCrd(), hypervisorCrd()], namespaces, ...agentRbac(agentNamespace), ...extra });
  await server.start();
  server.seed({
    apiVersion: 'hypervisor.c5c3.io/v1',
    kind: 'Hypervisor',
    metadata: { name: HYPERVISOR },
    spec: {},
  });
  return server;
}
