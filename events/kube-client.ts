// The two Kubernetes API calls the agent makes, over node:https with one keep-alive agent: create an
// Eviction (409 AlreadyExists is success: the name is deterministic per incident, so it is our own earlier
// create whose answer was lost) and merge-patch the status of a Hypervisor. Every call takes an AbortSignal
// (the writer's per-request timeout). Failures carry the HTTP status and the API server's Status object.
import type * as Http from 'node:http';
import { http } from '../runtime/node-http.js';
import type https from 'node:https';
import { createRequire } from 'node:module';
import { API_GROUP, API_VERSION, EVICTION_PLURAL, HYPERVISOR_PLURAL, type SerializedEviction } from './eviction.js';
import type { KubeConnection } from './kube-config.js';

export type CreateOutcome = 'created' | 'exists';

/** What the writer needs from the Kubernetes API (implemented by KubeClient). */
export interface KubeApi {
  createEviction(eviction: SerializedEviction, signal: AbortSignal): Promise<CreateOutcome>;
  patchHypervisorStatus(name: string, patch: object, signal: AbortSignal): Promise<void>;
}

/** One kind of API request, as RBAC sees it. */
export interface KubeOperation {
  readonly verb: 'create' | 'patch';
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly subresource?: string;
  /** Namespaced requests need a Role in the namespace; cluster-scoped ones a ClusterRole. */
  readonly namespaced: boolean;
}

/** Every request the agent can make; the RBAC in deploy/rbac/events-rbac.yaml grants exactly these. */
export const KUBE_OPERATIONS = {
  createEviction: { verb: 'create', group: API_GROUP, version: API_VERSION, resource: EVICTION_PLURAL, namespaced: true },
  patchHypervisorStatus: { verb: 'patch', group: API_GROUP, version: API_VERSION, resource: HYPERVISOR_PLURAL, subresource: 'status', namespaced: false },
} as const satisfies Record<keyof KubeApi, KubeOperation>;

const METHOD: Record<KubeOperation['verb'], string> = { create: 'POST', patch: 'PATCH' };
const CONTENT_TYPE: Record<KubeOperation['verb'], string> = { create: 'application/json', patch: 'application/merge-patch+json' };
// node:https brings TLS with it: loaded only for an https server, not for --dry-run or a plain-http
// kubeconfig (bench/RESULTS.md#start-up-footprint).
const load = createRequire(import.meta.url);

/** Error answers are read up to this size (a Status object is far smaller); success bodies are not kept. */
const MAX_ERROR_BODY = 64 * 1024;

/** The API server answered with a failure (a Kubernetes Status object, where it sent one). */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly code: number,
    /** Status `reason`: AlreadyExists, Invalid, Forbidden, … (empty when the body was not a Status). */
    readonly reason: string,
    message: string,
    /** Retry-After, in ms. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

/** The path of one object (or its subresource) for `operation`. */
export function operationPath(operation: KubeOperation, name: string | undefined, namespace?: string): string {
  const scope = operation.namespaced ? `/namespaces/${encodeURIComponent(namespace!)}` : '';
  const object = name === undefined ? '' : `/${encodeURIComponent(name)}${operation.subresource ? `/${operation.subresource}` : ''}`;
  return `/apis/${operation.group}/${operation.version}${scope}/${operation.resource}${object}`;
}

export class KubeClient implements KubeApi {
  private readonly agent: Http.Agent;
  private readonly request: typeof Http.request;

  constructor(private readonly connection: KubeConnection) {
    if (connection.server.protocol === 'http:') {
      this.agent = new http.Agent({ keepAlive: true });
      this.request = http.request;
    } else {
      const { ca, cert, key, servername } = connection;
      const { Agent, request } = load('node:https') as typeof https;
      this.agent = new Agent({
        keepAlive: true,
        ...(ca ? { ca } : {}),
        ...(cert && key ? { cert, key } : {}),
        ...(servername ? { servername } : {}),
        rejectUnauthorized: !connection.insecure,
      });
      this.request = request;
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  async createEviction(eviction: SerializedEviction, signal: AbortSignal): Promise<CreateOutcome> {
    const path = operationPath(KUBE_OPERATIONS.createEviction, undefined, eviction.namespace);
    try {
      await this.send(KUBE_OPERATIONS.createEviction, path, eviction.json, signal);
      return 'created';
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 409 && err.reason === 'AlreadyExists') return 'exists';
      throw err;
    }
  }

  async patchHypervisorStatus(name: string, patch: object, signal: AbortSignal): Promise<void> {
    await this.send(KUBE_OPERATIONS.patchHypervisorStatus, operationPath(KUBE_OPERATIONS.patchHypervisorStatus, name), Buffer.from(JSON.stringify(patch)), signal);
  }

  private async send(operation: KubeOperation, path: string, payload: Buffer, signal: AbortSignal): Promise<void> {
    const token = await this.connection.token?.current();
    const method = METHOD[operation.verb];
    const url = new URL(path, this.connection.server);
    await new Promise<void>((resolve, reject) => {
      const req = this.request(
        url,
        {
          method,
          agent: this.agent,
          signal,
          headers: {
            accept: 'application/json',
            'content-type': CONTENT_TYPE[operation.verb],
            'content-length': payload.length,
            'user-agent': 'libvirt-telemetry-events',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          const code = res.statusCode ?? 0;
          res.on('error', reject);
          if (code >= 200 && code < 300) {
            res.on('end', () => resolve());
            res.resume();
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            if (size >= MAX_ERROR_BODY) return;
            chunks.push(chunk);
            size += chunk.length;
          });
          res.on('end', () => reject(apiError(method, path, code, res.headers, Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY))));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}

function apiError(method: string, path: string, code: number, headers: Http.IncomingHttpHeaders, body: Buffer): KubeApiError {
  let reason = '';
  let message = http.STATUS_CODES[code] ?? 'unknown status';
  try {
    const status = JSON.parse(body.toString('utf8')) as { kind?: unknown; reason?: unknown; message?: unknown };
    if (status.kind === 'Status') {
      if (typeof status.reason === 'string') reason = status.reason;
      if (typeof status.message === 'string') message = status.message;
    }
  } catch {
    const textBody = body.toString('utf8', 0, 200).trim();
    if (textBody) message = textBody;
  }
  const retryAfter = Number(headers['retry-after'] ?? NaN);
  const retryAfterMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined;
  return new KubeApiError(code, reason, `${method} ${path}: ${code}${reason ? ` ${reason}` : ''}: ${message}`, retryAfterMs);
}

/** The HTTP status of a failed call, when the API server answered. */
export function httpStatus(err: unknown): number | undefined {
  return err instanceof KubeApiError ? err.code : undefined;
}

/** Retry-After of a 429/503 answer, in ms. */
export function retryAfterMs(err: unknown): number | undefined {
  return err instanceof KubeApiError ? err.retryAfterMs : undefined;
}
