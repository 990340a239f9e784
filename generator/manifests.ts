// The Kubernetes manifests of the design document, built as objects from the same options as the
// Fluent Bit configuration (whose files the ConfigMap holds, rendered by the same templates).
// The Eviction CRD and the HA agent's RBAC are read from events/deploy/, their single definition.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { envName, type OptionSpec } from '../runtime/options.js';
import { eventsCommand } from '../events/command.js';
import { exporterCommand } from '../metrics/command.js';
import { sidecarCommand } from '../sidecar/command.js';
import { MANIFEST_FILES } from './files.js';
import type { GenerateOptions } from './options.js';
import { SIDECAR_CONTAINER as SIDECAR } from './sidecar-link.js';

/** A Kubernetes object as plain data. */
export type Manifest = Record<string, unknown> & { apiVersion: string; kind: string };

export interface ManifestFile {
  /** What the file is for and how to use it; rendered as comments at its top. */
  readonly comment: readonly string[];
  readonly documents: readonly Manifest[];
}


const EVENTS_DEPLOY = new URL('../../events/deploy/', import.meta.url);
const RULES_FILE = new URL('../../deploy/prometheus/libvirt-telemetry.rules.yml', import.meta.url);
const DASHBOARD_FILE = new URL('../../deploy/grafana/libvirt-telemetry.json', import.meta.url);
/** The design document's node selector: only hypervisor nodes run the per-node agents. */
const HYPERVISOR_NODE_SELECTOR = { 'node-role.kubernetes.io/hypervisor': '' };
/** libvirtd's TCP endpoint on the node (design document: qemu+tcp://$(NODE_IP):16509/system). */
const LIBVIRT_URI = 'qemu+tcp://$(NODE_IP):16509/system';
const NODE_IP = { name: 'NODE_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } };
const EXPORTER = 'libvirt-exporter';
const EVENTS = 'libvirt-telemetry-events';
/** The image's non-root user (Dockerfile: USER 1000:1000, the node image's `node`). */
const IMAGE_USER = 1000;

function optionDefault(options: readonly OptionSpec[], name: string): string {
  const spec = options.find((o) => o.name === name);
  if (typeof spec?.default !== 'string') throw new Error(`option --${name} has no text default`);
  return spec.default;
}

/** The port of a role's default listen address (`:9177`), so the manifests follow the role's own default. */
function defaultPort(options: readonly OptionSpec[]): number {
  return Number(/:(\d+)$/.exec(optionDefault(options, 'web.listen-address'))![1]);
}

const EXPORTER_PORT = defaultPort(exporterCommand.options);
const EVENTS_PORT = defaultPort(eventsCommand.options);
const SIDECAR_PORT = defaultPort(sidecarCommand.options);

/** Non-root, no privileges, read-only root: all the exporter and the events agent need. */
const NON_ROOT = {
  runAsNonRoot: true,
  runAsUser: IMAGE_USER,
  runAsGroup: IMAGE_USER,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

function scrapeAnnotations(port: number) {
  return { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port) };
}

function exporter(o: GenerateOptions): ManifestFile {
  const namespace = o['k8s.monitoring-namespace'];
  const labels = { app: EXPORTER };
  return {
    comment: ['libvirt-exporter (libvirt-telemetry exporter) on every hypervisor node, scraped through the ServiceMonitor.'],
    documents: [
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: EXPORTER, namespace, labels },
        spec: {
          selector: { matchLabels: labels },
          template: {
            metadata: { labels, annotations: scrapeAnnotations(EXPORTER_PORT) },
            spec: {
              nodeSelector: HYPERVISOR_NODE_SELECTOR,
              containers: [
                {
                  name: EXPORTER,
                  image: o.image,
                  args: ['exporter', `--libvirt.uri=${LIBVIRT_URI}`],
                  env: [NODE_IP],
                  ports: [{ containerPort: EXPORTER_PORT, name: 'metrics' }],
                  resources: { requests: { memory: '64Mi', cpu: '25m' }, limits: { memory: '128Mi', cpu: '100m' } },
                  livenessProbe: { httpGet: { path: '/healthz', port: 'metrics' }, periodSeconds: 30 },
                  securityContext: NON_ROOT,
                },
              ],
            },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: EXPORTER, namespace, labels },
        spec: {
          // Headless: Prometheus scrapes every node's pod, never a load-balanced one.
          clusterIP: 'None',
          selector: labels,
          ports: [{ name: 'metrics', port: EXPORTER_PORT, targetPort: 'metrics' }],
        },
      },
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: EXPORTER, namespace },
        spec: { selector: { matchLabels: labels }, endpoints: [{ port: 'metrics', interval: '30s' }] },
      },
    ],
  };
}

