// The defaults of the roles that deployment relies on as well: `generate manifests` opens these ports and
// mounts these paths. Each role's option defaults read them from here, so the roles stay free of each other
// and the manifests follow the roles.
export const DEFAULT_PORTS = { exporter: 9177, sidecar: 9178, events: 9179 } as const;

/** Where the sidecar reads the QEMU logs and keeps its checkpoints unless told otherwise. */
export const SIDECAR_PATHS = { qemuLogDir: '/var/log/libvirt/qemu', stateDir: '/var/lib/libvirt-telemetry/sidecar' } as const;
