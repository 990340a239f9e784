// The fake API server must behave like kube-apiserver where the agent depends on it; these tests pin
// the semantics (status codes, Status bodies, resourceVersion, status subresource, RBAC, schema).
import test from 'ava';
import { FakeKubeApiServer } from '../harness/fakes/fake-kube-apiserver.js';
import { evictionCrd, HYPERVISOR, hypervisorCrd, startFakeCluster } from '../harness/fakes/kube-fixtures.js';

/** In the agent's namespace, where its Role lets it create Evictions. */
const EVICTIONS = '/apis/hypervisor.c5c3.io/v1/namespaces/ha/evictions';
const HV_STATUS = `/apis/hypervisor.c5c3.io/v1/hypervisors/${HYPERVISOR}/status`;

type Body = Record<string, any>;

async function call(server: FakeKubeApiServer, method: string, path: string, body?: unknown, contentType = 'application/json', token = server.token) {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Body, headers: res.headers };
}

/** Without RBAC: for the semantics of verbs the agent is not granted. */
async function startUnrestricted(): Promise<FakeKubeApiServer> {
  const server = new FakeKubeApiServer({ crds: [evictionCrd(), hypervisorCrd()], namespaces: ['default', 'ha'] });
  await server.start();
  return server;
}

function eviction(name: string, spec: Body = { hypervisor: HYPERVISOR, reason: 'test' }): Body {
  return { apiVersion: 'hypervisor.c5c3.io/v1', kind: 'Eviction', metadata: { name }, spec };
}

test('create: 201 with server-set metadata; status ignored; the same name again is 409 AlreadyExists', async (t) => {
  const server = await startFakeCluster();
  t.teardown(() => server.stop());
  const created = await call(server, 'POST', EVICTIONS, { ...eviction('e1'), status: { evictionState: 'Succeeded' } });
  t.is(created.status, 201);
  t.is(created.body.metadata.namespace, 'ha');
  t.regex(created.body.metadata.uid, /^[0-9a-f-]{36}$/);
  t.regex(created.body.metadata.resourceVersion, /^\d+$/);
  t.is(created.body.metadata.generation, 1);
  t.is(created.body.status, undefined);
  const again = await call(server, 'POST', EVICTIONS, eviction('e1'));
  t.is(again.status, 409);
  t.like(again.body, { kind: 'Status', status: 'Failure', reason: 'AlreadyExists', code: 409, details: { name: 'e1', group: 'hypervisor.c5c3.io', kind: 'evictions' } });
  t.is(again.body.message, 'evictions.hypervisor.c5c3.io "e1" already exists');
  t.is(server.objects('evictions').length, 1);
});

test('create: schema enforced (422 for a missing required field, unknown fields pruned), bad names rejected', async (t) => {
  const server = await startUnrestricted();
  t.teardown(() => server.stop());
  const missing = await call(server, 'POST', EVICTIONS, eviction('e2', { hypervisor: HYPERVISOR }));
  t.is(missing.status, 422);
  t.is(missing.body.reason, 'Invalid');
  t.regex(missing.body.message, /spec\.reason: Required value/);
  const pruned = await call(server, 'POST', EVICTIONS, eviction('e3', { hypervisor: HYPERVISOR, reason: 'r', extra: 1 }));
  t.is(pruned.status, 201);
  t.deepEqual(pruned.body.spec, { hypervisor: HYPERVISOR, reason: 'r' });
  t.is((await call(server, 'POST', EVICTIONS, eviction('Bad_Name'))).status, 422);
  const badLabel = await call(server, 'POST', EVICTIONS, { ...eviction('e4'), metadata: { name: 'e4', labels: { a: 'has space' } } });
  t.is(badLabel.status, 422);
  t.is((await call(server, 'POST', '/apis/hypervisor.c5c3.io/v1/namespaces/nope/evictions', eviction('e5'))).status, 404);
  t.is((await call(server, 'POST', EVICTIONS, { ...eviction('e6'), apiVersion: 'hypervisor.c5c3.io/v2' })).status, 400);
});

