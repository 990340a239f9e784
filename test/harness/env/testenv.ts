// Test-side access to the shared test environment (test/env): where it is, the daemons'
// pids, virsh, libvirtd restarts and the journal. In `npm test` the environment is always up:
// these helpers throw (the test fails) when it is not.
import { DEFAULT_VIRTLOGD_MAX_SIZE } from '../../env/configs.js';
import {
  restartLibvirtd as restartOurLibvirtd,
  runningDaemons,
  setVirtlogdMaxSize as setOurVirtlogdMaxSize,
  startLibvirtdAgain,
  stopLibvirtd as stopOurLibvirtd,
} from '../../env/env.js';
import { guestArtefacts, type GuestArtefacts } from '../../env/guest.js';
import { HOST_PATHS, SOCKETS, STATE_DIR, URIS, paths } from '../../env/layout.js';
import { runCommand, sleep, type ProcessRef } from '../../env/proc.js';

export interface TestenvInfo {
  stateDir: string;
  uris: typeof URIS;
  sockets: typeof SOCKETS;
  /** /var/log/libvirt/qemu: one <domain>.log per domain, written by virtlogd. */
  qemuLogDir: string;
  /** journald's store (volatile); `journalctl` reads it by default. */
  journalDir: string;
  /** Disk images and console logs of test domains. */
  domainsDir: string;
  /** The 1 MiB tmpfs backing the guests' vdb. */
  enospcDir: string;
  pids: { journald: number; virtlogd: number; libvirtd: number };
  guest: GuestArtefacts;
}

/** Everything a test needs to reach the environment; throws if it is not up. */
export function testenvInfo(): TestenvInfo {
  const daemons = runningDaemons();
  return {
    stateDir: STATE_DIR,
    uris: URIS,
    sockets: SOCKETS,
    qemuLogDir: HOST_PATHS.qemuLogDir,
    journalDir: HOST_PATHS.journalDir,
    domainsDir: paths.domains,
    enospcDir: paths.enospc,
    pids: { journald: daemons.journald.pid, virtlogd: daemons.virtlogd.pid, libvirtd: daemons.libvirtd.pid },
    guest: guestArtefacts(),
  };
}

export interface VirshOptions {
  /** Defaults to the QEMU driver over TCP. */
  uri?: string;
  timeoutMs?: number;
}

/** How long virsh() retries while libvirtd does not accept connections (another test restarting it). */
const VIRSH_CONNECT_RETRY_MS = 20_000;

/**
 * Runs `virsh -q -c URI args…` and returns its stdout; rejects with virsh's error message. A refused
 * connection is retried for a while: libvirtd is shared and may be restarting.
 */
export async function virsh(args: readonly string[], options: VirshOptions = {}): Promise<string> {
  const command = ['-q', '-c', options.uri ?? URIS.qemuTcp, ...args];
  const deadline = Date.now() + VIRSH_CONNECT_RETRY_MS;
  for (;;) {
    try {
      return (await runCommand('virsh', command, { timeoutMs: options.timeoutMs ?? 60_000 })).stdout;
    } catch (error) {
      if (!(error instanceof Error && /failed to connect to the hypervisor/.test(error.message)) || Date.now() > deadline) throw error;
      await sleep(250);
    }
  }
}

/**
 * Restarts the environment's libvirtd (SIGTERM, or SIGKILL to simulate a crash) and waits until it
 * answers. Other helpers share this daemon: only tests that own the moment (npm test runs files
 * one at a time) should call it, and they must leave it running.
 */
export async function restartLibvirtd(signal: NodeJS.Signals = 'SIGTERM'): Promise<ProcessRef> {
  return await restartOurLibvirtd(signal);
}

/** Stops the environment's libvirtd; pair with `startLibvirtd()` (e.g. in t.teardown). */
export async function stopLibvirtd(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await stopOurLibvirtd(signal);
}

/** Starts libvirtd again if it is not running; resolves once it answers. */
export async function startLibvirtd(): Promise<ProcessRef> {
  return await startLibvirtdAgain();
}

export { DEFAULT_VIRTLOGD_MAX_SIZE };

/**
 * Sets the size at which virtlogd rotates `<domain>.log` and console logs (running domains keep
 * logging). Shared daemon: restore DEFAULT_VIRTLOGD_MAX_SIZE in t.teardown.
 */
export async function setVirtlogdMaxSize(bytes: number): Promise<void> {
  await setOurVirtlogdMaxSize(bytes);
}

export type JournalEntry = Record<string, string | number[] | undefined>;

export interface JournalFilter {
  /** e.g. 'libvirtd.service' */
  unit?: string;
  /** Only entries at or after this time (the journal outlives the environment). */
  since?: Date;
  pid?: number;
  /** Extra FIELD=value matches, ANDed. */
  matches?: readonly string[];
}

/** Entries of the environment's journal as `journalctl -o json` gives them, oldest first. */
export async function journalEntries(filter: JournalFilter = {}): Promise<JournalEntry[]> {
  const args = ['--no-pager', '-o', 'json', '--directory', HOST_PATHS.journalDir];
  if (filter.unit) args.push('--unit', filter.unit);
  if (filter.since) args.push('--since', `@${Math.floor(filter.since.getTime() / 1000)}`);
  if (filter.pid !== undefined) args.push(`_PID=${filter.pid}`);
  args.push(...(filter.matches ?? []));
  const { stdout } = await runCommand('journalctl', args);
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as JournalEntry);
}
