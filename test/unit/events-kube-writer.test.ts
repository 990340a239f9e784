// The Kubernetes side of the agent through its own client (events/kube-client.ts), against the fake API
// server via a generated kubeconfig: idempotent creates, merge patches, retries on 5xx/429/timeouts, no retry
// on permanent errors (403, 404, 422), and a bounded queue that never blocks the caller.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { buildEviction, rebootStatusPatch, serializeEviction, type EvictionCause } from '../../events/eviction.js';
import { httpStatus, KubeApiError, KubeClient } from '../../events/kube-client.js';
import { loadKubeConfig } from '../../events/kube-config.js';
import { KubeWriter, type FailureReason, type KubeWriterOptions, type WriteJob } from '../../events/kube-writer.js';
import type { FakeKubeApiServer } from '../harness/fakes/fake-kube-apiserver.js';
import { HYPERVISOR, startFakeCluster } from '../harness/fakes/kube-fixtures.js';

const domain = { name: 'vm1', uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fa0', id: 3 };

function cause(at: number, detail = 'stopped/failed'): EvictionCause {
  return { domain, event: 'lifecycle', detail, explanation: 'the QEMU process ended unexpectedly', at, origin: 'live' };
}

async function clientFor(server: FakeKubeApiServer, t: { teardown(fn: () => Promise<void>): void }): Promise<KubeClient> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kubeconfig-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'config');
  await server.writeKubeconfig(file, 'ha');
  const connection = await loadKubeConfig(file);
  if (connection.namespace !== 'ha') throw new Error(`context namespace ${connection.namespace}`);
  const client = new KubeClient(connection);
  t.teardown(async () => client.close());
  return client;
}

interface Outcome {
  done: { key: string; outcome: string; attempts: number }[];
  retries: { key: string; status: string }[];
  failed: { key: string; reason: FailureReason; error: string }[];
}

function writer(client: KubeClient, overrides: Partial<KubeWriterOptions> = {}): { writer: KubeWriter; log: Outcome; evict: (c: EvictionCause) => WriteJob } {
  const log: Outcome = { done: [], retries: [], failed: [] };
  const w = new KubeWriter(
    { capacity: 100, concurrency: 4, requestTimeoutMs: 2000, retryForMs: 20_000, backoffMinMs: 20, backoffMaxMs: 200, ...overrides },
    {
      done: (job, outcome, attempts) => log.done.push({ key: job.key, outcome, attempts }),
      retry: (job, error) => log.retries.push({ key: job.key, status: String(httpStatus(error) ?? (error as Error).name) }),
      failed: (job, error, reason) => log.failed.push({ key: job.key, reason, error: String(error) }),
    },
  );
  const evict = (c: EvictionCause): WriteJob => {
    const eviction = buildEviction(HYPERVISOR, 'ha', c);
    return { kind: 'eviction', key: eviction.metadata.name, summary: eviction.spec.reason, run: (signal) => client.createEviction(serializeEviction(eviction), signal) };
  };
  return { writer: w, log, evict };
}

test('createEviction: 201 then 409 AlreadyExists counts as done; the stored object is the Eviction we built', async (t) => {
  const server = await startFakeCluster();
  t.teardown(() => server.stop());
  const client = await clientFor(server, t);
  const eviction = buildEviction(HYPERVISOR, 'ha', cause(1_000));
  t.is(await client.createEviction(serializeEviction(eviction), AbortSignal.timeout(5000)), 'created');
  t.is(await client.createEviction(serializeEviction(eviction), AbortSignal.timeout(5000)), 'exists');
  const [stored] = server.objects('evictions');
  t.like(stored, { apiVersion: 'hypervisor.c5c3.io/v1', kind: 'Eviction', metadata: { name: eviction.metadata.name, namespace: 'ha' }, spec: eviction.spec });
  t.is(server.objects('evictions').length, 1);
  const posts = server.requests.filter((r) => r.method === 'POST');
  t.deepEqual(posts.map((r) => [r.status, r.contentType]), [[201, 'application/json'], [409, 'application/json']]);
  t.is(server.connections, 1, 'one kept-alive connection');
});

