// /metrics (Prometheus text, prom-client) and /healthz (JSON; 200 healthy, 503 not).
import type { Server } from 'node:http';
import { http } from './node-http.js';
import type { Registry } from 'prom-client';
import type { ListenAddress } from '../runtime/listen-address.js';

export interface Health {
  readonly healthy: boolean;
  readonly [detail: string]: unknown;
}

export async function serveHttp(address: ListenAddress, registry: Registry, health: () => Health): Promise<Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
      );
      return;
    }
    if (path === '/healthz') {
      const h = health();
      res.writeHead(h.healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(h) + '\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host || undefined, () => resolve());
  });
  return server;
}
