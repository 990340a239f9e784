// The options of `libvirt-telemetry events`, defined once: parsing, --help and docs/cli.md read them, and the
// running agent (run.ts) takes their parsed values.
import { DEFAULT_PORTS } from '../runtime/role-defaults.js';
import type { OptionValues } from '../runtime/options.js';
import { IO_ERROR_POLICIES } from './policy.js';
import { libvirtUriOption } from '../libvirt/uri-option.js';
import { LOG_OPTIONS, webListenAddressOption } from '../runtime/shared-options.js';

export const eventsOptions = [
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
  webListenAddressOption(`:${DEFAULT_PORTS.events}`, `address of /metrics and /healthz (the exporter uses ${DEFAULT_PORTS.exporter}, the sidecar ${DEFAULT_PORTS.sidecar})`),
  { name: 'libvirt.timeout', type: 'duration', default: '30s', min: 100, description: 'deadline of connecting and of each libvirt call' },
  { name: 'libvirt.reconnect-min', type: 'duration', default: '500ms', min: 10, description: 'first delay before reconnecting to libvirtd; doubles per failed attempt' },
  { name: 'libvirt.reconnect-max', type: 'duration', default: '1s', min: 10, description: 'longest delay between reconnection attempts (kept short: after an outage of any length the agent is back within about this long of libvirtd answering)' },
  { name: 'kube.timeout', type: 'duration', default: '10s', min: 100, description: 'deadline of each Kubernetes API request' },
  { name: 'kube.retry-for', type: 'duration', default: '15m', min: 1000, description: 'keep retrying a failed Eviction or status write (5xx, 429, timeouts) this long, then give it up (counted, logged)' },
  { name: 'kube.queue-size', type: 'integer', default: 1000, min: 1, max: 1_000_000, description: 'Kubernetes writes held at most (queued, running, waiting to retry); beyond it writes are rejected, counted and logged' },
  { name: 'kube.concurrency', type: 'integer', default: 4, min: 1, max: 64, description: 'Kubernetes API requests in flight at most' },
  ...LOG_OPTIONS,
] as const;

export type EventsOptions = OptionValues<typeof eventsOptions>;