function fluentBit(o: GenerateOptions, files: ReadonlyMap<string, string>): ManifestFile {
  return {
    comment: [
      `The Fluent Bit configuration of the ${o.model} model (the files \`generate\` writes), for the Fluent Bit pods to mount`,
      'as their configuration directory; run fluent-bit with -c on fluent-bit.conf or fluent-bit.yaml in it.',
    ],
    documents: [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'libvirt-telemetry-fluent-bit', namespace: o['k8s.logging-namespace'], labels: { app: 'fluent-bit' } },
        data: Object.fromEntries(files),
      },
    ],
  };
}

/**
 * A strategic merge patch for the libvirt DaemonSet of the c5c3-managed model: the QEMU logs go to a
 * hostPath volume shared by the libvirtd container (--container.name) and the sidecar, which turns them
 * into records on its stdout for the standard container log pipeline; its checkpoints live in a hostPath
 * state directory so that a restarted pod resumes where it stopped.
 */
function sidecar(o: GenerateOptions): ManifestFile {
  const qemuLogDir = optionDefault(sidecarCommand.options, 'qemu.log-dir');
  const stateDir = optionDefault(sidecarCommand.options, 'state-dir');
  return {
    comment: [
      `Sidecar for the libvirt pod (c5c3-managed model): apply with`,
      `  kubectl -n ${o['container.namespace']} patch daemonset <libvirt DaemonSet> --patch-file ${MANIFEST_FILES.sidecar}`,
      `It mounts the QEMU log directory into the '${o['container.name']}' container and the sidecar. The sidecar runs as root`,
      'with every capability dropped: virtlogd writes the QEMU logs as root with mode 0600.',
    ],
    documents: [
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        spec: {
          template: {
            spec: {
              containers: [
                { name: o['container.name'], volumeMounts: [{ name: 'qemu-logs', mountPath: qemuLogDir }] },
                {
                  name: SIDECAR,
                  image: o.image,
                  args: ['sidecar', '--libvirtd.source=none', `--qemu.log-dir=${qemuLogDir}`, `--state-dir=${stateDir}`, '--output=stdout'],
                  ports: [{ containerPort: SIDECAR_PORT, name: 'sidecar-metrics' }],
                  resources: { requests: { memory: '32Mi', cpu: '10m' }, limits: { memory: '128Mi', cpu: '200m' } },
                  livenessProbe: { httpGet: { path: '/healthz', port: 'sidecar-metrics' }, periodSeconds: 30 },
                  volumeMounts: [
                    { name: 'qemu-logs', mountPath: qemuLogDir, readOnly: true },
                    { name: 'sidecar-state', mountPath: stateDir },
                  ],
                  securityContext: {
                    runAsUser: 0,
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ['ALL'] },
                  },
                },
              ],
              volumes: [
                { name: 'qemu-logs', hostPath: { path: qemuLogDir, type: 'DirectoryOrCreate' } },
                { name: 'sidecar-state', hostPath: { path: stateDir, type: 'DirectoryOrCreate' } },
              ],
            },
          },
        },
      } as Manifest,
    ],
  };
}

function readDeploy(name: string): Manifest[] {
  return YAML.parseAllDocuments(readFileSync(new URL(name, EVENTS_DEPLOY), 'utf8')).map((d) => d.toJS() as Manifest);
}

/** The HA agent's RBAC (events/deploy/rbac.yaml) moved to --k8s.ha-namespace. */
function rbac(namespace: string): Manifest[] {
  return readDeploy('rbac.yaml').map((m) => {
    const metadata = m.metadata as { namespace?: string };
    if (metadata.namespace !== undefined) metadata.namespace = namespace;
    for (const subject of (m.subjects as { namespace?: string }[] | undefined) ?? []) subject.namespace = namespace;
    return m;
  });
}

