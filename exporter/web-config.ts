// The web configuration file of Prometheus exporters (exporter-toolkit's format): TLS, client certificates,
// basic auth with bcrypt hashes, extra response headers. Unknown keys are errors, as in exporter-toolkit;
// relative file paths are resolved against the config file's directory.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SecureVersion } from 'node:tls';
import YAML from 'yaml';

export class WebConfigError extends Error {
  override readonly name = 'WebConfigError';
}

export type ClientAuthType =
  | 'NoClientCert'
  | 'RequestClientCert'
  | 'RequireAnyClientCert'
  | 'VerifyClientCertIfGiven'
  | 'RequireAndVerifyClientCert';

export interface TlsConfig {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  readonly clientAuth: ClientAuthType;
  readonly minVersion: SecureVersion;
  readonly maxVersion?: SecureVersion;
}

export interface WebConfig {
  readonly tls?: TlsConfig;
  /** User name → bcrypt hash; empty = no authentication. */
  readonly users: ReadonlyMap<string, string>;
  readonly headers: Readonly<Record<string, string>>;
}

const TLS_VERSIONS: Record<string, SecureVersion> = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };
const CLIENT_AUTH: readonly ClientAuthType[] = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
];
/** Headers exporter-toolkit lets a config set. */
const ALLOWED_HEADERS = new Set([
  'strict-transport-security',
  'x-content-type-options',
  'x-frame-options',
  'x-xss-protection',
  'content-security-policy',
]);

type Obj = Record<string, unknown>;

function mapping(value: unknown, where: string): Obj {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new WebConfigError(`${where} must be a mapping`);
  return value as Obj;
}

/** A mapping that may only have the given keys. */
function section(value: unknown, where: string, keys: readonly string[]): Obj {
  const obj = mapping(value, where);
  for (const key of Object.keys(obj)) {
    if (!keys.includes(key)) throw new WebConfigError(`${where}: unsupported key '${key}' (supported: ${keys.join(', ')})`);
  }
  return obj;
}

function str(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new WebConfigError(`${where} must be a string`);
  return value;
}

export function parseWebConfig(text: string, baseDir: string): WebConfig {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new WebConfigError(`not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const top = section(doc, 'web config', ['tls_server_config', 'basic_auth_users', 'http_server_config']);
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(path.resolve(baseDir, file));
    } catch (err) {
      throw new WebConfigError(`${what}: ${(err as Error).message}`);
    }
  };

  let tls: TlsConfig | undefined;
  const t = section(top.tls_server_config, 'tls_server_config', [
    'cert_file', 'key_file', 'client_ca_file', 'client_auth_type', 'min_version', 'max_version',
  ]);
  if (Object.keys(t).length > 0) {
    const certFile = str(t.cert_file, 'tls_server_config.cert_file');
    const keyFile = str(t.key_file, 'tls_server_config.key_file');
    if (!certFile || !keyFile) throw new WebConfigError('tls_server_config needs both cert_file and key_file');
    const clientAuth = (str(t.client_auth_type, 'tls_server_config.client_auth_type') ?? 'NoClientCert') as ClientAuthType;
    if (!CLIENT_AUTH.includes(clientAuth)) {
      throw new WebConfigError(`tls_server_config.client_auth_type must be one of ${CLIENT_AUTH.join(', ')}`);
    }
    const caFile = str(t.client_ca_file, 'tls_server_config.client_ca_file');
    if ((clientAuth === 'VerifyClientCertIfGiven' || clientAuth === 'RequireAndVerifyClientCert') && !caFile) {
      throw new WebConfigError(`tls_server_config.client_auth_type ${clientAuth} needs client_ca_file`);
    }
    const version = (key: 'min_version' | 'max_version'): SecureVersion | undefined => {
      const v = str(t[key], `tls_server_config.${key}`);
      if (v === undefined) return undefined;
      const mapped = TLS_VERSIONS[v];
      if (!mapped) throw new WebConfigError(`tls_server_config.${key} must be one of ${Object.keys(TLS_VERSIONS).join(', ')}`);
      return mapped;
    };
    const maxVersion = version('max_version');
    tls = {
      cert: read(certFile, 'tls_server_config.cert_file'),
      key: read(keyFile, 'tls_server_config.key_file'),
      ...(caFile ? { ca: read(caFile, 'tls_server_config.client_ca_file') } : {}),
      clientAuth,
      minVersion: version('min_version') ?? 'TLSv1.2',
      ...(maxVersion ? { maxVersion } : {}),
    };
  }

  const users = new Map<string, string>();
  for (const [user, hash] of Object.entries(mapping(top.basic_auth_users, 'basic_auth_users'))) {
    const h = str(hash, `basic_auth_users.${user}`);
    if (!h || !/^\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}$/.test(h)) {
      throw new WebConfigError(`basic_auth_users.${user} must be a bcrypt hash ($2y$10$…)`);
    }
    if (user.includes(':')) throw new WebConfigError(`basic_auth_users: user name '${user}' must not contain ':'`);
    users.set(user, h);
  }

  const headers: Record<string, string> = {};
  const hs = section(top.http_server_config, 'http_server_config', ['headers']);
  for (const [name, value] of Object.entries(section(hs.headers, 'http_server_config.headers', [...ALLOWED_HEADERS].flatMap((h) => [h, titleCase(h)])))) {
    const v = str(value, `http_server_config.headers.${name}`);
    if (v !== undefined) headers[name] = v;
  }
  return { ...(tls ? { tls } : {}), users, headers };
}

function titleCase(header: string): string {
  return header.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

export function loadWebConfig(file: string): WebConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new WebConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return parseWebConfig(text, path.dirname(path.resolve(file)));
  } catch (err) {
    if (err instanceof WebConfigError) throw new WebConfigError(`${file}: ${err.message}`);
    throw err;
  }
}
