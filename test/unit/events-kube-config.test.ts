// How the agent finds and trusts its API server, through real TLS (a CA made with openssl) against the fake
// API server: the in-cluster service account (token rotation, CA file, IPv6 service address) and the
// kubeconfig variants of development (CA file/data, client certificate file/data, token, tokenFile,
// insecure-skip-tls-verify, tls-server-name, current-context), and the errors for what is not supported.
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { stringify } from 'yaml';
import { buildEviction, serializeEviction, type EvictionCause, type SerializedEviction } from '../../events/eviction.js';
import { KubeApiError, KubeClient } from '../../events/kube-client.js';
import { inClusterConfig, loadKubeConfig, type KubeConnection } from '../../events/kube-config.js';
import type { FakeKubeApiServer } from '../harness/fakes/fake-kube-apiserver.js';
import { HYPERVISOR, startFakeCluster } from '../harness/fakes/kube-fixtures.js';
import { makeTestPki } from '../harness/inputs/tls.js';

const AGENT = 'system:serviceaccount:ha:libvirt-telemetry-events';
const pki = makeTestPki([AGENT, 'someone-else']);
const tls = { key: pki.server.key, cert: pki.server.cert, clientCa: pki.ca };
let incident = 0;

/** A new incident's Eviction, as the writer queues it. */
function eviction(namespace = 'ha'): SerializedEviction {
  const cause: EvictionCause = {
    domain: { name: 'vm1', uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fa0', id: 3 },
    event: 'lifecycle',
    detail: 'stopped/failed',
    explanation: 'the QEMU process ended unexpectedly',
    at: ++incident,
    origin: 'live',
  };
  return serializeEviction(buildEviction(HYPERVISOR, namespace, cause));
}

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kube-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function cluster(t: ExecutionContext, host?: string): Promise<FakeKubeApiServer> {
  const server = await startFakeCluster(['default', 'ha'], 'ha', { tls, ...(host ? { host } : {}) });
  t.teardown(() => server.stop());
  return server;
}

function client(t: ExecutionContext, connection: KubeConnection): KubeClient {
  const c = new KubeClient(connection);
  t.teardown(() => c.close());
  return c;
}

/** A service account mount as kubelet writes it: files behind the `..data` symlink, swapped atomically. */
async function serviceAccountDir(t: ExecutionContext, token: string): Promise<{ dir: string; rotate(next: string): Promise<void> }> {
  const dir = await tempDir(t);
  let generation = 0;
  const publish = async (tokenText: string): Promise<void> => {
    const data = `..data-${++generation}`;
    await mkdir(path.join(dir, data));
    await writeFile(path.join(dir, data, 'token'), tokenText);
    await writeFile(path.join(dir, data, 'ca.crt'), pki.ca);
    await writeFile(path.join(dir, data, 'namespace'), 'ha');
    await symlink(data, path.join(dir, '..data_tmp'));
    await rename(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
  };
  await publish(token);
  for (const file of ['token', 'ca.crt', 'namespace']) await symlink(path.join('..data', file), path.join(dir, file));
  return { dir, rotate: publish };
}

test('in-cluster: service address from the environment, CA and namespace files; a rotated token is used from the next request on', async (t) => {
  const server = await cluster(t);
  const account = await serviceAccountDir(t, server.token);
  const env = { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: new URL(server.url).port };
  const connection = await inClusterConfig(env, account.dir);
  t.is(connection.namespace, 'ha');
  t.is(connection.server.href, `${server.url}/`);
  const kube = client(t, connection);
  t.is(await kube.createEviction(eviction(), AbortSignal.timeout(5000)), 'created');
  // kubelet rotates the token; the API server no longer accepts the old one.
  await account.rotate('rotated-token');
  server.acceptTokens('rotated-token');
  t.is(await kube.createEviction(eviction(), AbortSignal.timeout(5000)), 'created');
  t.deepEqual(server.requests.map((r) => [r.token, r.status]), [[server.token, 201], ['rotated-token', 201]]);
});

test('in-cluster: an IPv6 service address (no brackets in KUBERNETES_SERVICE_HOST)', async (t) => {
  const server = await cluster(t, '::1');
  const account = await serviceAccountDir(t, server.token);
  const connection = await inClusterConfig({ KUBERNETES_SERVICE_HOST: '::1', KUBERNETES_SERVICE_PORT: new URL(server.url).port }, account.dir);
  t.is(connection.server.hostname, '[::1]');
  t.is(await client(t, connection).createEviction(eviction(), AbortSignal.timeout(5000)), 'created');
  t.is(server.objects('evictions').length, 1);
});

test('in-cluster: outside a pod, or without the token, a one-line error that says what is missing', async (t) => {
  await t.throwsAsync(loadKubeConfig(undefined, {}), { message: 'not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT unset): give --kubeconfig' });
  const dir = await tempDir(t);
  await t.throwsAsync(inClusterConfig({ KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir), {
    message: new RegExp(`^in-cluster service account: cannot read ${dir}/token: ENOENT`),
  });
});

interface KubeconfigParts {
  cluster: Record<string, unknown>;
  user?: Record<string, unknown>;
}

/** A kubeconfig with a decoy context first and the current one pointing at `parts`. */
async function kubeconfig(t: ExecutionContext, parts: KubeconfigParts, files: Record<string, Buffer | string> = {}): Promise<string> {
  const dir = await tempDir(t);
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
  const file = path.join(dir, 'config');
  await writeFile(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'decoy', cluster: { server: 'https://192.0.2.1:6443' } },
        { name: 'dev', cluster: parts.cluster },
      ],
      users: [{ name: 'decoy', user: { token: 'nope' } }, ...(parts.user ? [{ name: 'dev', user: parts.user }] : [])],
      contexts: [
        { name: 'decoy', context: { cluster: 'decoy', user: 'decoy', namespace: 'default' } },
        { name: 'dev', context: { cluster: 'dev', ...(parts.user ? { user: 'dev' } : {}), namespace: 'ha' } },
      ],
      'current-context': 'dev',
    }),
  );
  return file;
}

