import type { CommandSpec } from '../runtime/options.js';
import { ALL_MANIFEST_FILE_NAMES, TARGETS } from './files.js';
import { generateOptions } from './options.js';

export const generateCommand: CommandSpec<typeof generateOptions> = {
  name: 'generate',
  summary: 'write a Fluent Bit 4.x configuration that collects and parses libvirtd and QEMU logs, or the Kubernetes manifests',
  description:
    'fluent-bit (default): writes fluent-bit.conf + parsers-libvirt.conf (classic) and/or fluent-bit.yaml into --out, rendered from one model so both formats are equivalent. ' +
    'Run it with `fluent-bit -c <out>/fluent-bit.conf` or `fluent-bit -c <out>/fluent-bit.yaml`. ' +
    `manifests: writes ${ALL_MANIFEST_FILE_NAMES.join(', ')} into --out: the exporter DaemonSet, Service and ServiceMonitor, a ConfigMap with the Fluent Bit configuration of these options, ` +
    'a patch adding the sidecar to the libvirt DaemonSet (container model), the HA agent DaemonSet with its RBAC, the Eviction CRD, the alert rules as a PrometheusRule and the Grafana dashboard in a ConfigMap.',
  options: generateOptions,
  positionals: [{ name: 'target', description: `what to write: ${TARGETS.join(' or ')} (default ${TARGETS[0]})` }],
  // The renderers (handlebars, yaml, the other roles' specs) load only when generate runs.
  run: async (options, positionals) => (await import('./generate.js')).runGenerate(options, positionals),
};
