// The Kubernetes manifests of the design document, built as objects from the same options as the
// Fluent Bit configuration (whose files the ConfigMap holds, rendered by the same templates).
// The static deployment files (Eviction CRD, the HA agent's RBAC, alert rules, dashboard) are read from
// deploy/, their single definition.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { envName, UsageError } from '../runtime/options.js';
import { packageVersion } from '../runtime/version.js';
import { DEFAULT_PORTS, SIDECAR_PATHS } from '../runtime/role-defaults.js';
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

const DEPLOY = new URL('../../deploy/', import.meta.url);
const CRD_FILE = 'crd/eviction-crd.yaml';
const RBAC_FILE = 'rbac/events-rbac.yaml';
const RULES_FILE = 'prometheus/libvirt-telemetry.rules.yml';
const DASHBOARD_FILE = 'grafana/libvirt-telemetry.json';
/** The design document's node selector: only hypervisor nodes run the per-node agents. */
const HYPERVISOR_NODE_SELECTOR = { 'node-role.kubernetes.io/hypervisor': '' };
/** libvirtd's TCP endpoint on the node (design document: qemu+tcp://$(NODE_IP):16509/system). */
const LIBVIRT_URI = 'qemu+tcp://$(NODE_IP):16509/system';
const NODE_IP = { name: 'NODE_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } };
const EXPORTER = 'libvirt-exporter';
const EVENTS = 'libvirt-telemetry-events';
/** The image's non-root user (Dockerfile: USER 1000:1000). */
const IMAGE_USER = 1000;
/**
 * The label the sidecar patch puts on the libvirt pods so that its PodMonitor finds them. Its own key:
 * the libvirt DaemonSet's selector uses the operator's labels, which the patch must leave alone.
 */
const SIDECAR_POD_LABEL = { 'telemetry.c5c3.io/sidecar': 'libvirt-telemetry' };
/** The port names the monitors select; one per role so that a pod holding two roles stays unambiguous. */
export const METRICS_PORT_NAMES = { exporter: 'metrics', events: 'metrics', sidecar: 'sidecar-metrics' } as const;

export type Component = 'exporter' | 'events' | 'sidecar' | 'logging' | 'monitoring';

function readDeploy(name: string): string {
  return readFileSync(new URL(name, DEPLOY), 'utf8');
}

function readDeployDocuments(name: string): Manifest[] {
  return YAML.parseAllDocuments(readDeploy(name)).map((d) => d.toJS() as Manifest);
}

const EXPORTER_PORT = DEFAULT_PORTS.exporter;
const EVENTS_PORT = DEFAULT_PORTS.events;
const SIDECAR_PORT = DEFAULT_PORTS.sidecar;

/** The recommended labels (app.kubernetes.io/*) of every object we ship. */
function commonLabels(component: Component): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'libvirt-telemetry',
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': 'libvirt-telemetry',
    'app.kubernetes.io/version': packageVersion(),
    'app.kubernetes.io/managed-by': 'libvirt-telemetry-generate',
  };
}

/** A label key (optional DNS prefix, then a name of at most 63) and value (at most 63, may be empty). */
const LABEL_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** `--monitoring.labels k=v,…` as a label map; throws a UsageError on a bad entry. */
export function monitoringLabels(entries: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const [key, value] = eq === -1 ? [entry, undefined] : [entry.slice(0, eq), entry.slice(eq + 1)];
    if (value === undefined || !LABEL_NAME.test(key) || !LABEL_VALUE.test(value))
      throw new UsageError(`--monitoring.labels: expected KEY=VALUE with a Kubernetes label key and value, got '${entry}'`);
    labels[key] = value;
  }
  return labels;
}

/** `KEY[=VALUE][:EFFECT]` as a toleration; throws a UsageError on a bad entry. */
export function toleration(entry: string): Record<string, string> {
  const m = /^([^=:]+)(?:=([^:]*))?(?::(\w+))?$/.exec(entry);
  if (!m || !LABEL_NAME.test(m[1]!) || (m[2] !== undefined && !LABEL_VALUE.test(m[2])) || (m[3] !== undefined && !TAINT_EFFECTS.includes(m[3])))
    throw new UsageError(`--k8s.tolerations: expected KEY[=VALUE][:EFFECT] with EFFECT one of ${TAINT_EFFECTS.join(', ')}, got '${entry}'`);
  return {
    key: m[1]!,
    operator: m[2] === undefined ? 'Exists' : 'Equal',
    ...(m[2] !== undefined && { value: m[2] }),
    ...(m[3] !== undefined && { effect: m[3] }),
  };
}