function events(o: GenerateOptions): ManifestFile {
  const namespace = o['k8s.ha-namespace'];
  const labels = { app: EVENTS };
  const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  return {
    comment: [
      'HA agent (libvirt-telemetry events) on every hypervisor node: libvirt domain events -> Evictions, with its RBAC',
      `(${MANIFEST_FILES.crd} must be applied first).`,
    ],
    documents: [
      ...rbac(namespace),
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: EVENTS, namespace, labels },
        spec: {
          selector: { matchLabels: labels },
          template: {
            metadata: { labels, annotations: scrapeAnnotations(EVENTS_PORT) },
            spec: {
              serviceAccountName: EVENTS,
              nodeSelector: HYPERVISOR_NODE_SELECTOR,
              containers: [
                {
                  name: 'events',
                  image: o.image,
                  args: ['events', `--libvirt.uri=${LIBVIRT_URI}`],
                  env: [NODE_IP, fieldEnv(envName('events', 'hypervisor'), 'spec.nodeName'), fieldEnv(envName('events', 'namespace'), 'metadata.namespace')],
                  ports: [{ containerPort: EVENTS_PORT, name: 'metrics' }],
                  resources: { requests: { memory: '64Mi', cpu: '25m' }, limits: { memory: '256Mi', cpu: '200m' } },
                  // 503 while disconnected from libvirtd: not ready, but never killed for it (it reconnects itself).
                  readinessProbe: { httpGet: { path: '/healthz', port: 'metrics' }, periodSeconds: 10 },
                  securityContext: NON_ROOT,
                },
              ],
            },
          },
        },
      },
    ],
  };
}

/** The alert rules of deploy/prometheus as a prometheus-operator PrometheusRule. */
function alerts(o: GenerateOptions): ManifestFile {
  return {
    comment: ['Alert rules of libvirt-telemetry (deploy/prometheus/libvirt-telemetry.rules.yml) for the Prometheus operator.'],
    documents: [
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: { name: 'libvirt-telemetry', namespace: o['k8s.monitoring-namespace'] },
        spec: YAML.parse(readFileSync(RULES_FILE, 'utf8')),
      },
    ],
  };
}

/** The Grafana dashboard in a ConfigMap labelled for Grafana's dashboard sidecar (grafana_dashboard: "1"). */
function dashboard(o: GenerateOptions): ManifestFile {
  return {
    comment: ["The Grafana dashboard (deploy/grafana/libvirt-telemetry.json), picked up by Grafana's dashboard sidecar through its label."],
    documents: [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'libvirt-telemetry-dashboard', namespace: o['k8s.monitoring-namespace'], labels: { grafana_dashboard: '1' } },
        data: { 'libvirt-telemetry.json': readFileSync(DASHBOARD_FILE, 'utf8') },
      },
    ],
  };
}

/** Every manifest file for these options; `fluentBitFiles` are the generated Fluent Bit files. */
export function buildManifests(o: GenerateOptions, fluentBitFiles: ReadonlyMap<string, string>): Map<string, ManifestFile> {
  return new Map([
    [MANIFEST_FILES.exporter, exporter(o)],
    [MANIFEST_FILES.fluentBit, fluentBit(o, fluentBitFiles)],
    [MANIFEST_FILES.sidecar, sidecar(o)],
    [MANIFEST_FILES.events, events(o)],
    [MANIFEST_FILES.crd, { comment: ['The Eviction CRD (hypervisor.c5c3.io/v1) the HA agent creates and the Hypervisor operator acts on.'], documents: readDeploy('eviction-crd.yaml') }],
    [MANIFEST_FILES.alerts, alerts(o)],
    [MANIFEST_FILES.dashboard, dashboard(o)],
  ]);
}

/** One file's YAML: its comment, then its documents separated by `---`. */
export function renderManifestFile(file: ManifestFile): string {
  const header = [...file.comment, 'Generated by `libvirt-telemetry generate manifests`; change the options and regenerate instead of editing.'];
  const docs = file.documents.map((d) => YAML.stringify(d, { lineWidth: 0, blockQuote: 'literal', aliasDuplicateObjects: false }));
  return header.map((l) => `# ${l}`.trimEnd()).join('\n') + '\n' + docs.join('---\n');
}
