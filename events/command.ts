// `libvirt-telemetry events`: the HA agent's libvirt event listener. Subscribes to the node's libvirtd,
// records every domain event on stdout, creates Evictions and patches the Hypervisor status in Kubernetes.
// The options live here; the agent (and its heavier dependencies, such as prom-client) is loaded by run()
// only, so other commands start without them.
import { hostname } from 'node:os';
import { UsageError, type CommandSpec, type OptionValues } from '../runtime/options.js';
import { IO_ERROR_POLICIES } from './policy.js';
import { parseListenAddress } from '../runtime/listen-address.js';
import { libvirtUriOption } from '../libvirt/uri-option.js';
import { LOG_OPTIONS, webListenAddressOption } from '../runtime/shared-options.js';

const options = [
  { ...libvirtUriOption('libvirt daemon to subscribe to, e.g. qemu+tcp://$(NODE_IP):16509/system'), deprecatedEnv: ['LIBVIRT_URI'] },
  { name: 'hypervisor', type: 'string', deprecatedEnv: ['NODE_NAME'], description: "this node's Hypervisor resource name, written into spec.hypervisor of Evictions (default: the host name)" },
  { name: 'kubeconfig', type: 'path', deprecatedEnv: ['KUBECONFIG'], description: 'kubeconfig file (default: the in-cluster service account)' },
  { name: 'namespace', type: 'string', deprecatedEnv: ['POD_NAMESPACE'], description: "namespace of the Evictions (default: the kubeconfig context's, in-cluster the service account's, else default)" },
  { name: 'dry-run', type: 'boolean', description: 'print the Eviction objects and status patches as JSON lines instead of writing them; needs no Kubernetes access' },
  {
    name: 'io-error-policy',
    type: 'enum',
   
    choices: IO_ERROR_POLICIES,
    default: 'evict-on-persist',
    description: 'I/O errors: record = record only; evict-on-pause = Eviction as soon as an I/O error pauses the domain; evict-on-persist = Eviction when the domain is still paused by it, or errors kept coming, after --io-error-persist',
  },
  { name: 'io-error-persist', type: 'duration', default: '60s', min: 1000, description: 'persistence window of evict-on-persist' },
  { name: 'dedupe.reboot-window', type: 'duration', default: '5s', min: 1, description: 'reboot events of one domain within this window of the first are one reboot (libvirt sends 2–3, ~100 ms apart on an idle host, further apart on a busy one)' },
  { name: 'dedupe.io-error-window', type: 'duration', default: '1s', min: 1, description: 'I/O errors of one domain within this window of the first are one burst (one per request in flight)' },
  webListenAddressOption(':9179', 'address of /metrics and /healthz (the exporter uses 9177, the sidecar 9178)'),
  { name: 'libvirt.timeout', type: 'duration', default: '30s', min: 100, description: 'deadline of connecting and of each libvirt call' },
  { name: 'libvirt.reconnect-min', type: 'duration', default: '500ms', min: 10, description: 'first delay before reconnecting to libvirtd; doubles per failed attempt' },
  { name: 'libvirt.reconnect-max', type: 'duration', default: '1s', min: 10, description: 'longest delay between reconnection attempts (kept short: after an outage of any length the agent is back within about this long of libvirtd answering)' },
  { name: 'kube.timeout', type: 'duration', default: '10s', min: 100, description: 'deadline of each Kubernetes API request' },
  { name: 'kube.retry-for', type: 'duration', default: '15m', min: 1000, description: 'keep retrying a failed Eviction or status write (5xx, 429, timeouts) this long, then give it up (counted, logged)' },
  { name: 'kube.queue-size', type: 'integer', default: 1000, min: 1, max: 1_000_000, description: 'Kubernetes writes held at most (queued, running, waiting to retry); beyond it writes are rejected, counted and logged' },
  { name: 'kube.concurrency', type: 'integer', default: 4, min: 1, max: 64, description: 'Kubernetes API requests in flight at most' },
  ...LOG_OPTIONS,
] as const;

export type EventsOptions = OptionValues<typeof options>;

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
  const [{ runAgent }, heap] = await Promise.all([import('./run.js'), import('../runtime/heap.js')]);
  // An event burst is short-lived garbage (records, Evictions, request bodies): the default young
  // generation growth would keep tens of MiB resident for it.
  heap.keepYoungGenerationSmall();
  heap.collectOldGenerationEarly();
  return await runAgent(o, hypervisor, listen);
}

export const eventsCommand: CommandSpec<typeof options> = {
  name: 'events',
  summary: "HA agent: libvirt domain events → records on stdout, Evictions and Hypervisor status in Kubernetes",
  description: [
    'Subscribes to lifecycle, reboot, watchdog, io-error, io-error-reason and control-error events of every domain,',
    'reconnects with backoff when libvirtd goes away and reconciles what happened meanwhile. Unexpected stops',
    '(failed, crashed), crashes and watchdogs create an Eviction (hypervisor.c5c3.io/v1); I/O errors per',
    '--io-error-policy; guest reboots patch status.lastDomainReboot of this node\'s Hypervisor. Every event is a',
    'JSON record (source libvirt-event) on stdout; /metrics and /healthz on --web.listen-address.',
  ].join('\n'),
  options,
  run,
};
