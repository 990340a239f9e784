// Opens the byte stream to the daemon: unix socket, TCP or TLS (reference §1.1). The stream is the same on all three.
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { CallAbortedError } from './errors.js';
import type { TlsOptions } from './types.js';
import type { ConnectTarget } from './uri.js';

async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new Error(`cannot read the TLS ${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function describe(target: ConnectTarget): string {
  return target.transport === 'unix' ? target.socketPath : `${target.transport}://${target.host}:${target.port}`;
}

/** Resolves once the stream is connected (and, for TLS, the handshake verified the server). */
export async function openTransport(target: ConnectTarget, tlsOptions: TlsOptions = {}, signal?: AbortSignal): Promise<net.Socket> {
  if (signal?.aborted) throw new CallAbortedError('connect', signal.reason);
  let socket: net.Socket;
  let ready: string;
  if (target.transport === 'unix') {
    socket = net.createConnection({ path: target.socketPath });
    ready = 'connect';
  } else if (target.transport === 'tcp') {
    socket = net.createConnection({ host: target.host, port: target.port });
    ready = 'connect';
  } else {
    // One after the other, so that with several unreadable files the error always names the first (the CA).
    const ca = await readPem(tlsOptions.caFile ?? target.tls.caFile, 'CA certificate');
    const cert = await readPem(tlsOptions.certFile ?? target.tls.certFile, 'client certificate');
    const key = await readPem(tlsOptions.keyFile ?? target.tls.keyFile, 'client key');
    // Loaded on first use: node:tls is resident memory in every process that never speaks TLS (bench/RESULTS.md#start-up-footprint).
    const tls = await import('node:tls');
    if (signal?.aborted) throw new CallAbortedError('connect', signal.reason);
    socket = tls.connect({
      host: target.host,
      port: target.port,
      ca,
      cert,
      key,
      servername: tlsOptions.servername ?? (net.isIP(target.host) ? undefined : target.host),
      rejectUnauthorized: target.tls.verify,
    });
    ready = 'secureConnect';
  }
  return await new Promise<net.Socket>((resolve, reject) => {
    const cleanup = (): void => {
      socket.off(ready, onReady);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    const onReady = (): void => {
      cleanup();
      socket.setNoDelay(true);
      resolve(socket);
    };
    const onError = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(new Error(`cannot connect to libvirt at ${describe(target)}: ${err.message}`, { cause: err }));
    };
    const onAbort = (): void => {
      cleanup();
      socket.destroy();
      reject(new CallAbortedError('connect', signal!.reason));
    };
    socket.once(ready, onReady);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
