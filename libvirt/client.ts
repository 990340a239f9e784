// connect(): the way in. Opens the byte stream (transport.ts), puts the RPC core and its typed calls on it
// (rpc.ts, calls.ts) and completes the handshake: AUTH_LIST, auth, keepalive negotiation, CONNECT_OPEN.
// Reconnecting is the owner's policy (supervisor.ts): watch `closed` and call connect() again.
import { Calls, RemoteClient } from './calls.js';
import { AuthError } from './errors.js';
import { AuthType, ConnectFlag, Feature } from './protocol.js';
import { openTransport } from './transport.js';
import type { CallOptions, ConnectOptions, KeepaliveOptions, LibvirtClient } from './types.js';
import { parseUri } from './uri.js';

const DEFAULT_KEEPALIVE: KeepaliveOptions = { intervalMs: 5000, count: 5 };

export async function connect(uri: string, options: ConnectOptions = {}): Promise<LibvirtClient> {
  const readOnly = options.readOnly ?? false;
  const target = parseUri(uri, { readOnly });
  const socket = await openTransport(target, options.tls, options.signal);
  const client = new RemoteClient(uri, readOnly, socket, { maxPacketBytes: options.maxPacketBytes });
  const callOptions = options.signal ? { signal: options.signal } : {};
  try {
    await authenticate(client, callOptions);
    const keepalive = options.keepalive ?? DEFAULT_KEEPALIVE;
    if (keepalive && (await client.supportsFeature(Feature.PROGRAM_KEEPALIVE, callOptions))) client.startKeepalive(keepalive);
    await client.call(Calls.connectOpen, { name: target.openName, flags: readOnly ? ConnectFlag.READ_ONLY : 0 }, callOptions);
  } catch (err) {
    client.shutdown('error', err as Error);
    throw err;
  }
  return client;
}

async function authenticate(client: RemoteClient, options: CallOptions): Promise<void> {
  const types = await client.call(Calls.authList, undefined, options);
  if (types.length === 0 || types.includes(AuthType.NONE)) return;
  if (types.includes(AuthType.POLKIT)) {
    if (!(await client.call(Calls.authPolkit, undefined, options))) throw new AuthError('polkit authentication did not complete');
    return;
  }
  if (types.includes(AuthType.SASL)) {
    throw new AuthError(
      'the daemon requires SASL authentication, which this client does not implement; ' +
        'set auth_tcp = "none" (trusted networks only), use TLS with auth_tls = "none", or the local unix socket',
    );
  }
  throw new AuthError(`the daemon offers only unknown authentication types: ${types.join(', ')}`);
}
