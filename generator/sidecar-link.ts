// Where the sidecar's records meet the generated Fluent Bit pipeline: the names both sides must
// agree on. The manifests' sidecar patch and the container-model ConfigMap read the container name
// from here; the host model's forward input and the sidecar command line printed beside it are
// built from the same options.
import type { GenerateOptions } from './options.js';

/** Name of the sidecar container in the libvirt pod (its CRI log file name starts with it). */
export const SIDECAR_CONTAINER = 'libvirt-telemetry-sidecar';

/** The sidecar tags `<prefix>.qemu.<domain>` and `<prefix>.libvirtd` (its --tag-prefix). */
const SIDECAR_QEMU_TAG_SUFFIX = '.qemu';

/** The sidecar --tag-prefix that makes its QEMU tags `<qemu.tag>.<domain>`; undefined when none can. */
export function sidecarTagPrefix(qemuTag: string): string | undefined {
  return qemuTag.endsWith(SIDECAR_QEMU_TAG_SUFFIX) ? qemuTag.slice(0, -SIDECAR_QEMU_TAG_SUFFIX.length) : undefined;
}

/** The address a local sidecar connects to for a forward input listening on `listen`. */
function connectAddress(listen: string): string {
  if (listen === '0.0.0.0') return '127.0.0.1';
  if (listen === '::') return '::1';
  return listen;
}

/** The sidecar command line that sends to the host model's forward input (its own journal reading off: Fluent Bit reads the journal). */
export function sidecarCommandLine(o: GenerateOptions): string {
  const args = [
    'libvirt-telemetry sidecar',
    '--libvirtd.source none',
    '--output forward',
    `--forward.host ${connectAddress(o['sidecar.listen'])}`,
    `--forward.port ${o['sidecar.port']}`,
    `--tag-prefix ${sidecarTagPrefix(o['qemu.tag'])}`,
  ];
  const key = o['sidecar.shared-key'];
  // A `${VAR}` key is read from the environment by both; a literal one is not repeated here.
  if (key !== undefined) args.push(`--forward.shared-key ${/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(key) ? `"$${key.slice(2, -1)}"` : "'<the --sidecar.shared-key>'"}`);
  return args.join(' ');
}
