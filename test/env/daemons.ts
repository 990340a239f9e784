// Starting the three daemons without systemd: each in its own cgroup2 unit path (so journald
// attributes it to <unit>.service), detached, identified afterwards through /proc.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { SOCKETS, URIS, paths } from './layout.js';
import { isAlive, processRef, runCommand, stopProcess, waitFor, type ProcessRef } from './proc.js';
import { unitCgroup } from './host.js';
import type { DaemonName } from './state.js';

interface DaemonSpec {
  unit: string;
  /** /proc/PID/comm of the daemon (15 characters at most). */
  comm: string;
}

export const DAEMONS: Record<DaemonName, DaemonSpec> = {
  journald: { unit: 'systemd-journald.service', comm: 'systemd-journal' },
  virtlogd: { unit: 'virtlogd.service', comm: 'virtlogd' },
  libvirtd: { unit: 'libvirtd.service', comm: 'libvirtd' },
};

const JOURNALD = '/lib/systemd/systemd-journald';
const VIRTLOGD = '/usr/sbin/virtlogd';
const LIBVIRTD = '/usr/sbin/libvirtd';

const CGROUP_EXEC = [
  'for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2>/dev/null',
  'echo $$ > "$1/cgroup.procs" && shift && exec "$@"',
].join('\n');

const LIBVIRTD_ANSWER_TIMEOUT_MS = 90_000;

/** Spawns `argv` (a foreground daemon, or one forking into the background) inside the cgroup of its unit; stdout/stderr go to run/logs/<name>.log. */
function spawnInUnit(name: DaemonName, argv: readonly string[]) {
  mkdirSync(paths.daemonLogs, { recursive: true });
  const logFile = path.join(paths.daemonLogs, `${name}.log`);
  const log = openSync(logFile, 'a');
  try {
    // The shell closes descriptors inherited from our caller (a daemon holding a pipe would keep
    // e.g. `npm test | tee` waiting), moves itself into the cgroup, then execs the daemon: every
    // later fork stays inside.
    const child = spawn('bash', ['-c', CGROUP_EXEC, 'bash', unitCgroup(DAEMONS[name].unit), ...argv], {
      stdio: ['ignore', log, log],
      detached: true,
    });
    return { child, logFile };
  } finally {
    closeSync(log);
  }
}

function logTail(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '';
  }
}

/** Starts a daemon that forks into the background (-d) and writes a pid file; resolves with the daemon. */
async function startForking(name: DaemonName, argv: readonly string[], pidFile: string): Promise<ProcessRef> {
  rmSync(pidFile, { force: true });
  const { child, logFile } = spawnInUnit(name, argv);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (exitCode) => resolve(exitCode));
  });
  if (code !== 0) throw new Error(`${name} failed to start (exit ${code}): ${logTail(logFile)}`);
  return await waitFor(`${name} pid file ${pidFile}`, 10_000, () => {
    let pid: number;
    try {
      pid = Number(readFileSync(pidFile, 'utf8').trim());
    } catch {
      return undefined;
    }
    const found = processRef(pid);
    return found?.comm === DAEMONS[name].comm ? found : undefined;
  });
}

function changedSince(file: string, sinceMs: number): boolean {
  try {
    return statSync(file).ctimeMs >= sinceMs;
  } catch {
    return false;
  }
}

/** Stops a daemon whose start failed half-way, so a failed start leaves nothing running. */
async function abandon<T>(ref: ProcessRef | undefined, error: unknown): Promise<T> {
  if (ref) await stopProcess(ref);
  throw error;
}

export async function startJournald(): Promise<ProcessRef> {
  // /run survives restarts here, so old socket files may exist (and inode numbers get reused):
  // journald is ready once the socket files are newer than its start.
  const sockets = [SOCKETS.journald, SOCKETS.journaldDevLog];
  const spawnedAt = Date.now() - 1;
  const { child, logFile } = spawnInUnit('journald', [JOURNALD]);
  // journald stays in the foreground: it must not keep this process alive.
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn systemd-journald');
  try {
    return await waitFor('systemd-journald to open its sockets', 30_000, () => {
      const ref = processRef(pid);
      if (!ref) throw new Error(`systemd-journald exited: ${logTail(logFile)}`);
      return ref.comm === DAEMONS.journald.comm && sockets.every((socket) => changedSince(socket, spawnedAt)) ? ref : undefined;
    });
  } catch (error) {
    return await abandon(processRef(pid), error);
  }
}

export async function startVirtlogd(): Promise<ProcessRef> {
  return await startForking('virtlogd', [VIRTLOGD, '-d', '-f', paths.virtlogdConf, '-p', paths.virtlogdPidFile], paths.virtlogdPidFile);
}

/**
 * Starts libvirtd in a private mount namespace where the private config dir is /etc/libvirt
 * (qemu.conf and persistent domain XML are always read from there), then waits until it answers.
 */
export async function startLibvirtd(): Promise<ProcessRef> {
  const ref = await startForking(
    'libvirtd',
    [
      'unshare', '--mount', '--propagation', 'private',
      'sh', '-c', 'mount --bind "$1" /etc/libvirt && shift && exec "$@"', 'sh', paths.etcLibvirt,
      LIBVIRTD, '-d', '-l', '-f', paths.libvirtdConf, '-p', paths.libvirtdPidFile,
    ],
    paths.libvirtdPidFile,
  );
  try {
    await waitForLibvirtd(ref);
  } catch (error) {
    return await abandon(ref, error);
  }
  return ref;
}

/** True when libvirtd answers a `virsh version` on the TCP URI. */
export async function libvirtdAnswers(): Promise<boolean> {
  return await runCommand('virsh', ['-c', URIS.qemuTcp, 'version'], { timeoutMs: 10_000 }).then(
    () => true,
    () => false,
  );
}

/** Waits until libvirtd answers; the first start probes QEMU's capabilities (slow: bench/RESULTS.md#test-environment), later ones use the cache. */
async function waitForLibvirtd(ref: ProcessRef): Promise<void> {
  await waitFor('libvirtd to answer on ' + URIS.qemuTcp, LIBVIRTD_ANSWER_TIMEOUT_MS, async () => {
    if (!isAlive(ref)) throw new Error(`libvirtd (pid ${ref.pid}) exited before answering; see journalctl -u libvirtd.service`);
    return await libvirtdAnswers();
  }, 200);
}