const b64 = (data: Buffer | string): string => Buffer.from(data).toString('base64');

test('kubeconfig: certificate-authority file (relative to the kubeconfig) and token, in the current context', async (t) => {
  const server = await cluster(t);
  const file = await kubeconfig(t, { cluster: { server: server.url, 'certificate-authority': 'ca.crt' }, user: { token: server.token } }, { 'ca.crt': pki.ca });
  const connection = await loadKubeConfig(file);
  t.is(connection.namespace, 'ha');
  t.is(await client(t, connection).createEviction(eviction(), AbortSignal.timeout(5000)), 'created');
});

test('kubeconfig: client certificate and key as data authenticate as the certificate\'s CN (no token)', async (t) => {
  const server = await cluster(t);
  const agent = pki.clients.get(AGENT)!;
  const file = await kubeconfig(t, {
    cluster: { server: server.url, 'certificate-authority-data': b64(pki.ca) },
    user: { 'client-certificate-data': b64(agent.cert), 'client-key-data': b64(agent.key) },
  });
  t.is(await client(t, await loadKubeConfig(file)).createEviction(eviction(), AbortSignal.timeout(5000)), 'created');
  t.is(server.requests.at(-1)!.token, undefined);
});

test('kubeconfig: client certificate and key files; another user\'s certificate is forbidden (403, the Status message)', async (t) => {
  const server = await cluster(t);
  const other = pki.clients.get('someone-else')!;
  const file = await kubeconfig(
    t,
    { cluster: { server: server.url, 'certificate-authority': 'ca.crt' }, user: { 'client-certificate': 'client.crt', 'client-key': 'client.key' } },
    { 'ca.crt': pki.ca, 'client.crt': other.cert, 'client.key': other.key },
  );
  const err = await t.throwsAsync(client(t, await loadKubeConfig(file)).createEviction(eviction(), AbortSignal.timeout(5000)), { instanceOf: KubeApiError });
  t.is(err.code, 403);
  t.regex(err.message, /User "someone-else" cannot create resource "evictions"/);
});

test('kubeconfig: tokenFile, read again when it changes', async (t) => {
  const server = await cluster(t);
  const file = await kubeconfig(t, { cluster: { server: server.url, 'certificate-authority-data': b64(pki.ca) }, user: { tokenFile: 'token' } }, { token: `${server.token}\n` });
  const kube = client(t, await loadKubeConfig(file));
  t.is(await kube.createEviction(eviction(), AbortSignal.timeout(5000)), 'created');
  await writeFile(path.join(path.dirname(file), 'token'), 'next-token');
  server.acceptTokens('next-token');
  t.is(await kube.createEviction(eviction(), AbortSignal.timeout(5000)), 'created');
  t.deepEqual(server.requests.map((r) => r.token), [server.token, 'next-token']);
});

