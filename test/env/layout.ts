// Where the test environment lives and how it is reached: the one definition of every path,
// port and URI that the scripts and the test helpers share.
import path from 'node:path';

/** Machine-wide state directory (one environment per machine: port 16509 and /run/libvirt exist once). */
export const STATE_DIR = process.env['LIBVIRT_TELEMETRY_TESTENV_DIR'] ?? '/var/tmp/libvirt-telemetry-testenv';

export const LIBVIRTD_PORT = 16509;
export const LIBVIRTD_HOST = '127.0.0.1';

export const URIS = {
  /** The QEMU driver over TCP, auth none (tests only). */
  qemuTcp: `qemu+tcp://${LIBVIRTD_HOST}:${LIBVIRTD_PORT}/system`,
  /** The in-memory test driver through the same daemon. */
  testTcp: `test+tcp://${LIBVIRTD_HOST}:${LIBVIRTD_PORT}/default`,
  /** The QEMU driver over the daemon's read-write unix socket. */
  qemuUnix: 'qemu:///system',
} as const;

export const SOCKETS = {
  libvirtdRw: '/run/libvirt/libvirt-sock',
  libvirtdRo: '/run/libvirt/libvirt-sock-ro',
  virtlogd: '/run/libvirt/virtlogd-sock',
  journald: '/run/systemd/journal/socket',
  journaldDevLog: '/run/systemd/journal/dev-log',
} as const;

/** Paths shared with the host (not private to the state dir). */
export const HOST_PATHS = {
  etcLibvirt: '/etc/libvirt',
  devLog: '/dev/log',
  qemuLogDir: '/var/log/libvirt/qemu',
  /** journald's volatile store; the journal outlives the environment (/run is not a tmpfs here). */
  journalDir: '/run/log/journal',
} as const;

export const paths = {
  state: STATE_DIR,
  lock: path.join(STATE_DIR, 'lock'),
  stateFile: path.join(STATE_DIR, 'state.json'),
  /** Bind-mounted on /etc/libvirt inside libvirtd's mount namespace: qemu.conf and persistent domain XML. */
  etcLibvirt: path.join(STATE_DIR, 'etc-libvirt'),
  libvirtdConf: path.join(STATE_DIR, 'etc-libvirt', 'libvirtd.conf'),
  qemuConf: path.join(STATE_DIR, 'etc-libvirt', 'qemu.conf'),
  virtlogdConf: path.join(STATE_DIR, 'etc-libvirt', 'virtlogd.conf'),
  run: path.join(STATE_DIR, 'run'),
  libvirtdPidFile: path.join(STATE_DIR, 'run', 'libvirtd.pid'),
  virtlogdPidFile: path.join(STATE_DIR, 'run', 'virtlogd.pid'),
  /** stdout/stderr of the daemons themselves (their own logging goes to the journal). */
  daemonLogs: path.join(STATE_DIR, 'run', 'logs'),
  /** Disk images and console logs of test domains. */
  domains: path.join(STATE_DIR, 'domains'),
  /** A 1 MiB tmpfs: files on it back the guests' vdb, so writing to vdb ends in ENOSPC. */
  enospc: path.join(STATE_DIR, 'enospc'),
  /** Tiny guest artefacts, built once and kept across up/down. */
  guest: path.join(STATE_DIR, 'guest'),
} as const;

export const ENOSPC_TMPFS_SIZE = '1m';

/** Variables `testenv run` exports to its command, describing the environment. */
export function testenvVariables(): Record<string, string> {
  return {
    LIBVIRT_TELEMETRY_TESTENV: '1',
    LIBVIRT_TELEMETRY_TESTENV_DIR: STATE_DIR,
    LIBVIRT_TELEMETRY_TESTENV_QEMU_URI: URIS.qemuTcp,
    LIBVIRT_TELEMETRY_TESTENV_TEST_URI: URIS.testTcp,
    LIBVIRT_TELEMETRY_TESTENV_UNIX_URI: URIS.qemuUnix,
  };
}