test('authentication and the shipped RBAC: no token 401; outside the Role\'s namespace or verbs, or the ClusterRole, 403', async (t) => {
  const server = await startFakeCluster();
  t.teardown(() => server.stop());
  t.is((await call(server, 'POST', EVICTIONS, eviction('a1'), undefined, 'wrong')).status, 401);
  t.is((await call(server, 'POST', EVICTIONS, eviction('a1'))).status, 201);
  const elsewhere = await call(server, 'POST', EVICTIONS.replace('/ha/', '/default/'), eviction('a2'));
  t.is(elsewhere.status, 403);
  t.is(elsewhere.body.message, 'evictions.hypervisor.c5c3.io is forbidden: User "system:serviceaccount:ha:libvirt-telemetry-events" cannot create resource "evictions" in API group "hypervisor.c5c3.io" in the namespace "default"');
  t.is((await call(server, 'GET', EVICTIONS)).status, 403);
  t.is((await call(server, 'GET', `${EVICTIONS}/a1`)).status, 403);
  const forbidden = await call(server, 'GET', `/apis/hypervisor.c5c3.io/v1/hypervisors/${HYPERVISOR}`);
  t.is(forbidden.status, 403);
  t.is(forbidden.body.reason, 'Forbidden');
  t.regex(forbidden.body.message, /cannot get resource "hypervisors" in API group "hypervisor.c5c3.io" at the cluster scope/);
  t.is((await call(server, 'PATCH', HV_STATUS, { status: {} }, 'application/merge-patch+json')).status, 200);
  t.is((await call(server, 'PATCH', `${EVICTIONS}/x/status`, {}, 'application/merge-patch+json')).status, 403);
  t.is((await call(server, 'DELETE', `${EVICTIONS}/x`)).status, 403);
  t.is((await call(server, 'GET', EVICTIONS, undefined, undefined, server.adminToken)).status, 200, 'an administrator may list');
  server.acceptTokens('rotated');
  t.is((await call(server, 'POST', EVICTIONS, eviction('a3'))).status, 401, 'a token no longer accepted');
  t.is((await call(server, 'POST', EVICTIONS, eviction('a3'), undefined, 'rotated')).status, 201);
});

test('list: items sorted by name, list resourceVersion, label selectors', async (t) => {
  const server = await startUnrestricted();
  t.teardown(() => server.stop());
  for (const [name, app] of [['b', 'x'], ['a', 'y']]) {
    await call(server, 'POST', EVICTIONS, { ...eviction(name!), metadata: { name, labels: { app } } });
  }
  const list = await call(server, 'GET', EVICTIONS);
  t.is(list.body.kind, 'EvictionList');
  t.deepEqual(list.body.items.map((i: Body) => i.metadata.name), ['a', 'b']);
  const newest = Math.max(...list.body.items.map((i: Body) => Number(i.metadata.resourceVersion)));
  t.is(list.body.metadata.resourceVersion, String(newest));
  const selected = await call(server, 'GET', `${EVICTIONS}?labelSelector=${encodeURIComponent('app=x')}`);
  t.deepEqual(selected.body.items.map((i: Body) => i.metadata.name), ['b']);
});

test('status subresource: merge patch changes .status only, keeps other status fields, no-op keeps resourceVersion', async (t) => {
  const server = await startFakeCluster();
  t.teardown(() => server.stop());
  server.seed({ apiVersion: 'hypervisor.c5c3.io/v1', kind: 'Hypervisor', metadata: { name: 'hv2' }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  const path = '/apis/hypervisor.c5c3.io/v1/hypervisors/hv2/status';
  const reboot = { lastDomainReboot: { domain: 'vm', uuid: 'u', time: '2026-01-01T00:00:00.000Z' } };
  const first = await call(server, 'PATCH', path, { spec: { highAvailability: false }, status: reboot }, 'application/merge-patch+json');
  t.is(first.status, 200);
  t.deepEqual(first.body.status, { conditions: [{ type: 'Ready', status: 'True' }], ...reboot });
  t.true(first.body.spec.highAvailability, 'spec is not changed through /status');
  const second = await call(server, 'PATCH', path, { status: reboot }, 'application/merge-patch+json');
  t.is(second.body.metadata.resourceVersion, first.body.metadata.resourceVersion);
  const stale = await call(server, 'PATCH', path, { metadata: { resourceVersion: '1' }, status: { lastDomainReboot: null } }, 'application/merge-patch+json');
  t.is(stale.status, 409);
  t.is(stale.body.reason, 'Conflict');
  t.is((await call(server, 'PATCH', path, { status: reboot }, 'application/strategic-merge-patch+json')).status, 415);
  const invalid = await call(server, 'PATCH', path, { status: { lastDomainReboot: { uuid: 5 } } }, 'application/merge-patch+json');
  t.is(invalid.status, 422);
  t.is((await call(server, 'PATCH', HV_STATUS.replace(HYPERVISOR, 'missing'), { status: reboot }, 'application/merge-patch+json')).status, 404);
});

test('faults: injected 503 answers without a write; commit-then-error writes and still fails', async (t) => {
  const server = await startFakeCluster();
  t.teardown(() => server.stop());
  server.injectFault({ kind: 'error', code: 503, retryAfterSeconds: 2 }, { method: 'POST' });
  const failed = await call(server, 'POST', EVICTIONS, eviction('f1'));
  t.is(failed.status, 503);
  t.is(failed.body.reason, 'ServiceUnavailable');
  t.is(failed.headers.get('retry-after'), '2');
  t.is(server.objects('evictions').length, 0);
  server.injectFault({ kind: 'commit-then-error', code: 504 }, { method: 'POST' });
  t.is((await call(server, 'POST', EVICTIONS, eviction('f1'))).status, 504);
  t.is(server.objects('evictions').length, 1);
  t.is((await call(server, 'POST', EVICTIONS, eviction('f1'))).status, 409);
});