test('the stored Eviction names the VM as the series and records do (spec.domain, spec.uuid), and a label selector on the uuid finds it', async (t) => {
  const server = await startFakeCluster();
  t.teardown(() => server.stop());
  const client = await clientFor(server, t);
  const other = { name: 'vm2', uuid: '0b1c2d3e-0000-4000-8000-000000000002', id: 4 };
  for (const [i, d] of [domain, other].entries()) t.is(await client.createEviction(serializeEviction(buildEviction(HYPERVISOR, 'ha', { ...cause(3_000 + i), domain: d })), AbortSignal.timeout(5000)), 'created');
  // As `kubectl get evictions -l hypervisor.c5c3.io/uuid=<uuid>` asks it, with an operator's credentials.
  const res = await fetch(`${server.url}/apis/hypervisor.c5c3.io/v1/namespaces/ha/evictions?labelSelector=${encodeURIComponent(`hypervisor.c5c3.io/uuid=${domain.uuid}`)}`, {
    headers: { authorization: `Bearer ${server.adminToken}` },
  });
  const list = (await res.json()) as { items: { spec: Record<string, string>; metadata: { labels: Record<string, string> } }[] };
  t.is(res.status, 200);
  t.is(list.items.length, 1);
  t.deepEqual(list.items[0]!.spec, { hypervisor: HYPERVISOR, reason: `domain vm1 (uuid ${domain.uuid}): lifecycle stopped/failed — the QEMU process ended unexpectedly`, domain: 'vm1', uuid: domain.uuid });
  t.is(list.items[0]!.metadata.labels['hypervisor.c5c3.io/domain-uuid'], domain.uuid, 'the older label stays');
});

test('createEviction: outside the namespace of its Role, 403 Forbidden with the API server\'s Status', async (t) => {
  const server = await startFakeCluster();
  t.teardown(() => server.stop());
  const client = await clientFor(server, t);
  const eviction = buildEviction(HYPERVISOR, 'default', cause(2_000));
  const err = await t.throwsAsync(client.createEviction(serializeEviction(eviction), AbortSignal.timeout(5000)), { instanceOf: KubeApiError });
  t.is(err.code, 403);
  t.is(err.reason, 'Forbidden');
  t.regex(err.message, /^POST \/apis\/hypervisor\.c5c3\.io\/v1\/namespaces\/default\/evictions: 403 Forbidden: evictions\.hypervisor\.c5c3\.io is forbidden: User "system:serviceaccount:ha:libvirt-telemetry-events" cannot create resource "evictions" in API group "hypervisor\.c5c3\.io" in the namespace "default"$/);
  t.is(server.objects('evictions').length, 0);
});

