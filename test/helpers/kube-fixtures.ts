// The fake API server set up the way the agent meets a real cluster: the Eviction CRD and the RBAC we
// ship (events/deploy/), a Hypervisor CRD as the operator would install it, and a Hypervisor object.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { FakeKubeApiServer, type CustomResourceDefinition, type PolicyRule } from './fake-kube-apiserver.js';
import { REPO_ROOT } from '../support/repo.js';

function yamlDocuments(file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(path.join(REPO_ROOT, file), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
}

export function evictionCrd(): CustomResourceDefinition {
  return yamlDocuments('events/deploy/eviction-crd.yaml')[0] as unknown as CustomResourceDefinition;
}

export function hypervisorCrd(): CustomResourceDefinition {
  return yamlDocuments('test/fixtures/events/hypervisor-crd.yaml')[0] as unknown as CustomResourceDefinition;
}

/** The rules of the ClusterRole in events/deploy/rbac.yaml, and the ServiceAccount it is bound to. */
export function agentRbac(): { user: string; rules: PolicyRule[] } {
  const docs = yamlDocuments('events/deploy/rbac.yaml');
  const role = docs.find((d) => d.kind === 'ClusterRole') as { rules: PolicyRule[] };
  const binding = docs.find((d) => d.kind === 'ClusterRoleBinding') as { subjects: { kind: string; name: string; namespace: string }[] };
  const sa = binding.subjects.find((s) => s.kind === 'ServiceAccount')!;
  return { user: `system:serviceaccount:${sa.namespace}:${sa.name}`, rules: role.rules };
}

export const HYPERVISOR = 'node-1';

/** A started fake API server with our CRDs and RBAC, and the Hypervisor `node-1`. */
export async function startFakeCluster(namespaces = ['default', 'ha']): Promise<FakeKubeApiServer> {
  const server = new FakeKubeApiServer({ crds: [evictionCrd(), hypervisorCrd()], namespaces, ...agentRbac() });
  await server.start();
  server.seed({
    apiVersion: 'hypervisor.c5c3.io/v1',
    kind: 'Hypervisor',
    metadata: { name: HYPERVISOR },
    spec: {},
  });
  return server;
}