/** A priorityClassName: a DNS subdomain name. */
export function checkPriorityClassName(name: string | undefined): void {
  if (name !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name))
    throw new UsageError(`--k8s.priority-class-name: must be a Kubernetes object name (a-z 0-9 - .), got '${name}'`);
}

/** Pod Security "restricted" at pod level: RuntimeDefault seccomp, the image's non-root user. */
const RESTRICTED_POD = {
  runAsNonRoot: true,
  runAsUser: IMAGE_USER,
  runAsGroup: IMAGE_USER,
  seccompProfile: { type: 'RuntimeDefault' },
};

/** Pod Security "restricted" at container level, plus a read-only root: all the exporter and the HA agent need. */
const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

/** Scheduling of a per-node agent: hypervisor nodes only, their taints tolerated, the chosen priority. */
function perNodeScheduling(o: GenerateOptions) {
  return {
    nodeSelector: HYPERVISOR_NODE_SELECTOR,
    ...(o['k8s.tolerations'].length > 0 && { tolerations: o['k8s.tolerations'].map(toleration) }),
    ...(o['k8s.priority-class-name'] !== undefined && { priorityClassName: o['k8s.priority-class-name'] }),
  };
}

function scrapeAnnotations(port: number) {
  return { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port) };
}

/** Every monitor names the target by its node: the dashboard's node variable and the alerts' `instance`. */
const INSTANCE_IS_NODE = [{ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'instance', action: 'replace' }];

function monitorMetadata(o: GenerateOptions, name: string, namespace: string, component: Component) {
  return { name, namespace, labels: { ...commonLabels(component), ...monitoringLabels(o['monitoring.labels']) } };
}

function podMonitor(o: GenerateOptions, name: string, namespace: string, component: Component, selector: Record<string, string>, port: string): Manifest {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PodMonitor',
    metadata: monitorMetadata(o, name, namespace, component),
    spec: { selector: { matchLabels: selector }, podMetricsEndpoints: [{ port, interval: '30s', relabelings: INSTANCE_IS_NODE }] },
  };
}

