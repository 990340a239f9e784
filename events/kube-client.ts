// The two Kubernetes API calls the agent makes, through @kubernetes/client-node: create an Eviction
// (409 = it exists already, which is success for a deterministic name) and merge-patch the status of a
// Hypervisor. Every call takes an AbortSignal (the writer's per-request timeout).
import http from 'node:http';
import https from 'node:https';
import { ApiException, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderMiddleware } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, EVICTION_PLURAL, HYPERVISOR_PLURAL, type Eviction } from './eviction.js';

export type CreateOutcome = 'created' | 'exists';

/** What the writer needs from the Kubernetes API (implemented by KubeClient). */
export interface KubeApi {
  createEviction(eviction: Eviction, signal: AbortSignal): Promise<CreateOutcome>;
  patchHypervisorStatus(name: string, patch: object, signal: AbortSignal): Promise<void>;
}

/** A failure that retrying cannot fix (4xx other than 408/409/429, a name taken by someone else's object). */
export class PermanentKubeError extends Error {
  override readonly name = 'PermanentKubeError';
}

/**
 * Loads a kubeconfig file, or the in-cluster service account when `path` is undefined.
 * Returns the client and the namespace of the current context (the service account's in-cluster).
 */
export function loadKubeConfig(path: string | undefined): { config: KubeConfig; namespace: string | undefined } {
  const config = new KubeConfig();
  if (path !== undefined) config.loadFromFile(path);
  else {
    if (!process.env.KUBERNETES_SERVICE_HOST) throw new Error('not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST unset): give --kubeconfig');
    config.loadFromCluster();
  }
  if (!config.getCurrentCluster()) throw new Error(`kubeconfig ${path ?? '(in-cluster)'} has no current cluster`);
  return { config, namespace: config.getContextObject(config.getCurrentContext())?.namespace };
}

export class KubeClient implements KubeApi {
  private constructor(
    private readonly api: CustomObjectsApi,
    private readonly agent: http.Agent | undefined,
  ) {}

  static async create(config: KubeConfig): Promise<KubeClient> {
    return new KubeClient(config.makeApiClient(CustomObjectsApi), await keepAliveAgent(config));
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent?.destroy();
  }

  async createEviction(eviction: Eviction, signal: AbortSignal): Promise<CreateOutcome> {
    const namespace = eviction.metadata.namespace;
    try {
      await this.api.createNamespacedCustomObject(
        { group: API_GROUP, version: API_VERSION, namespace, plural: EVICTION_PLURAL, body: eviction },
        requestOptions('application/json', signal, this.agent),
      );
      return 'created';
    } catch (err) {
      if (!(err instanceof ApiException) || err.code !== 409) throw err;
    }
    // The name is ours by construction; make sure the object holding it is ours too.
    const existing = (await this.api.getNamespacedCustomObject(
      { group: API_GROUP, version: API_VERSION, namespace, plural: EVICTION_PLURAL, name: eviction.metadata.name },
      requestOptions('application/json', signal, this.agent),
    )) as { spec?: { hypervisor?: string } };
    if (existing.spec?.hypervisor !== eviction.spec.hypervisor) {
      throw new PermanentKubeError(`Eviction ${namespace}/${eviction.metadata.name} exists for another hypervisor (${String(existing.spec?.hypervisor)})`);
    }
    return 'exists';
  }

  async patchHypervisorStatus(name: string, patch: object, signal: AbortSignal): Promise<void> {
    await this.api.patchClusterCustomObjectStatus(
      { group: API_GROUP, version: API_VERSION, plural: HYPERVISOR_PLURAL, name, body: patch },
      requestOptions(PatchStrategy.MergePatch, signal, this.agent),
    );
  }
}

/**
 * One keep-alive agent with the cluster's TLS material for every request: client-node otherwise makes a new
 * agent, so a new connection and TLS handshake, per request. Proxied clusters keep client-node's own agents.
 */
async function keepAliveAgent(config: KubeConfig): Promise<http.Agent | undefined> {
  const cluster = config.getCurrentCluster();
  if (!cluster || cluster.proxyUrl) return undefined;
  if (cluster.server.startsWith('http:')) return new http.Agent({ keepAlive: true });
  const tls: https.RequestOptions = {};
  await config.applyToHTTPSOptions(tls);
  const { ca, cert, key, pfx, passphrase } = tls;
  return new https.Agent({
    keepAlive: true,
    ca,
    cert,
    key,
    pfx,
    passphrase,
    ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
    ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
  });
}

/** Sets the content type, the abort signal and the shared agent of one request. */
function requestOptions(contentType: string, signal: AbortSignal, agent: http.Agent | undefined) {
  const header = setHeaderMiddleware('Content-Type', contentType);
  return {
    middleware: [
      {
        pre: (context: Parameters<typeof header.pre>[0]) => {
          context.setSignal(signal);
          if (agent) context.setAgent(agent);
          return header.pre(context);
        },
        post: header.post,
      },
    ],
    middlewareMergeStrategy: 'append' as const,
  };
}

/** The HTTP status of a failed call, when the API server answered. */
export function httpStatus(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

/** Retry-After of a 429/503 answer, in ms. */
export function retryAfterMs(err: unknown): number | undefined {
  if (!(err instanceof ApiException)) return undefined;
  const value = err.headers?.['retry-after'];
  const seconds = value === undefined ? NaN : Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}
