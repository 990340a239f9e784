// The Pod Security Standards' "restricted" profile (which includes "baseline"), as the Kubernetes
// pod-security admission checks it, over a pod spec: every violation as one line. Plus the read-only
// root file system, which the profile does not demand but this project asks of every container.
type Obj = Record<string, any>;

/** Capabilities "baseline" allows a container to add; "restricted" allows only NET_BIND_SERVICE. */
const RESTRICTED_ADDABLE = new Set(['NET_BIND_SERVICE']);
const RESTRICTED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes',
]);
const SECCOMP_ALLOWED = new Set(['RuntimeDefault', 'Localhost']);

function containersOf(spec: Obj): Obj[] {
  return [...(spec['initContainers'] ?? []), ...(spec['containers'] ?? []), ...(spec['ephemeralContainers'] ?? [])];
}

/** Every way `spec` (a PodSpec) breaks Pod Security "restricted", or a writable root file system. */
export function restrictedViolations(spec: Obj): string[] {
  const problems: string[] = [];
  const pod: Obj = spec['securityContext'] ?? {};
  const containers = containersOf(spec);
  const each = (what: string, check: (sc: Obj, c: Obj) => boolean) => {
    for (const c of containers) if (!check(c['securityContext'] ?? {}, c)) problems.push(`container ${c['name']}: ${what}`);
  };

  // baseline
  for (const host of ['hostNetwork', 'hostPID', 'hostIPC'] as const) if (spec[host] === true) problems.push(`${host} is set`);
  if (pod['windowsOptions']?.hostProcess === true) problems.push('hostProcess pod');
  each('privileged', (sc) => sc['privileged'] !== true);
  each('hostProcess', (sc) => sc['windowsOptions']?.hostProcess !== true);
  each('host port', (_sc, c) => ((c['ports'] ?? []) as Obj[]).every((p) => !p['hostPort']));
  each('procMount is not Default', (sc) => sc['procMount'] === undefined || sc['procMount'] === 'Default');
  for (const sc of [pod, ...containers.map((c) => c['securityContext'] ?? {})]) {
    const se = sc['seLinuxOptions'];
    if (se && (!SELINUX_TYPES.has(se.type ?? '') || se.user || se.role)) problems.push('SELinux options beyond the allowed types');
    if (sc['appArmorProfile']?.type === 'Unconfined') problems.push('AppArmor unconfined');
  }
  for (const s of (pod['sysctls'] ?? []) as Obj[]) if (!SAFE_SYSCTLS.has(s['name'])) problems.push(`unsafe sysctl ${s['name']}`);

  // restricted
  for (const v of (spec['volumes'] ?? []) as Obj[]) {
    const type = Object.keys(v).find((k) => k !== 'name')!;
    if (!RESTRICTED_VOLUME_TYPES.has(type)) problems.push(`volume ${v['name']}: type ${type} is not allowed`);
  }
  each('allowPrivilegeEscalation is not false', (sc) => sc['allowPrivilegeEscalation'] === false);
  each('runAsNonRoot is not true', (sc) => sc['runAsNonRoot'] === true || (pod['runAsNonRoot'] === true && sc['runAsNonRoot'] === undefined));
  if (pod['runAsUser'] === 0) problems.push('pod runAsUser is 0');
  each('runAsUser is 0', (sc) => sc['runAsUser'] !== 0);
  const podSeccomp = pod['seccompProfile']?.type;
  if (podSeccomp !== undefined && !SECCOMP_ALLOWED.has(podSeccomp)) problems.push(`pod seccompProfile ${podSeccomp}`);
  each('seccompProfile is not RuntimeDefault or Localhost', (sc) => {
    const own = sc['seccompProfile']?.type;
    return own === undefined ? SECCOMP_ALLOWED.has(podSeccomp) : SECCOMP_ALLOWED.has(own);
  });
  each('capabilities do not drop ALL', (sc) => ((sc['capabilities']?.drop ?? []) as string[]).includes('ALL'));
  each('capabilities added beyond NET_BIND_SERVICE', (sc) => ((sc['capabilities']?.add ?? []) as string[]).every((c) => RESTRICTED_ADDABLE.has(c)));

  // this project's own rule
  each('root file system is writable', (sc) => sc['readOnlyRootFilesystem'] === true);
  return problems;
}
