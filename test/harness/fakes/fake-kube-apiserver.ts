// A small, faithful stand-in for kube-apiserver: no apiserver is packaged for this machine.
// It serves the custom-resource endpoints the events agent and its tests use, with the real API's
// semantics: bearer-token and client-certificate authentication (401), RBAC checked against the
// ClusterRole and Roles we ship (403; a Role's rules only inside its namespace), optional TLS,
// namespaces that must exist (404), POST create → 201 / 409 AlreadyExists with a Status object,
// GET / list with a global resourceVersion, PATCH of the status subresource with
// application/merge-patch+json (RFC 7386) and resourceVersion preconditions (409 Conflict),
// CRD structural schemas (pruning, defaults, 422 Invalid), status ignored on create when the
// status subresource is enabled, no-op patches that keep the resourceVersion.
// Faults can be injected: 5xx/429 answers, hanging requests, and commits whose answer is lost.
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { isIPv6, type AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { isDeepStrictEqual } from 'node:util';
import { performance } from 'node:perf_hooks';
import { pruneAndDefault, validate, type Schema } from './structural-schema.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The parts of an apiextensions.k8s.io/v1 CustomResourceDefinition the server reads. */
export interface CustomResourceDefinition {
  spec: {
    group: string;
    names: { kind: string; plural: string; listKind?: string };
    scope: 'Namespaced' | 'Cluster';
    versions: { name: string; served: boolean; schema?: { openAPIV3Schema: Schema }; subresources?: { status?: object } }[];
  };
}

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export type Fault =
  /** Answer with this status (and a Status body) without touching the store. */
  | { kind: 'error'; code: 429 | 500 | 502 | 503 | 504; retryAfterSeconds?: number }
  /** Hold the request this long, then process it normally (a slow apiserver commits even if the client gave up). */
  | { kind: 'hang'; ms: number }
  /** Hold the request until `until` settles (the test decides when the apiserver answers), then process it normally. */
  | { kind: 'hold'; until: Promise<void> }
  /** Process the request (persist it), then answer with this error: the client never learns it succeeded. */
  | { kind: 'commit-then-error'; code: 500 | 503 | 504 }
  /** Process the request, then reset the connection without an answer. */
  | { kind: 'commit-then-drop' };

export interface FaultMatch {
  method?: string;
  /** Substring of the request path. */
  path?: string;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  query: string;
  contentType: string | undefined;
  /** performance.now() when the request headers arrived (same clock as the caller's, in-process). */
  receivedAt: number;
  status: number;
  /** The bearer token presented, if any. */
  token?: string;
  fault?: Fault['kind'];
  body?: Json;
}

export interface FakeKubeApiServerOptions {
  crds: CustomResourceDefinition[];
  /** Namespaces that exist (default: ['default']). */
  namespaces?: string[];
  /** Bearer token clients must present (default: a random one; see `token`). */
  token?: string;
  /** ServiceAccount the token authenticates as, for RBAC and messages. */
  user?: string;
  /** When set (or `roles`), every request must be allowed by these rules (a ClusterRole bound to `user`)… */
  rules?: PolicyRule[];
  /** …or by a Role bound to `user` in the request's namespace. */
  roles?: { namespace: string; rules: PolicyRule[] }[];
  /** Serve HTTPS with this key and certificate (PEM); with `clientCa`, client certificates it signs authenticate as their CN. */
  tls?: { key: Buffer | string; cert: Buffer | string; clientCa?: Buffer | string };
  /** Listen address (default 127.0.0.1; `::1` for IPv6). */
  host?: string;
}

interface Resource {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  namespaced: boolean;
  statusSubresource: boolean;
  schema: Schema | undefined;
}

interface Route {
  resource: Resource;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: JsonObject,
  ) {
    super(message);
  }
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_BODY_BYTES = 3 * 1024 * 1024;

function statusBody(code: number, reason: string, message: string, details?: JsonObject): JsonObject {
  const body: JsonObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) body.details = details;
  return body;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key] ?? null, value);
  }
  return out;
}

