// `libvirt-telemetry events`: the HA agent's libvirt event listener. Subscribes to the node's libvirtd,
// records every domain event on stdout, creates Evictions and patches the Hypervisor status in Kubernetes.
// The options live in options.ts; the agent (and its heavier dependencies, such as prom-client) is loaded by run()
// only, so other commands start without them.
import { hostname } from 'node:os';
import { UsageError, type CommandSpec } from '../runtime/options.js';
import { eventsOptions, type EventsOptions } from './options.js';
import { parseListenAddress } from '../runtime/listen-address.js';
import { collectOldGenerationEarly, INTERPRET_ONLY_START_FLAGS, interpretOnly, keepYoungGenerationSmall } from '../runtime/heap.js';

/** Kubernetes object names: RFC 1123 subdomains. */
const RESOURCE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

async function run(o: EventsOptions): Promise<number> {
  const hypervisor = o.hypervisor ?? hostname().toLowerCase();
  if (hypervisor.length > 253 || !RESOURCE_NAME.test(hypervisor)) {
    throw new UsageError(`--hypervisor: '${hypervisor}' is not a Kubernetes resource name (lower-case RFC 1123 subdomain)`);
  }
  const listen = parseListenAddress(o['web.listen-address']);
  if (!listen) throw new UsageError(`--web.listen-address: expected HOST:PORT such as :9179 or 127.0.0.1:9179, got '${o['web.listen-address']}'`);
  if (o['libvirt.reconnect-min'] > o['libvirt.reconnect-max']) throw new UsageError('--libvirt.reconnect-min must not exceed --libvirt.reconnect-max');
  // An event burst is short-lived garbage (records, Evictions, request bodies): the default young
  // generation growth would keep far more of it resident than the burst needs; and the agent's work is too
  // small for the optimizing compilers to pay for their memory (bench/RESULTS.md#events). The interpreter-only
  // flags are on node's command line already where the runtime could restart with them (nodeFlags below).
  interpretOnly();
  keepYoungGenerationSmall();
  collectOldGenerationEarly();
  const { runAgent } = await import('./run.js');
  return await runAgent(o, hypervisor, listen);
}

export const eventsCommand: CommandSpec<typeof eventsOptions> = {
  name: 'events',
  summary: "HA agent: libvirt domain events → records on stdout, Evictions and Hypervisor status in Kubernetes",
  description: [
    'Subscribes to lifecycle, reboot, watchdog, io-error, io-error-reason and control-error events of every domain,',
    'reconnects with backoff when libvirtd goes away and reconciles what happened meanwhile. Unexpected stops',
    '(failed, crashed), crashes and watchdogs create an Eviction (hypervisor.c5c3.io/v1); I/O errors per',
    '--io-error-policy; guest reboots patch status.lastDomainReboot of this node\'s Hypervisor. Every event is a',
    'JSON record (source libvirt-event) on stdout; /metrics and /healthz on --web.listen-address.',
  ].join('\n'),
  options: eventsOptions,
  nodeFlags: INTERPRET_ONLY_START_FLAGS,
  run,
};