test('patchHypervisorStatus: a merge patch of the status subresource, leaving other status fields', async (t) => {
  const server = await startFakeCluster();
  t.teardown(() => server.stop());
  server.seed({ apiVersion: 'hypervisor.c5c3.io/v1', kind: 'Hypervisor', metadata: { name: 'hv-b' }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  const client = await clientFor(server, t);
  await client.patchHypervisorStatus('hv-b', rebootStatusPatch('hv-b', { domain, at: Date.UTC(2026, 0, 2, 3, 4, 5) }), AbortSignal.timeout(5000));
  const patch = server.requests.at(-1)!;
  t.is(patch.method, 'PATCH');
  t.is(patch.path, '/apis/hypervisor.c5c3.io/v1/hypervisors/hv-b/status');
  t.is(patch.contentType, 'application/merge-patch+json');
  const hv = server.objects('hypervisors').find((o) => (o.metadata as { name: string }).name === 'hv-b')!;
  t.deepEqual(hv.status, {
    conditions: [{ type: 'Ready', status: 'True' }],
    lastDomainReboot: { domain: 'vm1', uuid: domain.uuid, time: '2026-01-02T03:04:05.000Z' },
  });
});

test('writer: 5xx and 429 are retried with backoff until the create succeeds', async (t) => {
  const server = await startFakeCluster();
  t.teardown(() => server.stop());
  const { writer: w, log, evict } = writer(await clientFor(server, t));
  server.injectFault({ kind: 'error', code: 503 }, { method: 'POST' });
  server.injectFault({ kind: 'error', code: 500 }, { method: 'POST' });
  server.injectFault({ kind: 'error', code: 429, retryAfterSeconds: 0 }, { method: 'POST' });
  const job = evict(cause(3_000));
  t.true(w.enqueue(job));
  t.true(await w.drain(10_000));
  t.deepEqual(log.retries.map((r) => r.status), ['503', '500', '429']);
  t.deepEqual(log.done, [{ key: job.key, outcome: 'created', attempts: 4 }]);
  t.is(server.objects('evictions').length, 1);
});

test('writer: a create committed but answered with 504, or dropped, is retried and ends as exactly one Eviction', async (t) => {
  const server = await startFakeCluster();
  t.teardown(() => server.stop());
  const { writer: w, log, evict } = writer(await clientFor(server, t));
  server.injectFault({ kind: 'commit-then-error', code: 504 }, { method: 'POST' });
  server.injectFault({ kind: 'commit-then-drop' }, { method: 'POST' });
  const a = evict(cause(4_000));
  const b = evict(cause(5_000));
  w.enqueue(a);
  w.enqueue(b);
  t.true(await w.drain(10_000));
  t.is(log.retries.length, 2);
  t.deepEqual(log.done.map((d) => d.outcome).sort(), ['exists', 'exists']);
  t.deepEqual(server.objects('evictions').map((o) => (o.metadata as { name: string }).name).sort(), [a.key, b.key].sort());
});

test('writer: a request that hangs past the timeout is aborted and retried; the slow server still committed it once', async (t) => {
  const server = await startFakeCluster();
  t.teardown(() => server.stop());
  const { writer: w, log, evict } = writer(await clientFor(server, t), { requestTimeoutMs: 300 });
  server.injectFault({ kind: 'hang', ms: 800 }, { method: 'POST' });
  w.enqueue(evict(cause(6_000)));
  t.true(await w.drain(10_000));
  // On a loaded machine a retry may time out too: at least the hung request was aborted and retried.
  t.true(log.retries.length >= 1);
  t.is(log.retries[0]!.status, 'AbortError');
  t.is(log.done.length, 1);
  while (server.requests.some((r) => r.status === 0)) await new Promise((resolve) => setTimeout(resolve, 50)); // the hung request ends on the server
  t.is(server.objects('evictions').length, 1);
});

test('writer: permanent errors (404 Hypervisor, 422, 403) fail at once without retry', async (t) => {
  const server = await startFakeCluster();
  t.teardown(() => server.stop());
  const client = await clientFor(server, t);
  const { writer: w, log } = writer(client);
  w.enqueue({ kind: 'hypervisor-status', key: 'status:nope', summary: 'reboot', run: (s) => client.patchHypervisorStatus('nope', rebootStatusPatch('nope', { domain, at: 0 }), s).then(() => 'patched') });
  const broken = buildEviction(HYPERVISOR, 'ha', cause(7_000));
  const invalid = { ...broken, spec: { hypervisor: HYPERVISOR } } as unknown as typeof broken;
  w.enqueue({ kind: 'eviction', key: 'invalid', summary: 'invalid', run: (s) => client.createEviction(serializeEviction(invalid), s) });
  const elsewhere = buildEviction(HYPERVISOR, 'default', cause(7_001));
  w.enqueue({ kind: 'eviction', key: 'forbidden', summary: 'forbidden', run: (s) => client.createEviction(serializeEviction(elsewhere), s) });
  t.true(await w.drain(10_000));
  t.is(log.retries.length, 0);
  t.deepEqual(log.failed.map((f) => f.reason), ['permanent', 'permanent', 'permanent']);
  const errors = log.failed.map((f) => f.error).join('\n');
  t.regex(errors, /: 404 NotFound: hypervisors\.hypervisor\.c5c3\.io "nope" not found/);
  t.regex(errors, /: 422 Invalid: Eviction\.hypervisor\.c5c3\.io "[^"]+" is invalid: spec\.reason: Required value/);
  t.regex(errors, /: 403 Forbidden: /);
});

test('writer: an unreachable API server is retried until retryFor, then given up (counted, not thrown)', async (t) => {
  const server = await startFakeCluster();
  const client = await clientFor(server, t);
  await server.stop();
  const { writer: w, log, evict } = writer(client, { retryForMs: 300, backoffMinMs: 50, backoffMaxMs: 100 });
  w.enqueue(evict(cause(8_000)));
  t.true(await w.drain(10_000));
  t.true(log.retries.length >= 1);
  t.deepEqual(log.failed.map((f) => f.reason), ['gave-up']);
});

test('writer: enqueue never blocks; beyond capacity writes are rejected and reported; equal keys coalesce', async (t) => {
  const server = await startFakeCluster();
  t.teardown(() => server.stop());
  const client = await clientFor(server, t);
  // The request timeout stays out of the way: the API server holds the first write as long as the test wants.
  const { writer: w, log, evict } = writer(client, { capacity: 5, concurrency: 1, requestTimeoutMs: 60_000 });
  let answer!: () => void;
  server.injectFault({ kind: 'hold', until: new Promise<void>((resolve) => (answer = resolve)) }, { method: 'POST' });
  const held = new Promise<void>((resolve) => (server.onRequest = (entry) => entry.method === 'POST' && resolve()));
  const accepted = [w.enqueue(evict(cause(10_000)))];
  await held;
  // The API server has the first write and does not answer: intake goes on regardless, each enqueue
  // settling at once (a boolean, not a promise waiting for the server).
  for (let i = 1; i < 8; i++) accepted.push(w.enqueue(evict(cause(10_000 + i))));
  t.deepEqual(accepted, [true, true, true, true, true, false, false, false]);
  t.deepEqual(log.failed.map((f) => f.reason), ['queue-full', 'queue-full', 'queue-full']);
  t.deepEqual(log.done, [], 'nothing was answered yet');
  t.is(w.size, 5);
  server.onRequest = undefined;
  answer();
  // Two status patches for the same Hypervisor while the first is still queued: only the newer is sent.
  const { writer: w2, log: log2 } = writer(client, { concurrency: 1 });
  const patch = (at: number): WriteJob => ({
    kind: 'hypervisor-status',
    key: `status:${HYPERVISOR}`,
    summary: `reboot at ${at}`,
    run: (s) => client.patchHypervisorStatus(HYPERVISOR, rebootStatusPatch(HYPERVISOR, { domain, at }), s).then(() => 'patched'),
  });
  w2.enqueue(evict(cause(20_000)));
  w2.enqueue(patch(Date.UTC(2026, 0, 1)));
  w2.enqueue(patch(Date.UTC(2026, 0, 2)));
  t.true(await w2.drain(10_000));
  t.is(log2.done.filter((d) => d.outcome === 'patched').length, 1);
  const hv = server.objects('hypervisors').find((o) => (o.metadata as { name: string }).name === HYPERVISOR)!;
  t.is((hv.status as { lastDomainReboot: { time: string } }).lastDomainReboot.time, '2026-01-02T00:00:00.000Z');
  t.true(await w.drain(10_000));
  t.is(log.done.length, 5);
});
