// The names of the files `generate` writes: read by the command's help text without loading the renderers.

export type Format = 'classic' | 'yaml';

/** File names of each format; the classic main file loads the parsers file by this name. */
export const FILE_NAMES = {
  classic: { main: 'fluent-bit.conf', parsers: 'parsers-libvirt.conf' },
  yaml: { main: 'fluent-bit.yaml' },
} as const;

/** Every file `generate` may write (an existing --out may hold only these). */
export const ALL_FILE_NAMES: readonly string[] = [FILE_NAMES.classic.main, FILE_NAMES.classic.parsers, FILE_NAMES.yaml.main];

/** File names `generate manifests` writes (an existing --out may hold only these). */
export const MANIFEST_FILES = {
  exporter: 'exporter.yaml',
  fluentBit: 'fluent-bit-configmap.yaml',
  sidecar: 'libvirt-sidecar-patch.yaml',
  sidecarMonitor: 'libvirt-sidecar-podmonitor.yaml',
  events: 'events.yaml',
  crd: 'eviction-crd.yaml',
  alerts: 'prometheus-rules.yaml',
  dashboard: 'grafana-dashboard.yaml',
  kustomization: 'kustomization.yaml',
} as const;
export const ALL_MANIFEST_FILE_NAMES: readonly string[] = Object.values(MANIFEST_FILES);

/** What `generate` writes, chosen by its positional argument. */
export const TARGETS = ['fluent-bit', 'manifests'] as const;
export type Target = (typeof TARGETS)[number];
