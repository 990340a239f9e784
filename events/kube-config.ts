// Where the agent's Kubernetes API server is and how it authenticates: the in-cluster service account
// (KUBERNETES_SERVICE_HOST/PORT, the token, CA and namespace files kubelet mounts), or a kubeconfig file for
// development (current context: cluster server, CA, insecure-skip-tls-verify, tls-server-name; user token,
// tokenFile, client certificate and key). Credential plugins (exec, auth-provider) are refused with a clear
// error rather than half supported.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/** Where kubelet mounts a pod's service account credentials. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConnection {
  /** `https://host:port` (or `http://` from a kubeconfig), no trailing slash. */
  readonly server: URL;
  /** PEM: the CA bundle that signs the server's certificate; undefined = the system's. */
  readonly ca?: Buffer;
  /** PEM client certificate and key (kubeconfig only). */
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** Accept any server certificate (kubeconfig `insecure-skip-tls-verify`). */
  readonly insecure: boolean;
  /** The name the server certificate is checked against instead of the server's host. */
  readonly servername?: string;
  /** The bearer token for the next request, if the user has one. */
  readonly token?: TokenSource;
  /** The namespace of the kubeconfig context, in-cluster the service account's. */
  readonly namespace?: string;
  /** Where the settings came from, for error messages. */
  readonly origin: string;
}

export interface TokenSource {
  current(): Promise<string>;
}

/** A fixed token (kubeconfig `token`). */
export class StaticToken implements TokenSource {
  constructor(private readonly token: string) {}
  current(): Promise<string> {
    return Promise.resolve(this.token);
  }
}

/**
 * A token file that kubelet rewrites when it rotates the projected service-account token (an atomic swap of
 * the mount's `..data` symlink). The file is stat'ed before each request and read again when it changed,
 * so a rotated token is used from the next request on.
 */
export class TokenFile implements TokenSource {
  private token: string | undefined;
  private version = '';

  constructor(readonly file: string) {}

  async current(): Promise<string> {
    const info = await stat(this.file);
    const version = `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
    if (this.token === undefined || version !== this.version) {
      const token = (await readFile(this.file, 'utf8')).trim();
      if (!token) throw new Error(`token file ${this.file} is empty`);
      this.token = token;
      this.version = version;
    }
    return this.token;
  }
}

/** Loads a kubeconfig file, or the in-cluster service account when `file` is undefined. */
export async function loadKubeConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<KubeConnection> {
  return file === undefined ? await inClusterConfig(env) : await kubeconfigFile(file);
}

/** The pod's service account: API server from the environment, credentials from `dir`. */
export async function inClusterConfig(env: NodeJS.ProcessEnv, dir = SERVICE_ACCOUNT_DIR): Promise<KubeConnection> {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) throw new Error('not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT unset): give --kubeconfig');
  // An IPv6 service address comes without brackets (fd00:10:96::1).
  const server = new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`);
  const token = new TokenFile(path.join(dir, 'token'));
  await token.current().catch((err: unknown) => {
    throw new Error(`in-cluster service account: cannot read ${token.file}: ${(err as Error).message}`);
  });
  const ca = await readFile(path.join(dir, 'ca.crt')).catch((err: unknown) => {
    throw new Error(`in-cluster service account: cannot read ${path.join(dir, 'ca.crt')}: ${(err as Error).message}`);
  });
  const namespace = (await readFile(path.join(dir, 'namespace'), 'utf8').catch(() => '')).trim() || undefined;
  return { server, ca, insecure: false, token, ...(namespace ? { namespace } : {}), origin: `in-cluster service account (${dir})` };
}

type Fields = Record<string, unknown>;

/** The named entry of a kubeconfig list (`clusters`, `contexts`, `users`), its inner object. */
function entry(config: Fields, list: string, inner: string, name: string, file: string): Fields {
  const items = Array.isArray(config[list]) ? (config[list] as (Fields | null)[]) : [];
  const found = items.find((item) => item?.['name'] === name)?.[inner];
  if (typeof found !== 'object' || found === null) throw new Error(`kubeconfig ${file}: no ${list.slice(0, -1)} named '${name}'`);
  return found as Fields;
}

function text(fields: Fields, key: string, where: string): string | undefined {
  const value = fields[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`${where}: ${key} must be a string`);
  return value;
}

