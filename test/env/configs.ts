// The daemons' configuration, written into the private config dir (never into the host's /etc).
import { mkdirSync, writeFileSync } from 'node:fs';
import { LIBVIRTD_HOST, LIBVIRTD_PORT, paths } from './layout.js';

/** virtlogd's default rotation size (2 MiB); `VIRTLOGD_MAX_SIZE` (bytes) overrides it for rotation tests. */
export const DEFAULT_VIRTLOGD_MAX_SIZE = 2 * 1024 * 1024;

export function virtlogdMaxSizeFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env['VIRTLOGD_MAX_SIZE'];
  if (text === undefined || text === '') return DEFAULT_VIRTLOGD_MAX_SIZE;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`VIRTLOGD_MAX_SIZE must be a positive number of bytes, got '${text}'`);
  return value;
}

const conf = (entries: Record<string, string | number>): string =>
  `# Written by test/env (libvirt-telemetry test environment); tests only.\n${Object.entries(entries)
    .map(([key, value]) => `${key} = ${typeof value === 'number' ? value : JSON.stringify(value)}`)
    .join('\n')}\n`;

export function libvirtdConf(): string {
  return conf({
    // TCP without TLS or authentication: bound to loopback, for tests only.
    listen_tls: 0,
    listen_tcp: 1,
    tcp_port: String(LIBVIRTD_PORT),
    listen_addr: LIBVIRTD_HOST,
    auth_tcp: 'none',
    // No polkit here (no D-Bus): root-only sockets without authentication.
    auth_unix_rw: 'none',
    auth_unix_ro: 'none',
    unix_sock_group: 'root',
    unix_sock_rw_perms: '0770',
    unix_sock_ro_perms: '0777',
    log_outputs: '3:journald',
  });
}

export function qemuConf(): string {
  return conf({
    // No AppArmor/SELinux on the host; QEMU runs as root (libvirt logs "tainted: high-privileges").
    user: 'root',
    group: 'root',
    security_driver: 'none',
    // Owner remembering uses xattrs, which the ENOSPC tmpfs need not carry.
    remember_owner: 0,
    stdio_handler: 'logd',
  });
}

export function virtlogdConf(maxSize: number): string {
  return conf({ log_outputs: '3:journald', max_size: maxSize, max_backups: 3 });
}

/** libvirtd.conf and qemu.conf; libvirtd's namespace sees the directory as /etc/libvirt. */
export function writeDaemonConfigs(): void {
  mkdirSync(paths.etcLibvirt, { recursive: true });
  writeFileSync(paths.libvirtdConf, libvirtdConf());
  writeFileSync(paths.qemuConf, qemuConf());
}

export function writeVirtlogdConf(maxSize: number): void {
  mkdirSync(paths.etcLibvirt, { recursive: true });
  writeFileSync(paths.virtlogdConf, virtlogdConf(maxSize));
}
