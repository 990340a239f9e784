// The running exporter: connection, collection and HTTP server, until SIGTERM or SIGINT.
import { connect } from '../libvirt/client.js';
import { ConnectionSupervisor } from '../libvirt/supervisor.js';
import { Collection } from './collection.js';
import { MessageLimit } from './message-limit.js';
import { configureHeap } from './heap.js';
import type { ListenAddress } from '../runtime/listen-address.js';
import { createLogger, type Level, type LogFormat } from '../runtime/log.js';
import { stopSignal } from '../runtime/signals.js';
import { packageVersion } from '../runtime/version.js';
import { startServer } from './server.js';
import type { WebConfig } from './web-config.js';

export interface ExporterSettings {
  readonly uri: string;
  readonly listen: ListenAddress;
  /** --web.listen-address as given, for messages. */
  readonly listenText: string;
  readonly telemetryPath: string;
  readonly web: WebConfig;
  readonly callTimeoutMs: number;
  readonly scrapeTimeoutMs: number;
  readonly reconnectMaxBackoffMs: number;
  /** Largest libvirt message accepted (header + payload), --libvirt.max-frame. */
  readonly maxMessageBytes: number;
  readonly openstack: boolean;
  /** Export the vCPU threads' wait and delay (--collector.vcpu-scheduling). */
  readonly vcpuScheduling: boolean;
  readonly metadataTtlMs: number;
  readonly logLevel: Level;
  readonly logFormat: LogFormat;
}

const RECONNECT_MIN_BACKOFF_MS = 500;

/** Serves until SIGTERM/SIGINT; returns the exit code. Throws (exit 1) when the address cannot be bound. */
export async function runExporter(s: ExporterSettings): Promise<number> {
  const stopping = stopSignal();
  configureHeap();
  const auth = s.web.users.size > 0 ? new (await import('./basic-auth.js')).BasicAuth(s.web.users) : undefined;
  const log = createLogger({ level: s.logLevel, format: s.logFormat });
  const messageLimit = new MessageLimit(s.maxMessageBytes, log);
  const connection = new ConnectionSupervisor({
    uri: s.uri,
    connect: messageLimit.apply(connect),
    log,
    connectTimeoutMs: s.callTimeoutMs,
    backoffMinMs: RECONNECT_MIN_BACKOFF_MS,
    backoffMaxMs: s.reconnectMaxBackoffMs,
  });
  const collection = new Collection({
    connection,
    log,
    callTimeoutMs: s.callTimeoutMs,
    scrapeTimeoutMs: s.scrapeTimeoutMs,
    openstack: s.openstack,
    vcpuScheduling: s.vcpuScheduling,
    metadataTtlMs: s.metadataTtlMs,
  });
  connection.start();
  let server;
  try {
    server = await startServer({
      listen: s.listen,
      telemetryPath: s.telemetryPath,
      web: s.web,
      ...(auth ? { auth } : {}),
      collection,
      messageLimit,
      log,
      version: packageVersion(),
    });
  } catch (err) {
    await connection.stop();
    throw new Error(`cannot listen on ${s.listenText}: ${(err as Error).message}`);
  }
  const signal = await stopping;
  log('info', 'shutting down', { signal });
  await server.close();
  await connection.stop();
  return 0;
}