/** PEM material from `<key>-data` (base64) or the file `<key>` (relative to the kubeconfig's directory). */
async function material(fields: Fields, key: string, where: string, base: string): Promise<Buffer | undefined> {
  const data = text(fields, `${key}-data`, where);
  if (data !== undefined) return Buffer.from(data, 'base64');
  const file = text(fields, key, where);
  if (file === undefined) return undefined;
  const resolved = path.resolve(base, file);
  return await readFile(resolved).catch((err: unknown) => {
    throw new Error(`${where}: cannot read ${key} ${resolved}: ${(err as Error).message}`);
  });
}

export async function kubeconfigFile(file: string): Promise<KubeConnection> {
  const raw = await readFile(file, 'utf8').catch((err: unknown) => {
    throw new Error(`cannot read kubeconfig ${file}: ${(err as Error).message}`);
  });
  // The YAML parser is only needed here, outside a cluster: loaded on demand.
  const { parse } = await import('yaml');
  let config: unknown;
  try {
    config = parse(raw);
  } catch (err) {
    throw new Error(`kubeconfig ${file} is not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof config !== 'object' || config === null) throw new Error(`kubeconfig ${file} is not a kubeconfig (no mapping)`);
  const fields = config as Fields;
  const contextName = text(fields, 'current-context', `kubeconfig ${file}`);
  if (!contextName) throw new Error(`kubeconfig ${file} has no current-context`);
  const context = entry(fields, 'contexts', 'context', contextName, file);
  const clusterName = text(context, 'cluster', `kubeconfig ${file}, context ${contextName}`);
  if (!clusterName) throw new Error(`kubeconfig ${file}: context '${contextName}' names no cluster`);
  const cluster = entry(fields, 'clusters', 'cluster', clusterName, file);
  const userName = text(context, 'user', `kubeconfig ${file}, context ${contextName}`);
  const user = userName === undefined ? {} : entry(fields, 'users', 'user', userName, file);
  const base = path.dirname(path.resolve(file));
  const clusterWhere = `kubeconfig ${file}, cluster ${clusterName}`;
  const userWhere = `kubeconfig ${file}, user ${userName}`;

  const serverText = text(cluster, 'server', clusterWhere);
  if (!serverText) throw new Error(`${clusterWhere}: no server`);
  let server: URL;
  try {
    server = new URL(serverText);
  } catch {
    throw new Error(`${clusterWhere}: server '${serverText}' is not a URL`);
  }
  if (server.protocol !== 'https:' && server.protocol !== 'http:') throw new Error(`${clusterWhere}: server '${serverText}' is neither https nor http`);
  if (text(cluster, 'proxy-url', clusterWhere)) throw new Error(`${clusterWhere}: proxy-url is not supported; reach the API server directly`);
  for (const unsupported of ['exec', 'auth-provider', 'username', 'password']) {
    if (user[unsupported] !== undefined) throw new Error(`${userWhere}: '${unsupported}' credentials are not supported; use a token, tokenFile or client certificate`);
  }

  const ca = await material(cluster, 'certificate-authority', clusterWhere, base);
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  // As kubectl: a CA and "trust anyone" contradict each other.
  if (insecure && ca) throw new Error(`${clusterWhere}: certificate-authority and insecure-skip-tls-verify exclude each other`);
  const cert = await material(user, 'client-certificate', userWhere, base);
  const key = await material(user, 'client-key', userWhere, base);
  if ((cert === undefined) !== (key === undefined)) throw new Error(`${userWhere}: a client certificate needs its key and a key its certificate`);
  const tokenText = text(user, 'token', userWhere);
  const tokenFile = text(user, 'tokenFile', userWhere);
  const token = tokenText !== undefined ? new StaticToken(tokenText) : tokenFile !== undefined ? new TokenFile(path.resolve(base, tokenFile)) : undefined;
  const servername = text(cluster, 'tls-server-name', clusterWhere);
  const namespace = text(context, 'namespace', `kubeconfig ${file}, context ${contextName}`);
  return {
    server,
    ...(ca ? { ca } : {}),
    ...(cert && key ? { cert, key } : {}),
    insecure,
    ...(servername ? { servername } : {}),
    ...(token ? { token } : {}),
    ...(namespace ? { namespace } : {}),
    origin: `kubeconfig ${file}`,
  };
}