/** Who the admin token authenticates as; RBAC does not restrict it (a cluster-admin binding). */
const ADMIN_USER = 'kubernetes-admin';

export class FakeKubeApiServer {
  readonly token: string;
  /** A cluster administrator's bearer token, as in an operator's kubeconfig: allowed everything. */
  readonly adminToken = randomUUID();
  readonly user: string;
  /** Every request in arrival order. */
  readonly requests: RequestLogEntry[] = [];
  /** TCP connections accepted (clients that keep connections alive open few). */
  connections = 0;
  /** Called for each request once its body is read (before it is processed). */
  onRequest: ((entry: RequestLogEntry) => void) | undefined;
  private readonly resources: Resource[];
  private readonly namespaces: Set<string>;
  private readonly rules: PolicyRule[] | undefined;
  private readonly roles: { namespace: string; rules: PolicyRule[] }[] | undefined;
  private validTokens: Set<string>;
  private readonly host: string;
  private readonly tls: boolean;
  private readonly store = new Map<string, JsonObject>();
  private readonly faults: { match: FaultMatch; fault: Fault }[] = [];
  private readonly server: http.Server | https.Server;
  private resourceVersion = 1000;
  private listening: AddressInfo | undefined;

  constructor(options: FakeKubeApiServerOptions) {
    this.resources = options.crds.flatMap((crd) =>
      crd.spec.versions
        .filter((v) => v.served)
        .map((v) => ({
          group: crd.spec.group,
          version: v.name,
          kind: crd.spec.names.kind,
          listKind: crd.spec.names.listKind ?? `${crd.spec.names.kind}List`,
          plural: crd.spec.names.plural,
          namespaced: crd.spec.scope === 'Namespaced',
          statusSubresource: v.subresources?.status !== undefined,
          schema: v.schema?.openAPIV3Schema,
        })),
    );
    this.namespaces = new Set(options.namespaces ?? ['default']);
    this.token = options.token ?? randomUUID();
    this.user = options.user ?? 'system:serviceaccount:default:libvirt-telemetry-events';
    this.validTokens = new Set([this.token]);
    this.rules = options.rules;
    this.roles = options.roles;
    this.host = options.host ?? '127.0.0.1';
    this.tls = options.tls !== undefined;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => void this.handle(req, res);
    // As kube-apiserver: a client certificate is asked for but not required (token clients have none).
    this.server = options.tls
      ? https.createServer({ key: options.tls.key, cert: options.tls.cert, ...(options.tls.clientCa ? { ca: options.tls.clientCa, requestCert: true, rejectUnauthorized: false } : {}) }, handler)
      : http.createServer(handler);
    this.server.on('connection', () => (this.connections += 1));
    this.server.keepAliveTimeout = 5000;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, this.host, () => resolve());
    });
    this.listening = this.server.address() as AddressInfo;
    return this.url;
  }

  get url(): string {
    if (!this.listening) throw new Error('fake apiserver not started');
    return `${this.tls ? 'https' : 'http'}://${isIPv6(this.host) ? `[${this.host}]` : this.host}:${this.listening.port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Writes a kubeconfig that points at this server with its bearer token; with `ca` (PEM) a TLS server's
   * certificate is verified against it, as in a cluster, instead of not at all.
   */
  async writeKubeconfig(path: string, namespace = 'default', ca?: Buffer): Promise<void> {
    const text = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${this.url}`,
      ca ? `    certificate-authority-data: ${ca.toString('base64')}` : '    insecure-skip-tls-verify: true',
      'users:',
      '- name: agent',
      '  user:',
      `    token: ${this.token}`,
      'contexts:',
      '- name: fake',
      '  context:',
      '    cluster: fake',
      '    user: agent',
      `    namespace: ${namespace}`,
      'current-context: fake',
      '',
    ].join('\n');
    await writeFile(path, text, { mode: 0o600 });
  }

  /** The bearer tokens accepted from now on (a rotation: the new token, and the old one until it expires). */
  acceptTokens(...tokens: string[]): void {
    this.validTokens = new Set(tokens);
  }

  /** The next `times` requests matching `match` get this fault (faults are used in the order injected). */
  injectFault(fault: Fault, match: FaultMatch = {}, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push({ match, fault });
  }

  /** Stores an object directly (test setup), as a create would, but keeping its status. */
  seed(object: JsonObject): JsonObject {
    const apiVersion = String(object.apiVersion);
    const resource = this.resources.find((r) => `${r.group}/${r.version}` === apiVersion && r.kind === object.kind);
    if (!resource) throw new Error(`no CRD serves ${apiVersion} ${String(object.kind)}`);
    const meta = (object.metadata ?? {}) as JsonObject;
    const namespace = resource.namespaced ? String(meta.namespace ?? 'default') : undefined;
    return this.create({ resource, namespace, name: undefined, subresource: undefined }, object, true, true);
  }

  /** Objects of one kind, as stored (sorted by namespace/name like etcd keys). */
  objects(plural: string): JsonObject[] {
    return [...this.store.entries()]
      .filter(([key]) => key.startsWith(`${plural}/`))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, obj]) => structuredClone(obj));
  }

  private key(resource: Resource, namespace: string | undefined, name: string): string {
    return `${resource.plural}/${namespace ?? ''}/${name}`;
  }

  private nextVersion(): string {
    this.resourceVersion += 1;
    return String(this.resourceVersion);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const receivedAt = performance.now();
    const url = new URL(req.url ?? '/', 'http://fake');
    const entry: RequestLogEntry = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      contentType: req.headers['content-type'],
      receivedAt,
      status: 0,
    };
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined) entry.token = bearer;
    this.requests.push(entry);
    const send = (code: number, body: JsonObject, headers: Record<string, string> = {}): void => {
      entry.status = code;
      if (res.destroyed) return;
      res.writeHead(code, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    try {
      const raw = await readBody(req);
      if (raw.length > 0) entry.body = parseJson(raw);
      this.onRequest?.(entry);
      const index = this.faults.findIndex(({ match }) => (!match.method || match.method === entry.method) && (!match.path || entry.path.includes(match.path)));
      const fault = index >= 0 ? this.faults.splice(index, 1)[0]!.fault : undefined;
      if (fault) entry.fault = fault.kind;
      if (fault?.kind === 'error') {
        const reason = { 429: 'TooManyRequests', 500: 'InternalError', 502: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout' }[fault.code];
        const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
        send(fault.code, statusBody(fault.code, reason, `injected fault: ${reason}`), headers);
        return;
      }
      if (fault?.kind === 'hang') await new Promise((resolve) => setTimeout(resolve, fault.ms));
      if (fault?.kind === 'hold') await fault.until;
      const [code, body] = this.dispatch(req, url, entry.body);
      if (fault?.kind === 'commit-then-error') {
        send(fault.code, statusBody(fault.code, fault.code === 504 ? 'Timeout' : 'InternalError', 'injected fault after commit'));
      } else if (fault?.kind === 'commit-then-drop') {
        entry.status = -1;
        req.socket.destroy();
      } else send(code, body);
    } catch (err) {
      if (err instanceof ApiError) send(err.code, statusBody(err.code, err.reason, err.message, err.details));
      else send(500, statusBody(500, 'InternalError', err instanceof Error ? err.message : String(err)));
    }
  }

  private dispatch(req: http.IncomingMessage, url: URL, body: Json | undefined): [number, JsonObject] {
    const user = this.authenticate(req);
    const route = this.route(url.pathname);
    const method = req.method ?? 'GET';
    const verb = method === 'GET' ? (route.name ? 'get' : url.searchParams.get('watch') === 'true' ? 'watch' : 'list')
      : method === 'POST' ? 'create'
      : method === 'PATCH' ? 'patch'
      : method === 'PUT' ? 'update'
      : method === 'DELETE' ? (route.name ? 'delete' : 'deletecollection')
      : method.toLowerCase();
    this.authorize(user, verb, route);
    if (route.namespace !== undefined && !this.namespaces.has(route.namespace) && verb !== 'get' && verb !== 'list') {
      throw new ApiError(404, 'NotFound', `namespaces "${route.namespace}" not found`, { name: route.namespace, kind: 'namespaces' });
    }
    const dryRun = url.searchParams.get('dryRun') === 'All';
    switch (verb) {
      case 'create':
        if (route.name) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        if (req.headers['content-type']?.split(';')[0] !== 'application/json') throw unsupportedMediaType(['application/json']);
        if (!isObject(body)) throw new ApiError(400, 'BadRequest', 'the body of the request is not a JSON object');
        return [201, this.create(route, body, !dryRun)];
      case 'get':
        return [200, this.get(route)];
      case 'list':
        return [200, this.list(route, url.searchParams.get('labelSelector'))];
      case 'patch':
        if (route.subresource !== 'status') throw new ApiError(405, 'MethodNotAllowed', 'the fake apiserver implements PATCH for the status subresource only');
        if (req.headers['content-type']?.split(';')[0] !== 'application/merge-patch+json') throw unsupportedMediaType(['application/merge-patch+json']);
        if (!isObject(body)) throw new ApiError(400, 'BadRequest', 'the body of the request is not a JSON object');
        return [200, this.patchStatus(route, body, !dryRun)];
      default:
        throw new ApiError(405, 'MethodNotAllowed', `the fake apiserver does not implement ${verb}`);
    }
  }

  private route(pathname: string): Route {
    const notFound = (): ApiError => new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const parts = pathname.split('/').filter(Boolean);
    if (parts[0] !== 'apis' || parts.length < 4) throw notFound();
    const [, group, version, ...rest] = parts;
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest.splice(0, 2);
    }
    const [plural, name, subresource, ...extra] = rest;
    const resource = this.resources.find((r) => r.group === group && r.version === version && r.plural === plural);
    if (!resource || extra.length > 0) throw notFound();
    // Cluster-scoped kinds have no namespaced paths; namespaced objects are addressed inside their namespace
    // (listing across all namespaces is allowed).
    if (!resource.namespaced && namespace !== undefined) throw notFound();
    if (resource.namespaced && namespace === undefined && name !== undefined) throw notFound();
    if (subresource !== undefined && !(subresource === 'status' && resource.statusSubresource)) throw notFound();
    return { resource, namespace, name, subresource };
  }

  /** The user a request authenticates as: its client certificate's CN, else its bearer token's account. */
  private authenticate(req: http.IncomingMessage): string {
    const socket = req.socket as Partial<TLSSocket>;
    if (socket.authorized) {
      const cn = socket.getPeerCertificate?.().subject?.CN;
      if (cn) return Array.isArray(cn) ? cn[0]! : cn;
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer === this.adminToken) return ADMIN_USER;
    if (bearer === undefined || !this.validTokens.has(bearer)) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    return this.user;
  }

  private authorize(user: string, verb: string, route: Route): void {
    if ((!this.rules && !this.roles) || user === ADMIN_USER) return;
    const { resource, namespace, name, subresource } = route;
    const resourceName = subresource ? `${resource.plural}/${subresource}` : resource.plural;
    const rules = user !== this.user ? [] : [
      ...(this.rules ?? []),
      ...(this.roles ?? []).filter((role) => namespace !== undefined && role.namespace === namespace).flatMap((role) => role.rules),
    ];
    const allowed = rules.some(
      (rule) =>
        (rule.apiGroups.includes(resource.group) || rule.apiGroups.includes('*')) &&
        (rule.resources.includes(resourceName) || rule.resources.includes('*')) &&
        (rule.verbs.includes(verb) || rule.verbs.includes('*')) &&
        (!rule.resourceNames?.length || (name !== undefined && rule.resourceNames.includes(name))),
    );
    if (allowed) return;
    const what = `${resource.plural}.${resource.group}${name ? ` "${name}"` : ''}`;
    const scope = namespace !== undefined ? `in the namespace "${namespace}"` : 'at the cluster scope';
    const sub = subresource ? `/${subresource}` : '';
    throw new ApiError(403, 'Forbidden', `${what} is forbidden: User "${user}" cannot ${verb} resource "${resource.plural}${sub}" in API group "${resource.group}" ${scope}`, {
      ...(name ? { name } : {}),
      group: resource.group,
      kind: resource.plural,
    });
  }

  private create(route: Route, body: JsonObject, persist: boolean, keepStatus = false): JsonObject {
    const { resource } = route;
    const apiVersion = `${resource.group}/${resource.version}`;
    if (body.apiVersion !== apiVersion) {
      throw new ApiError(400, 'BadRequest', `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion})`);
    }
    if (body.kind !== resource.kind) throw new ApiError(400, 'BadRequest', `the kind in the data (${String(body.kind)}) does not match the expected kind (${resource.kind})`);
    const meta: JsonObject = isObject(body.metadata) ? { ...body.metadata } : {};
    if (route.namespace !== undefined) {
      if (meta.namespace !== undefined && meta.namespace !== route.namespace) {
        throw new ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = route.namespace;
    }
    if (!meta.name && typeof meta.generateName === 'string') {
      meta.name = meta.generateName + Array.from({ length: 5 }, () => GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)]).join('');
    }
    const name = typeof meta.name === 'string' ? meta.name : '';
    const errors: string[] = [];
    if (!name) errors.push('metadata.name: Required value: name or generateName is required');
    else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
      errors.push(`metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`);
    }
    errors.push(...labelErrors(meta.labels));
    const object: JsonObject = { ...structuredClone(body), metadata: meta };
    // With the status subresource, a create ignores .status.
    if (resource.statusSubresource && !keepStatus) delete object.status;
    const pruned = this.admit(resource, object, name, errors);
    const key = this.key(resource, route.namespace, name);
    if (this.store.has(key)) {
      throw new ApiError(409, 'AlreadyExists', `${resource.plural}.${resource.group} "${name}" already exists`, { name, group: resource.group, kind: resource.plural });
    }
    const stored: JsonObject = {
      ...pruned,
      metadata: {
        ...(pruned.metadata as JsonObject),
        uid: randomUUID(),
        resourceVersion: persist ? this.nextVersion() : String(this.resourceVersion),
        generation: 1,
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
    };
    if (persist) this.store.set(key, stored);
    return structuredClone(stored);
  }

  /** Prunes unknown fields, applies defaults and validates against the CRD schema (422 on errors). */
  private admit(resource: Resource, object: JsonObject, name: string, errors: string[]): JsonObject {
    const { metadata, ...content } = object;
    let result = object;
    if (resource.schema) {
      // metadata is the apiserver's own business: never pruned by the CRD schema.
      const pruned = pruneAndDefault(content, resource.schema) as JsonObject;
      errors.push(...validate(pruned, resource.schema, '').map((e) => e.replace(/^\./, '')));
      result = { ...pruned, metadata: metadata ?? {} };
    }
    if (errors.length > 0) {
      throw new ApiError(422, 'Invalid', `${resource.kind}.${resource.group} "${name}" is invalid: ${errors.join(', ')}`, {
        name,
        group: resource.group,
        kind: resource.kind,
        causes: errors.map((message) => ({ message })),
      });
    }
    return result;
  }

  private get(route: Route): JsonObject {
    const { resource, namespace, name } = route;
    const found = this.store.get(this.key(resource, namespace, name!));
    if (!found) throw new ApiError(404, 'NotFound', `${resource.plural}.${resource.group} "${name}" not found`, { name: name!, group: resource.group, kind: resource.plural });
    return structuredClone(found);
  }

  private list(route: Route, labelSelector: string | null): JsonObject {
    const { resource, namespace } = route;
    const prefix = `${resource.plural}/${namespace !== undefined ? `${namespace}/` : ''}`;
    const selector = parseLabelSelector(labelSelector);
    const items = [...this.store.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, obj]) => obj)
      .filter((obj) => selector((((obj.metadata as JsonObject).labels ?? {}) as Record<string, string>)));
    return {
      apiVersion: `${resource.group}/${resource.version}`,
      kind: resource.listKind,
      metadata: { resourceVersion: String(this.resourceVersion) },
      items: structuredClone(items),
    };
  }

  /** PATCH of the status subresource: changes .status only; everything else in the patch is ignored. */
  private patchStatus(route: Route, patch: JsonObject, persist: boolean): JsonObject {
    const { resource, namespace, name } = route;
    const current = this.get(route);
    const currentMeta = current.metadata as JsonObject;
    const wanted = isObject(patch.metadata) ? patch.metadata.resourceVersion : undefined;
    if (wanted !== undefined && wanted !== currentMeta.resourceVersion) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${resource.plural}.${resource.group} "${name}": the object has been modified; please apply your changes to the latest version and try again`, {
        name: name!,
        group: resource.group,
        kind: resource.plural,
      });
    }
    const merged = mergePatch(current, patch) as JsonObject;
    const next: JsonObject = { ...current };
    if (merged.status === undefined) delete next.status;
    else next.status = merged.status;
    const admitted = this.admit(resource, next, name!, []);
    // A patch that changes nothing is not a write: the resourceVersion stays.
    if (isDeepStrictEqual(admitted, current)) return current;
    const stored = { ...admitted, metadata: { ...currentMeta, resourceVersion: persist ? this.nextVersion() : currentMeta.resourceVersion! } };
    if (persist) this.store.set(this.key(resource, namespace, name!), stored);
    return structuredClone(stored);
  }
}

function unsupportedMediaType(accepted: string[]): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
}

function labelErrors(labels: Json | undefined): string[] {
  if (labels === undefined || labels === null) return [];
  if (!isObject(labels)) return ['metadata.labels: Invalid value: must be an object of strings'];
  const errors: string[] = [];
  for (const [name, value] of Object.entries(labels)) {
    const local = name.includes('/') ? name.slice(name.indexOf('/') + 1) : name;
    if (local.length > 63 || !LABEL_NAME.test(local)) errors.push(`metadata.labels: Invalid value: "${name}": name part must consist of alphanumeric characters, '-', '_' or '.'`);
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
      errors.push(`metadata.labels: Invalid value: "${String(value)}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
    }
  }
  return errors;
}

/** Equality-based label selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated. */
function parseLabelSelector(text: string | null): (labels: Record<string, string>) => boolean {
  if (!text) return () => true;
  const terms = text.split(',').map((t) => t.trim()).filter(Boolean).map((term) => {
    const ne = /^([^!=]+)!=(.*)$/.exec(term);
    if (ne) return (l: Record<string, string>) => l[ne[1]!.trim()] !== ne[2]!.trim();
    const eq = /^([^!=]+)==?(.*)$/.exec(term);
    if (eq) return (l: Record<string, string>) => l[eq[1]!.trim()] === eq[2]!.trim();
    if (term.startsWith('!')) return (l: Record<string, string>) => !(term.slice(1) in l);
    return (l: Record<string, string>) => term in l;
  });
  return (labels) => terms.every((t) => t(labels));
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'RequestEntityTooLarge', 'request entity too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseJson(raw: Buffer): Json {
  try {
    return JSON.parse(raw.toString('utf8')) as Json;
  } catch {
    throw new ApiError(400, 'BadRequest', 'the body of the request could not be decoded as JSON');
  }
}