function exporter(o: GenerateOptions): ManifestFile {
  const namespace = o['k8s.monitoring-namespace'];
  const selector = { app: EXPORTER };
  const labels = { ...commonLabels('exporter'), ...selector };
  const port = METRICS_PORT_NAMES.exporter;
  return {
    comment: ['libvirt-exporter (libvirt-telemetry exporter) on every hypervisor node, scraped through the ServiceMonitor.'],
    documents: [
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: EXPORTER, namespace, labels },
        spec: {
          selector: { matchLabels: selector },
          template: {
            metadata: { labels, annotations: scrapeAnnotations(EXPORTER_PORT) },
            spec: {
              ...perNodeScheduling(o),
              automountServiceAccountToken: false,
              securityContext: RESTRICTED_POD,
              containers: [
                {
                  name: EXPORTER,
                  image: o.image,
                  args: ['exporter', `--libvirt.uri=${LIBVIRT_URI}`],
                  env: [NODE_IP],
                  ports: [{ containerPort: EXPORTER_PORT, name: port }],
                  resources: { requests: { memory: '64Mi', cpu: '25m' }, limits: { memory: '128Mi', cpu: '100m' } },
                  livenessProbe: { httpGet: { path: '/healthz', port }, periodSeconds: 30 },
                  securityContext: RESTRICTED_CONTAINER,
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
          selector,
          ports: [{ name: port, port: EXPORTER_PORT, targetPort: port }],
        },
      },
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: monitorMetadata(o, EXPORTER, namespace, 'exporter'),
        spec: { selector: { matchLabels: selector }, endpoints: [{ port, interval: '30s', relabelings: INSTANCE_IS_NODE }] },
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
        metadata: { name: 'libvirt-telemetry-fluent-bit', namespace: o['k8s.logging-namespace'], labels: { ...commonLabels('logging'), app: 'fluent-bit' } },
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
  const qemuLogDir = SIDECAR_PATHS.qemuLogDir;
  const stateDir = SIDECAR_PATHS.stateDir;
  const port = METRICS_PORT_NAMES.sidecar;
  return {
    comment: [
      `Sidecar for the libvirt pod (c5c3-managed model): apply with`,
      `  kubectl -n ${o['container.namespace']} patch daemonset <libvirt DaemonSet> --patch-file ${MANIFEST_FILES.sidecar}`,
      `It mounts the QEMU log directory into the '${o['container.name']}' container and the sidecar, and labels the pods for the`,
      `sidecar's PodMonitor (${MANIFEST_FILES.sidecarMonitor}).`,
      'Pod Security: the libvirt pod is privileged anyway (libvirtd); the sidecar asks for the least it can read the logs with.',
      'It runs as root (uid 0) with every capability dropped, no privilege escalation, RuntimeDefault seccomp and a read-only',
      'root: virtlogd writes the QEMU logs as root with mode 0600, so no group and no non-root user can read them, and root',
      'without capabilities reads only what root owns. The hostPath volumes keep the logs and the checkpoints across pod',
      'restarts (running domains keep writing; the sidecar resumes where it stopped).',
    ],
    documents: [
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        spec: {
          template: {
            metadata: { labels: SIDECAR_POD_LABEL },
            spec: {
              containers: [
                { name: o['container.name'], volumeMounts: [{ name: 'qemu-logs', mountPath: qemuLogDir }] },
                {
                  name: SIDECAR,
                  image: o.image,
                  args: ['sidecar', '--libvirtd.source=none', `--qemu.log-dir=${qemuLogDir}`, `--state-dir=${stateDir}`, '--output=stdout'],
                  ports: [{ containerPort: SIDECAR_PORT, name: port }],
                  resources: { requests: { memory: '32Mi', cpu: '10m' }, limits: { memory: '128Mi', cpu: '200m' } },
                  livenessProbe: { httpGet: { path: '/healthz', port }, periodSeconds: 30 },
                  volumeMounts: [
                    { name: 'qemu-logs', mountPath: qemuLogDir, readOnly: true },
                    { name: 'sidecar-state', mountPath: stateDir },
                  ],
                  securityContext: {
                    // Root only for the 0600 root-owned QEMU logs (see the comment at the top of this file).
                    runAsUser: 0,
                    runAsNonRoot: false,
                    seccompProfile: { type: 'RuntimeDefault' },
                    ...RESTRICTED_CONTAINER,
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

function sidecarMonitor(o: GenerateOptions): ManifestFile {
  return {
    comment: [`Scrapes the sidecar in the libvirt pods, which the sidecar patch (${MANIFEST_FILES.sidecar}) labels and gives the port.`],
    documents: [podMonitor(o, SIDECAR, o['container.namespace'], 'sidecar', SIDECAR_POD_LABEL, METRICS_PORT_NAMES.sidecar)],
  };
}

/** The HA agent's RBAC (deploy/rbac/events-rbac.yaml) moved to --k8s.ha-namespace. */
function rbac(namespace: string): Manifest[] {
  return readDeployDocuments(RBAC_FILE).map((m) => {
    const metadata = m.metadata as { namespace?: string };
    if (metadata.namespace !== undefined) metadata.namespace = namespace;
    for (const subject of (m.subjects as { namespace?: string }[] | undefined) ?? []) subject.namespace = namespace;
    return m;
  });
}

function events(o: GenerateOptions): ManifestFile {
  const namespace = o['k8s.ha-namespace'];
  const selector = { app: EVENTS };
  const labels = { ...commonLabels('events'), ...selector };
  const port = METRICS_PORT_NAMES.events;
  const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  return {
    comment: [
      'HA agent (libvirt-telemetry events) on every hypervisor node: libvirt domain events -> Evictions, with its RBAC',
      `and its PodMonitor (${MANIFEST_FILES.crd} must be applied first).`,
    ],
    documents: [
      ...rbac(namespace),
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: EVENTS, namespace, labels },
        spec: {
          selector: { matchLabels: selector },
          template: {
            metadata: { labels, annotations: scrapeAnnotations(EVENTS_PORT) },
            spec: {
              serviceAccountName: EVENTS,
              ...perNodeScheduling(o),
              securityContext: RESTRICTED_POD,
              containers: [
                {
                  name: 'events',
                  image: o.image,
                  args: ['events', `--libvirt.uri=${LIBVIRT_URI}`],
                  env: [NODE_IP, fieldEnv(envName('events', 'hypervisor'), 'spec.nodeName'), fieldEnv(envName('events', 'namespace'), 'metadata.namespace')],
                  ports: [{ containerPort: EVENTS_PORT, name: port }],
                  resources: { requests: { memory: '64Mi', cpu: '25m' }, limits: { memory: '256Mi', cpu: '200m' } },
                  // 503 while disconnected from libvirtd: not ready, but never killed for it (it reconnects itself).
                  readinessProbe: { httpGet: { path: '/healthz', port }, periodSeconds: 10 },
                  securityContext: RESTRICTED_CONTAINER,
                },
              ],
            },
          },
        },
      },
      podMonitor(o, EVENTS, namespace, 'events', selector, port),
    ],
  };
}

/** The alert rules of deploy/prometheus as a prometheus-operator PrometheusRule. */
function alerts(o: GenerateOptions): ManifestFile {
  return {
    comment: [`Alert rules of libvirt-telemetry (deploy/${RULES_FILE}) for the Prometheus operator.`],
    documents: [
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: monitorMetadata(o, 'libvirt-telemetry', o['k8s.monitoring-namespace'], 'monitoring'),
        spec: YAML.parse(readDeploy(RULES_FILE)),
      },
    ],
  };
}

/** The Grafana dashboard in a ConfigMap labelled for Grafana's dashboard sidecar (grafana_dashboard: "1"). */
function dashboard(o: GenerateOptions): ManifestFile {
  return {
    comment: [`The Grafana dashboard (deploy/${DASHBOARD_FILE}), picked up by Grafana's dashboard sidecar through its label.`],
    documents: [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'libvirt-telemetry-dashboard', namespace: o['k8s.monitoring-namespace'], labels: { ...commonLabels('monitoring'), grafana_dashboard: '1' } },
        data: { 'libvirt-telemetry.json': readDeploy(DASHBOARD_FILE) },
      },
    ],
  };
}

/** Static documents of deploy/ get the recommended labels here, so that the version is the package's. */
function labelled(documents: Manifest[], component: Component): Manifest[] {
  for (const d of documents) {
    const metadata = d['metadata'] as { labels?: Record<string, string> };
    metadata.labels = { ...commonLabels(component), ...metadata.labels };
  }
  return documents;
}

/**
 * A kustomization.yaml listing every file that holds whole objects, so `kubectl apply -k` applies them
 * together; the sidecar patch targets a DaemonSet that is not ours and is applied with `kubectl patch`.
 */
function kustomization(): ManifestFile {
  const resources = [MANIFEST_FILES.crd, MANIFEST_FILES.exporter, MANIFEST_FILES.events, MANIFEST_FILES.fluentBit, MANIFEST_FILES.alerts, MANIFEST_FILES.dashboard, MANIFEST_FILES.sidecarMonitor];
  return {
    comment: [`Applies every object: kubectl apply -k <this directory>. ${MANIFEST_FILES.sidecar} is a patch of the libvirt DaemonSet (see its comment).`],
    documents: [{ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources }],
  };
}

/** Every manifest file for these options; `fluentBitFiles` are the generated Fluent Bit files. */
export function buildManifests(o: GenerateOptions, fluentBitFiles: ReadonlyMap<string, string>): Map<string, ManifestFile> {
  const eventsFile = events(o);
  return new Map([
    [MANIFEST_FILES.exporter, exporter(o)],
    [MANIFEST_FILES.fluentBit, fluentBit(o, fluentBitFiles)],
    [MANIFEST_FILES.sidecar, sidecar(o)],
    [MANIFEST_FILES.sidecarMonitor, sidecarMonitor(o)],
    [MANIFEST_FILES.events, { ...eventsFile, documents: labelled([...eventsFile.documents], 'events') }],
    [MANIFEST_FILES.crd, { comment: ['The Eviction CRD (hypervisor.c5c3.io/v1) the HA agent creates and the Hypervisor operator acts on.'], documents: labelled(readDeployDocuments(CRD_FILE), 'events') }],
    [MANIFEST_FILES.alerts, alerts(o)],
    [MANIFEST_FILES.dashboard, dashboard(o)],
    [MANIFEST_FILES.kustomization, kustomization()],
  ]);
}

/** One file's YAML: its comment, then its documents separated by `---`. */
export function renderManifestFile(file: ManifestFile): string {
  const header = [...file.comment, 'Generated by `libvirt-telemetry generate manifests`; change the options and regenerate instead of editing.'];
  const docs = file.documents.map((d) => YAML.stringify(d, { lineWidth: 0, blockQuote: 'literal', aliasDuplicateObjects: false }));
  return header.map((l) => `# ${l}`.trimEnd()).join('\n') + '\n' + docs.join('---\n');
}
