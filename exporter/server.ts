// The exporter's HTTP(S) endpoint: the telemetry path (Prometheus text or OpenMetrics by Accept header),
// a landing page at /, and /healthz. Basic auth and TLS come from the web config file.
import type * as Http from 'node:http';
import { http } from '../runtime/node-http.js';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Collection } from './collection.js';
import { writeSnapshot } from './collectors/index.js';
import { negotiate, type TextSink } from './exposition.js';
import { collectGarbageWhenIdle } from './heap.js';
import type { ListenAddress } from '../runtime/listen-address.js';
import { errorText, type Logger } from '../runtime/log.js';
import type { BasicAuth } from './basic-auth.js';
import type { MessageLimit } from './message-limit.js';
import type { WebConfig } from './web-config.js';

export interface ServerOptions {
  readonly listen: ListenAddress;
  readonly telemetryPath: string;
  readonly web: WebConfig;
  /** Present when the web config has basic_auth_users. */
  readonly auth?: BasicAuth;
  readonly collection: Collection;
  readonly messageLimit: MessageLimit;
  readonly log: Logger;
  readonly version: string;
}

export interface RunningServer {
  readonly url: string;
  close(): Promise<void>;
}

function landingPage(telemetryPath: string, version: string): string {
  const href = telemetryPath.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>libvirt exporter</title></head>
<body>
<h1>libvirt exporter</h1>
<p>Prometheus metrics of the libvirt domains on this host (libvirt-telemetry ${version}).</p>
<ul>
<li><a href="${href}">Metrics</a></li>
<li><a href="/healthz">Health</a></li>
</ul>
</body>
</html>
`;
}

/** Why the client certificate is refused under the web config's client_auth_type, or undefined if it is fine. */
function clientCertProblem(req: Http.IncomingMessage, web: WebConfig): string | undefined {
  const mode = web.tls?.clientAuth;
  if (!mode || mode === 'NoClientCert' || mode === 'RequestClientCert') return undefined;
  const socket = req.socket as TLSSocket;
  const given = Object.keys(socket.getPeerCertificate?.() ?? {}).length > 0;
  if (!given) return mode === 'VerifyClientCertIfGiven' ? undefined : 'a client certificate is required';
  if (mode === 'RequireAnyClientCert') return undefined;
  return socket.authorized ? undefined : `client certificate not trusted (${String(socket.authorizationError)})`;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { web, auth, log, collection, telemetryPath } = options;
  const landing = landingPage(telemetryPath, options.version);

  const handle = async (req: Http.IncomingMessage, res: Http.ServerResponse): Promise<void> => {
    for (const [name, value] of Object.entries(web.headers)) res.setHeader(name, value);
    const certProblem = clientCertProblem(req, web);
    if (certProblem) return reply(res, 403, `${certProblem}\n`);
    if (auth && !(await auth.check(req.headers.authorization))) {
      res.setHeader('WWW-Authenticate', 'Basic realm="libvirt exporter"');
      return reply(res, 401, 'Unauthorized\n');
    }
    const path = (req.url ?? '/').split('?')[0];
    const known = path === telemetryPath || path === '/' || path === '/healthz';
    if (!known) return reply(res, 404, 'Not Found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return reply(res, 405, 'Method Not Allowed\n');
    }
    if (path === telemetryPath) {
      const contentType = negotiate(req.headers.accept);
      const snapshot = { ...(await collection.collect()), rejectedMessages: options.messageLimit.rejected };
      await sendExposition(res, (sink) => writeSnapshot(snapshot, contentType, sink), contentType);
      return collectGarbageWhenIdle();
    }
    if (path === '/healthz') return reply(res, 200, 'Healthy\n');
    return reply(res, 200, landing, 'text/html; charset=utf-8');
  };

  const listener = (req: Http.IncomingMessage, res: Http.ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      log('error', 'request failed', { path: req.url, error: errorText(err) });
      if (!res.headersSent) reply(res, 500, 'Internal Server Error\n');
      else res.destroy();
    });
  };

  const tls = web.tls;
  // node:https (and with it node:tls) is loaded only when serving TLS: resident memory for nothing otherwise (bench/RESULTS.md#start-up-footprint).
  const server = tls
    ? (await import('node:https')).createServer(
        {
          cert: tls.cert,
          key: tls.key,
          ...(tls.ca ? { ca: tls.ca } : {}),
          requestCert: tls.clientAuth !== 'NoClientCert',
          rejectUnauthorized: tls.clientAuth === 'RequireAndVerifyClientCert',
          minVersion: tls.minVersion,
          ...(tls.maxVersion ? { maxVersion: tls.maxVersion } : {}),
        },
        listener,
      )
    : http.createServer(listener);
  server.on('clientError', (_err, socket) => socket.destroy());
  server.on('tlsClientError', (err) => log('debug', 'TLS handshake failed', { error: errorText(err) }));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.listen.port, ...(options.listen.host ? { host: options.listen.host } : {}) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${tls ? 'https' : 'http'}://${host}:${address.port}`;
  log('info', 'listening', { address: url, telemetry_path: telemetryPath, tls: Boolean(tls), basic_auth: Boolean(auth) });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Streams the exposition as it is made, a run of samples per chunk (chunked transfer encoding), so the
 * whole text never exists at once; waits while the socket's buffer is full. A HEAD gets the headers only.
 */
async function sendExposition(res: Http.ServerResponse, write: (sink: TextSink) => Promise<void>, contentType: string): Promise<void> {
  res.writeHead(200, { 'Content-Type': contentType });
  if (res.req.method === 'HEAD') return void res.end();
  await write(async (text) => {
    if (res.destroyed) throw new Error('client went away');
    if (!res.write(text)) await drainedOrClosed(res);
  });
  res.end();
}

/** Resolves when the response's buffer has drained or the connection closed, leaving no listener behind. */
function drainedOrClosed(res: Http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function reply(res: Http.ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  // Encoded once: for its length and for the socket (each would walk the whole exposition: bench/RESULTS.md#exporter).
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': bytes.length });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}
