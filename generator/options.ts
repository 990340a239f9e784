// The options of `libvirt-telemetry generate`, defined once: they drive parsing, --help, the CLI
// reference (docs/cli.md) and (through GenerateOptions) the model builder.
import type { OptionSpec, OptionValues } from '../runtime/options.js';
import { packageVersion } from '../runtime/version.js';

/** Before the role joined the common scheme its variables were LIBVIRT_TELEMETRY_<NAME>: still read, with a warning. */
function withEnv<const S extends readonly OptionSpec[]>(specs: S): S {
  const old = (name: string) => `LIBVIRT_TELEMETRY_${name.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase()}`;
  return specs.map((s) => ({ ...s, deprecatedEnv: [s.name, ...(s.deprecatedNames ?? [])].map(old) })) as never;
}

export const OUTPUT_KINDS = ['forward', 'loki', 'opensearch', 'stdout'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

export const generateOptions = withEnv([
  { name: 'model', type: 'enum', choices: ['host', 'container'], default: 'host', description: 'operating model: host = libvirt from the host OS (journal + /var/log/libvirt/qemu), container = c5c3-managed libvirt pod (container logs)' },
  { name: 'format', type: 'enum', choices: ['classic', 'yaml', 'both'], default: 'both', description: 'configuration format: classic (fluent-bit.conf + parsers file), yaml (fluent-bit.yaml), or both' },
  { name: 'out', type: 'path', description: "directory to write (default ./fluent-bit, or ./manifests for `generate manifests`; missing parents are created); replaced as a whole, never left half-written; '-' writes the one file of --format yaml to standard output" },
  { name: 'check', type: 'boolean', default: false, description: 'after writing, run `fluent-bit --dry-run -c` on each written configuration and report its verdict (skipped, saying so, when no Fluent Bit binary is found)' },
  { name: 'fluent-bit', type: 'path', description: 'the Fluent Bit binary for --check (default: fluent-bit on PATH)' },
  { name: 'state-dir', type: 'path', default: '/var/lib/fluent-bit/libvirt-telemetry', description: 'where Fluent Bit keeps its offset/cursor databases and filesystem buffer (storage.path)' },
  { name: 'fluent-bit.log-level', deprecatedNames: ['log-level'], type: 'enum', choices: ['error', 'warn', 'info', 'debug', 'trace'], default: 'info', description: "Fluent Bit's own log level" },
  { name: 'flush', type: 'duration', default: '1s', min: 100, description: 'interval at which Fluent Bit flushes records to the outputs' },
  { name: 'http.listen', type: 'string', default: '0.0.0.0', description: 'IP address the HTTP server (metrics and /api/v1/health) listens on' },
  { name: 'http.port', type: 'port', default: 2020, description: 'port of the HTTP server' },
  { name: 'mem-buf-limit', type: 'bytes', default: '16M', min: 1024 * 1024, description: 'Mem_Buf_Limit of every input (memory before chunks go to the filesystem buffer only)' },
  { name: 'storage.sync', type: 'enum', choices: ['normal', 'full'], default: 'normal', description: 'storage.sync of the filesystem buffer' },
  { name: 'storage.backlog-mem-limit', type: 'bytes', default: '16M', min: 1024 * 1024, description: 'memory for replaying buffered chunks after a restart' },
  { name: 'storage.total-limit', type: 'bytes', default: '1G', min: 1024 * 1024, description: 'storage.total_limit_size of every output (oldest chunks are dropped beyond it)' },

  { name: 'journal.unit', type: 'list', default: ['libvirtd.service'], description: 'host model: systemd units whose journal entries are read (repeatable, e.g. virtqemud.service)' },
  { name: 'journal.directory', deprecatedNames: ['journal.path'], type: 'path', description: 'host model: journal directory to read instead of the local journal (e.g. a mounted /var/log/journal)' },
  { name: 'journal.tag', type: 'string', default: 'host.libvirtd', description: 'host model: tag of the journal records' },
  { name: 'journal.read-from-tail', type: 'boolean', default: false, description: 'host model: without a stored cursor start at the end of the journal instead of reading it all' },

  { name: 'qemu-logs', type: 'enum', choices: ['auto', 'sidecar', 'on', 'off'], default: 'auto', description: "where the per-domain QEMU logs come from: sidecar = records of `libvirt-telemetry sidecar` (host model: a forward input it sends to; container model: the sidecar container's log), on = Fluent Bit tails them itself (sites without the sidecar; needs them mounted in the container model), off = not collected; auto = sidecar" },
  { name: 'sidecar.listen', type: 'string', default: '127.0.0.1', description: 'host model, --qemu-logs sidecar: IP address of the forward input the sidecar sends its records to' },
  { name: 'sidecar.port', type: 'port', default: 24224, description: 'host model, --qemu-logs sidecar: TCP port of that forward input' },
  { name: 'sidecar.shared-key', type: 'string', description: "host model, --qemu-logs sidecar: shared key the forward input requires (give the sidecar the same with --forward.shared-key); '${VAR}' makes Fluent Bit read it from its environment" },
  { name: 'qemu.path', type: 'string', default: '/var/log/libvirt/qemu/*.log', description: '--qemu-logs on: glob of the per-domain QEMU logs (<domain>.log)' },
  { name: 'qemu.tag', type: 'string', default: 'host.qemu', description: 'tag prefix of QEMU records; the tag is <prefix>.<domain> (with --qemu-logs sidecar it must end in .qemu: the sidecar tags <its --tag-prefix>.qemu.<domain>)' },
  { name: 'tail.read-from-head', type: 'boolean', default: true, description: 'read files found at start from their beginning when no offset is stored' },
  { name: 'tail.buffer-chunk-size', type: 'bytes', default: '32k', min: 1024, description: 'in_tail Buffer_Chunk_Size (initial read buffer per file)' },
  { name: 'tail.buffer-max-size', type: 'bytes', default: '256k', min: 1024, description: 'in_tail Buffer_Max_Size; longer lines are skipped (Skip_Long_Lines)' },
  { name: 'tail.rotate-wait', type: 'duration', default: '10s', min: 1000, description: 'how long a rotated (renamed) file is still read' },
  { name: 'tail.refresh-interval', type: 'duration', default: '10s', min: 1000, description: 'how often the path globs are rescanned for new files' },

  { name: 'container.log-dir', type: 'path', default: '/var/log/containers', description: 'container model: directory of the kubelet container log symlinks' },
  { name: 'container.pod', type: 'string', default: 'libvirt-*', description: 'container model: glob of the libvirt pod names' },
  { name: 'container.namespace', type: 'string', default: 'openstack', description: 'container model: namespace of the libvirt pods' },
  { name: 'container.name', type: 'string', default: 'libvirtd', description: 'container model: name of the libvirtd container' },
  { name: 'kubernetes.url', type: 'string', default: 'https://kubernetes.default.svc:443', description: 'container model: Kubernetes API server URL for the kubernetes filter' },
  { name: 'kubernetes.ca-file', type: 'path', default: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', description: 'container model: CA of the API server' },
  { name: 'kubernetes.token-file', type: 'path', default: '/var/run/secrets/kubernetes.io/serviceaccount/token', description: 'container model: service account token for the API server' },

  { name: 'output', type: 'list', default: ['stdout'], description: `where records go: ${OUTPUT_KINDS.join(', ')} (repeatable or comma-separated)` },
  { name: 'forward.host', type: 'string', description: 'forward output: Fluentd/Fluent Bit aggregator host (required with --output forward)' },
  { name: 'forward.port', type: 'port', default: 24224, description: 'forward output: port' },
  { name: 'forward.tls', type: 'boolean', default: false, description: 'forward output: use TLS' },
  { name: 'forward.tls-verify', type: 'boolean', default: true, description: 'forward output: verify the server certificate' },
  { name: 'forward.tls-ca-file', type: 'path', description: 'forward output: CA certificate(s) to verify the server with (default: the system CAs)' },
  { name: 'forward.shared-key', type: 'string', description: "forward output: shared key for the secure forward handshake; '${VAR}' makes Fluent Bit read it from its environment" },
  { name: 'forward.self-hostname', type: 'string', description: 'forward output: hostname sent in the handshake (with --forward.shared-key)' },
  { name: 'loki.host', type: 'string', description: 'loki output: Loki host (required with --output loki)' },
  { name: 'loki.port', type: 'port', default: 3100, description: 'loki output: port' },
  { name: 'loki.tls', type: 'boolean', default: false, description: 'loki output: use TLS' },
  { name: 'loki.tls-verify', type: 'boolean', default: true, description: 'loki output: verify the server certificate' },
  { name: 'loki.tls-ca-file', type: 'path', description: 'loki output: CA certificate(s) to verify the server with (default: the system CAs)' },
  { name: 'loki.labels', type: 'list', default: ['job=libvirt-telemetry', 'source=$source'], description: 'loki output: stream labels (key=value; $field takes a record field)' },
  { name: 'loki.tenant', type: 'string', description: 'loki output: X-Scope-OrgID tenant' },
  { name: 'opensearch.host', type: 'string', description: 'opensearch output: OpenSearch host (required with --output opensearch)' },
  { name: 'opensearch.port', type: 'port', default: 9200, description: 'opensearch output: port' },
  { name: 'opensearch.tls', type: 'boolean', default: false, description: 'opensearch output: use TLS' },
  { name: 'opensearch.tls-verify', type: 'boolean', default: true, description: 'opensearch output: verify the server certificate' },
  { name: 'opensearch.tls-ca-file', type: 'path', description: 'opensearch output: CA certificate(s) to verify the server with (default: the system CAs)' },
  { name: 'opensearch.index', type: 'string', default: 'libvirt-telemetry', description: 'opensearch output: index name' },
  { name: 'opensearch.user', type: 'string', description: 'opensearch output: HTTP basic auth user' },
  { name: 'opensearch.password', type: 'string', description: "opensearch output: HTTP basic auth password ('${VAR}' reads it from Fluent Bit's environment)" },

  { name: 'image', type: 'string', default: `ghcr.io/c5c3/libvirt-telemetry:${packageVersion()}`, description: 'manifests: container image of the exporter, events and sidecar containers' },
  { name: 'k8s.monitoring-namespace', type: 'string', default: 'monitoring', description: 'manifests: namespace of the exporter DaemonSet, Service and ServiceMonitor, the PrometheusRule and the dashboard ConfigMap' },
  { name: 'k8s.logging-namespace', type: 'string', default: 'logging', description: 'manifests: namespace of the Fluent Bit ConfigMap' },
  { name: 'k8s.ha-namespace', type: 'string', default: 'libvirt-telemetry', description: 'manifests: namespace of the HA agent (events) DaemonSet, its ServiceAccount and the Evictions it creates' },
  { name: 'k8s.tolerations', type: 'list', default: ['node-role.kubernetes.io/hypervisor:NoSchedule'], description: "manifests: taints of the hypervisor nodes the exporter and HA agent pods tolerate, KEY[=VALUE][:EFFECT] (no VALUE: any value; no EFFECT: every effect); '' for none" },
  { name: 'k8s.priority-class-name', type: 'string', description: 'manifests: priorityClassName of the exporter and HA agent pods (e.g. system-node-critical)' },
  { name: 'monitoring.labels', type: 'list', default: [], description: "manifests: labels (KEY=VALUE) of the ServiceMonitor, the PodMonitors and the PrometheusRule, so that Prometheus' selectors pick them up (kube-prometheus-stack: release=<its release name>)" },
] as const);

export type GenerateOptions = OptionValues<typeof generateOptions>;
