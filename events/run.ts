// The running agent behind `libvirt-telemetry events` (options in command.ts): wires the libvirt listener,
// the agent, the Kubernetes writer (or --dry-run), stdout records and the web server, until SIGTERM/SIGINT.
import type { ListenAddress } from '../runtime/listen-address.js';
import { connect } from '../libvirt/client.js';
import { DryRunActions, KubeActions } from './actions.js';
import { EventAgent, type ActionSink } from './agent.js';
import type { EventsOptions } from './options.js';
import { KubeClient } from './kube-client.js';
import { loadKubeConfig } from './kube-config.js';
import { LibvirtListener } from './listener.js';
import { NovaNameCache } from './nova-names.js';
import { errorText } from '../runtime/log.js';
import { loggerFrom } from '../runtime/shared-options.js';
import { stopSignal } from '../runtime/signals.js';
import { AgentMetrics } from './metrics.js';
import type { IoErrorPolicy } from './policy.js';
import { JsonLineSink } from './record.js';
import type { AddressInfo } from 'node:net';
import { serveHttp } from '../runtime/http.js';

/** stdout bytes waiting for a reader before records are dropped (and counted). */
const MAX_STDOUT_BUFFER = 8 * 1024 * 1024;
/** How long a shutdown waits for pending Kubernetes writes. */
const DRAIN_ON_EXIT_MS = 5000;

export async function runAgent(o: EventsOptions, hypervisor: string, listen: ListenAddress): Promise<number> {
  const stopping = stopSignal();
  const log = loggerFrom(o);
  const metrics = new AgentMetrics();
  const stdout = new JsonLineSink(process.stdout, MAX_STDOUT_BUFFER, () => metrics.recordsDropped.inc());
  // A reader of stdout that goes away (EPIPE) must not take the agent down: records are then dropped and counted.
  process.stdout.on('error', (err) => {
    log('error', 'stdout failed; event records are dropped from now on', { error: errorText(err) });
    process.stdout.destroy();
  });

  let actions: ActionSink;
  let namespace = o.namespace;
  let kube: KubeActions | undefined;
  let kubeClient: KubeClient | undefined;
  if (o['dry-run']) {
    actions = new DryRunActions(stdout);
    namespace ??= 'default';
  } else {
    const connection = await loadKubeConfig(o.kubeconfig);
    namespace ??= connection.namespace ?? 'default';
    kubeClient = new KubeClient(connection);
    kube = new KubeActions(
      kubeClient,
      {
        capacity: o['kube.queue-size'],
        concurrency: o['kube.concurrency'],
        requestTimeoutMs: o['kube.timeout'],
        retryForMs: o['kube.retry-for'],
        backoffMinMs: 200,
        backoffMaxMs: 30_000,
      },
      metrics,
      log,
    );
    actions = kube;
  }

  const novaNames = new NovaNameCache(o['libvirt.timeout'], log);
  const agent = new EventAgent(
    {
      hypervisor,
      namespace,
      policy: {
        ioErrorPolicy: o['io-error-policy'] as IoErrorPolicy,
        ioErrorPersistMs: o['io-error-persist'],
        rebootWindowMs: o['dedupe.reboot-window'],
        ioErrorWindowMs: o['dedupe.io-error-window'],
      },
    },
    { actions, records: stdout, metrics, log, novaNames },
  );
  const listener = new LibvirtListener(
    {
      uri: o['libvirt.uri'],
      connect,
      callTimeoutMs: o['libvirt.timeout'],
      backoffMinMs: o['libvirt.reconnect-min'],
      backoffMaxMs: o['libvirt.reconnect-max'],
      log,
      novaNames,
    },
    {
      connected: (listing, first) => agent.onConnected(listing, first),
      event: (event) => agent.onEvent(event),
      disconnected: (info) => agent.onDisconnected(info),
    },
  );
  let web;
  try {
    // /healthz: 200 while connected with every callback registered and libvirtd answering, else 503 (a readiness probe).
    web = await serveHttp(listen, metrics.registry, () => {
      const { healthy, state, error } = listener.health();
      return { healthy, libvirt: state, ...(error ? { error } : {}) };
    });
  } catch (err) {
    throw new Error(`cannot listen on ${o['web.listen-address']}: ${errorText(err)}`);
  }
  const bound = web.address() as AddressInfo;
  const webUrl = `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
  log('info', 'events agent started', {
    hypervisor,
    namespace,
    uri: o['libvirt.uri'],
    dry_run: o['dry-run'],
    io_error_policy: o['io-error-policy'],
    web: webUrl,
  });
  listener.start();

  const signal = await stopping;
  log('info', 'stopping', { signal });
  await listener.close();
  agent.close();
  if (kube) {
    if (!(await kube.writer.drain(DRAIN_ON_EXIT_MS))) log('warn', 'Kubernetes writes still pending at exit', { pending: kube.writer.size });
    kube.writer.close();
  }
  kubeClient?.close();
  web.closeAllConnections();
  await new Promise((resolve) => web.close(resolve));
  return 0;
}