test('TLS: a server certificate from another CA is refused before any request is sent; insecure-skip-tls-verify accepts it', async (t) => {
  const server = await cluster(t);
  const wrongCa = await kubeconfig(t, { cluster: { server: server.url, 'certificate-authority-data': b64(pki.otherCa) }, user: { token: server.token } });
  const refused = await t.throwsAsync(client(t, await loadKubeConfig(wrongCa)).createEviction(eviction(), AbortSignal.timeout(5000)));
  // The server sends its CA along (as kube-apiserver may): a chain ending in a root the client does not trust.
  t.is((refused as NodeJS.ErrnoException).code, 'SELF_SIGNED_CERT_IN_CHAIN');
  t.false(refused instanceof KubeApiError);
  const systemCas = await kubeconfig(t, { cluster: { server: server.url }, user: { token: server.token } });
  await t.throwsAsync(client(t, await loadKubeConfig(systemCas)).createEviction(eviction(), AbortSignal.timeout(5000)));
  t.is(server.requests.length, 0);
  const insecure = await kubeconfig(t, { cluster: { server: server.url, 'insecure-skip-tls-verify': true }, user: { token: server.token } });
  t.is(await client(t, await loadKubeConfig(insecure)).createEviction(eviction(), AbortSignal.timeout(5000)), 'created');
});

test('TLS: tls-server-name is the name the certificate is checked against', async (t) => {
  const server = await cluster(t);
  const named = (name: string) => kubeconfig(t, { cluster: { server: server.url, 'certificate-authority-data': b64(pki.ca), 'tls-server-name': name }, user: { token: server.token } });
  t.is(await client(t, await loadKubeConfig(await named('kubernetes.default.svc'))).createEviction(eviction(), AbortSignal.timeout(5000)), 'created');
  const mismatch = await t.throwsAsync(client(t, await loadKubeConfig(await named('elsewhere.example'))).createEviction(eviction(), AbortSignal.timeout(5000)));
  t.is((mismatch as NodeJS.ErrnoException).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
});

test('kubeconfig: what cannot work is a one-line error at start, naming the file and entry', async (t) => {
  const cases: [KubeconfigParts, Record<string, string>, RegExp][] = [
    [{ cluster: { server: 'https://k:6443' }, user: { exec: { command: 'aws' } } }, {}, /user dev: 'exec' credentials are not supported; use a token, tokenFile or client certificate$/],
    [{ cluster: { server: 'https://k:6443' }, user: { 'auth-provider': { name: 'oidc' } } }, {}, /'auth-provider' credentials are not supported/],
    [{ cluster: { server: 'https://k:6443', 'certificate-authority-data': b64(pki.ca), 'insecure-skip-tls-verify': true } }, {}, /cluster dev: certificate-authority and insecure-skip-tls-verify exclude each other$/],
    [{ cluster: { server: 'https://k:6443' }, user: { 'client-certificate-data': b64(pki.server.cert) } }, {}, /a client certificate needs its key and a key its certificate$/],
    [{ cluster: { server: 'https://k:6443', 'certificate-authority': 'missing.crt' } }, {}, /cluster dev: cannot read certificate-authority .*missing\.crt: ENOENT/],
    [{ cluster: { server: 'ftp://k' } }, {}, /server 'ftp:\/\/k' is neither https nor http$/],
    [{ cluster: {} }, {}, /cluster dev: no server$/],
    [{ cluster: { server: 'https://k:6443', 'proxy-url': 'http://proxy:3128' } }, {}, /proxy-url is not supported/],
  ];
  for (const [parts, files, message] of cases) {
    await t.throwsAsync(loadKubeConfig(await kubeconfig(t, parts, files)), { message }, JSON.stringify(parts));
  }
  const dir = await tempDir(t);
  const write = async (name: string, text: string) => {
    await writeFile(path.join(dir, name), text);
    return path.join(dir, name);
  };
  await t.throwsAsync(loadKubeConfig(path.join(dir, 'absent')), { message: /^cannot read kubeconfig .*absent: ENOENT/ });
  await t.throwsAsync(loadKubeConfig(await write('notyaml', 'a: [')), { message: /^kubeconfig .*notyaml is not YAML: / });
  await t.throwsAsync(loadKubeConfig(await write('nocontext', 'apiVersion: v1\nkind: Config\n')), { message: /nocontext has no current-context$/ });
  await t.throwsAsync(loadKubeConfig(await write('dangling', 'current-context: gone\ncontexts: []\n')), { message: /dangling: no context named 'gone'$/ });
});
