// libvirt connection URIs → where to connect and what to send as CONNECT_OPEN's name (reference §1.1, §3.3).
// Forms: driver[+transport]://[host[:port]]/path[?params], e.g. qemu:///system, qemu+tcp://h:16509/system.
import { UriError } from './errors.js';
import { DefaultPki, Endpoint } from './protocol.js';

export type Transport = 'unix' | 'tcp' | 'tls';

export interface TlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** false when the URI says no_verify=1. */
  readonly verify: boolean;
}

export type ConnectTarget =
  | { readonly transport: 'unix'; readonly socketPath: string; readonly openName: string }
  | { readonly transport: 'tcp'; readonly host: string; readonly port: number; readonly openName: string }
  | {
      readonly transport: 'tls';
      readonly host: string;
      readonly port: number;
      readonly openName: string;
      readonly tls: TlsFiles;
    };

/** Drivers a remote daemon serves that this client is meant for. `remote` lets the daemon pick its default. */
const DRIVERS = new Set(['qemu', 'test', 'remote']);
const UNSUPPORTED_TRANSPORTS = new Set(['ssh', 'libssh', 'libssh2', 'ext']);
/** Query parameters consumed by libvirt's client transport, never forwarded to the daemon in the open name. */
const TRANSPORT_PARAMS = new Set([
  'name', 'command', 'socket', 'auth', 'sshauth', 'netcat', 'keyfile', 'pkipath', 'known_hosts',
  'known_hosts_verify', 'tls_priority', 'no_sanity', 'no_verify', 'no_tty', 'authfile', 'mode', 'proxy',
]);

const URI_SHAPE = /^([a-z][a-z0-9]*)(?:\+([a-z0-9]+))?:\/\/([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/i;

function parseQuery(query: string | undefined, uri: string): [string, string][] {
  if (!query) return [];
  return query.split(/[&;]/).filter(Boolean).map((pair) => {
    const eq = pair.indexOf('=');
    const [k, v] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    try {
      return [decodeURIComponent(k), decodeURIComponent(v)];
    } catch {
      throw new UriError(`bad percent-encoding in the query of '${uri}'`);
    }
  });
}

function parseAuthority(authority: string, uri: string): { host: string; port: number | undefined } {
  if (authority.includes('@')) throw new UriError(`user names are only used by the ssh transport, not supported: '${uri}'`);
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]*)(?::(\d*))?$/i.exec(authority);
  if (!m) throw new UriError(`bad host in '${uri}'`);
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  if (m[2] === undefined || m[2] === '') return { host, port: undefined };
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UriError(`bad port '${m[2]}' in '${uri}'`);
  return { host, port };
}

/**
 * Parses a libvirt URI. Without `+transport`, a URI with a host means TLS and one without a host means the
 * local unix socket, as in libvirt. `readOnly` picks the `-ro` socket for the default unix path.
 */
export function parseUri(uri: string, options: { readOnly?: boolean } = {}): ConnectTarget {
  const m = URI_SHAPE.exec(uri.trim());
  if (!m) {
    throw new UriError(`not a libvirt URI: '${uri}' (expected e.g. qemu:///system or qemu+tcp://HOST/system)`);
  }
  const driver = m[1]!.toLowerCase();
  const explicitTransport = m[2]?.toLowerCase();
  const path = m[4] ?? '/';
  const params = parseQuery(m[5], uri);
  const param = (key: string): string | undefined => params.find(([k]) => k === key)?.[1];

  if (!DRIVERS.has(driver)) {
    throw new UriError(`unsupported driver '${driver}' in '${uri}' (supported: ${[...DRIVERS].join(', ')})`);
  }
  if (explicitTransport && UNSUPPORTED_TRANSPORTS.has(explicitTransport)) {
    throw new UriError(`transport '${explicitTransport}' is not supported: '${uri}' (use unix, tcp or tls)`);
  }
  if (explicitTransport && !['unix', 'tcp', 'tls'].includes(explicitTransport)) {
    throw new UriError(`unknown transport '${explicitTransport}' in '${uri}' (use unix, tcp or tls)`);
  }
  const { host, port } = parseAuthority(m[3]!, uri);
  const transport = (explicitTransport ?? (host ? 'tls' : 'unix')) as Transport;
  if (driver === 'test' && !explicitTransport && !host) {
    throw new UriError(`'${uri}' is libvirt's in-process test driver; reach a daemon's with test+unix:///default or test+tcp://HOST/default`);
  }

  const forwarded = params.filter(([k]) => !TRANSPORT_PARAMS.has(k));
  const query = forwarded.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const openName = param('name') ?? (driver === 'remote' ? '' : `${driver}://${path}${query ? `?${query}` : ''}`);

  if (transport === 'unix') {
    if (host) throw new UriError(`the unix transport takes no host: '${uri}'`);
    const socket = param('socket');
    if (socket !== undefined) {
      if (!socket.startsWith('/')) throw new UriError(`socket must be an absolute path: '${uri}'`);
      return { transport, socketPath: socket, openName };
    }
    if (driver !== 'remote' && path !== '/system' && driver !== 'test') {
      throw new UriError(`only /system is served on the default unix socket; give ?socket=PATH for '${uri}'`);
    }
    return { transport, socketPath: options.readOnly ? Endpoint.UNIX_SOCKET_RO : Endpoint.UNIX_SOCKET, openName };
  }
  if (!host) throw new UriError(`the ${transport} transport needs a host: '${uri}'`);
  if (transport === 'tcp') return { transport, host, port: port ?? Endpoint.TCP_PORT, openName };

  const pkiDir = param('pkipath');
  const inPki = (file: string, fallback: string): string => (pkiDir ? `${pkiDir.replace(/\/+$/, '')}/${file}` : fallback);
  return {
    transport,
    host,
    port: port ?? Endpoint.TLS_PORT,
    openName,
    tls: {
      caFile: inPki('cacert.pem', DefaultPki.CA_CERT),
      certFile: inPki('clientcert.pem', DefaultPki.CLIENT_CERT),
      keyFile: inPki('clientkey.pem', DefaultPki.CLIENT_KEY),
      verify: param('no_verify') !== '1',
    },
  };
}
