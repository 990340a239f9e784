// Which roles the generated monitors scrape, found the way the Prometheus operator finds targets:
// a ServiceMonitor selects Services by label in its namespace, its endpoint names a Service port, whose
// targetPort names a container port of the pods the Service selects; a PodMonitor selects pods by label
// and names their container port. The role of a target is the container's first argument.
type Obj = Record<string, any>;

/** A pod template of the manifests: where it runs, its labels, its containers. */
export interface PodTemplate {
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly containers: readonly Obj[];
}

export interface ScrapeTarget {
  readonly monitor: string;
  readonly role: string;
  readonly port: number;
  /** The monitor's endpoint relabels `instance` from the pod's node name. */
  readonly instanceIsNode: boolean;
}

const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

function instanceIsNode(endpoint: Obj): boolean {
  return ((endpoint['relabelings'] ?? []) as Obj[]).some(
    (r) => r['targetLabel'] === 'instance' && JSON.stringify(r['sourceLabels']) === '["__meta_kubernetes_pod_node_name"]' && (r['action'] ?? 'replace') === 'replace',
  );
}

/** The containers of `pods` whose port named `portName` is served: their role and port number. */
function targetsIn(pods: readonly PodTemplate[], portName: string): { role: string; port: number }[] {
  return pods.flatMap((p) =>
    p.containers.flatMap((c) => ((c['ports'] ?? []) as Obj[]).filter((port) => port['name'] === portName).map((port) => ({ role: String(c['args']?.[0]), port: Number(port['containerPort']) }))),
  );
}

/** Every (monitor, role) pair the monitors among `objects` scrape in `pods`. */
export function scrapeTargets(objects: readonly Obj[], pods: readonly PodTemplate[]): ScrapeTarget[] {
  const services = objects.filter((o) => o['kind'] === 'Service');
  return objects.flatMap((m): ScrapeTarget[] => {
    const namespace = m['metadata']?.namespace;
    const name = `${m['kind']} ${namespace}/${m['metadata']?.name}`;
    const selector = m['spec']?.selector?.matchLabels;
    if (m['kind'] === 'PodMonitor') {
      const selected = pods.filter((p) => p.namespace === namespace && matches(selector, p.labels));
      return ((m['spec'].podMetricsEndpoints ?? []) as Obj[]).flatMap((e) =>
        targetsIn(selected, e['port']).map((t) => ({ monitor: name, ...t, instanceIsNode: instanceIsNode(e) })),
      );
    }
    if (m['kind'] === 'ServiceMonitor') {
      const selectedServices = services.filter((s) => s['metadata'].namespace === namespace && matches(selector, s['metadata'].labels));
      return ((m['spec'].endpoints ?? []) as Obj[]).flatMap((e) =>
        selectedServices.flatMap((s) => {
          const servicePort = ((s['spec'].ports ?? []) as Obj[]).find((p) => p['name'] === e['port']);
          if (!servicePort) return [];
          const selected = pods.filter((p) => p.namespace === namespace && matches(s['spec'].selector, p.labels));
          return targetsIn(selected, servicePort['targetPort']).map((t) => ({ monitor: name, ...t, instanceIsNode: instanceIsNode(e) }));
        }),
      );
    }
    return [];
  });
}
