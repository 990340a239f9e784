// Bringing the whole environment up and down, shared machine-wide: `up` reuses live daemons
// and starts only the missing ones; teardown stops exactly the recorded pids.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { virtlogdMaxSizeFromEnv, writeDaemonConfigs, writeVirtlogdConf } from './configs.js';
import { DAEMONS, libvirtdAnswers, startJournald, startLibvirtd, startVirtlogd } from './daemons.js';
import {
  ensureEtcLibvirtMountPoint,
  ensureQemuUser,
  linkDevLog,
  mountEnospcTmpfs,
  removeEtcLibvirtMountPoint,
  removeUnitCgroup,
  unlinkDevLog,
  unmountEnospcTmpfs,
} from './host.js';
import { URIS, paths } from './layout.js';
import { withLock } from './lock.js';
import { ensurePackages } from './packages.js';
import { isAlive, processRef, runCommand, stopProcess, type ProcessRef } from './proc.js';
import { say } from './say.js';
import { emptyState, readState, removeState, writeState, type DaemonName, type TestenvState } from './state.js';

/** Start order; teardown goes in reverse. */
const DAEMON_ORDER: readonly DaemonName[] = ['journald', 'virtlogd', 'libvirtd'];

const STARTERS: Record<DaemonName, () => Promise<ProcessRef>> = {
  journald: startJournald,
  virtlogd: startVirtlogd,
  libvirtd: startLibvirtd,
};

export interface UpOptions {
  /** Keep the environment up after this process (the `up` verb) rather than holding it for a `run`. */
  keep: boolean;
  /** Runs once the daemons are up (e.g. building the guest artefacts), still under the lock. */
  afterStart?: () => Promise<void>;
}

export interface UpResult {
  /** Daemons this call started (empty when the environment was already up). */
  started: DaemonName[];
}

function liveDaemons(state: TestenvState): DaemonName[] {
  return DAEMON_ORDER.filter((name) => isAlive(state.daemons[name]));
}

/** Brings the environment up (idempotent) and registers the caller as keeper or holder. */
export async function up(options: UpOptions): Promise<UpResult> {
  return await withLock(async () => {
    const state = readState() ?? emptyState();
    const missing = DAEMON_ORDER.filter((name) => !isAlive(state.daemons[name]));
    const started: DaemonName[] = [];
    if (missing.length === DAEMON_ORDER.length) {
      // Nothing runs: whatever an earlier environment left (it may have been killed) is garbage.
      removeLeftovers();
      state.startedAt = new Date().toISOString();
      state.keep = false;
    }
    try {
      if (missing.length > 0) {
        await prepareHost(state);
        for (const name of missing) {
          say(`starting ${name}`);
          state.daemons[name] = await STARTERS[name]();
          started.push(name);
          writeState(state);
          if (name === 'journald') {
            state.created.devLog = linkDevLog() || state.created.devLog;
            writeState(state);
          }
        }
      }
      await options.afterStart?.();
    } catch (error) {
      // Undo this call's starts only; what was up before stays up.
      for (const name of [...started].reverse()) await stopDaemon(state, name);
      if (liveDaemons(state).length === 0) await undoHostChanges(state);
      else writeState(state);
      throw error;
    }
    state.holders = state.holders.filter((holder) => isAlive(holder));
    if (options.keep) state.keep = true;
    else state.holders.push(selfRef());
    writeState(state);
    return { started };
  });
}

function selfRef(): ProcessRef {
  const ref = processRef(process.pid);
  if (!ref) throw new Error('cannot read /proc/self');
  return ref;
}

async function prepareHost(state: TestenvState): Promise<void> {
  await ensurePackages();
  await ensureQemuUser();
  writeDaemonConfigs();
  // A running virtlogd keeps its configuration (possibly set by setVirtlogdMaxSize).
  if (!isAlive(state.daemons.virtlogd)) writeVirtlogdConf(virtlogdMaxSizeFromEnv());
  state.created.etcLibvirtDir = ensureEtcLibvirtMountPoint() || state.created.etcLibvirtDir;
  state.created.enospcMount = (await mountEnospcTmpfs()) || state.created.enospcMount;
  writeState(state);
}

export interface DownOptions {
  /** Stop even though `run` processes still hold the environment. */
  force: boolean;
}

/** The `down` verb: drops the keep flag and tears down unless live `run` holders remain (then the last one does). */
export async function down(options: DownOptions): Promise<'stopped' | 'not-up' | 'held'> {
  return await withLock(async () => {
    const state = readState();
    if (!state) return 'not-up';
    state.keep = false;
    state.holders = state.holders.filter((holder) => isAlive(holder) && holder.pid !== process.pid);
    if (state.holders.length > 0 && !options.force) {
      writeState(state);
      say(`still used by run process(es) ${state.holders.map((h) => h.pid).join(', ')}; the last of them stops the environment`);
      return 'held';
    }
    await teardown(state);
    return 'stopped';
  });
}

/** For `run`: drops this process's hold and tears down if nobody else needs the environment. */
export async function release(): Promise<void> {
  await withLock(async () => {
    const state = readState();
    if (!state) return;
    state.holders = state.holders.filter((holder) => isAlive(holder) && holder.pid !== process.pid);
    if (state.keep || state.holders.length > 0) writeState(state);
    else await teardown(state);
  });
}

async function teardown(state: TestenvState): Promise<void> {
  await stopDomains(state);
  for (const name of [...DAEMON_ORDER].reverse()) await stopDaemon(state, name);
  await undoHostChanges(state);
}

/**
 * Destroys the QEMU domains of our libvirtd (all of them: only one libvirtd exists per machine).
 * If libvirtd is gone, kills the QEMU processes it left, found through its pid files.
 */
async function stopDomains(state: TestenvState): Promise<void> {
  if (isAlive(state.daemons.libvirtd) && (await libvirtdAnswers())) {
    const { stdout } = await runCommand('virsh', ['-c', URIS.qemuTcp, 'list', '--name']);
    for (const name of stdout.split('\n').filter(Boolean)) {
      say(`destroying domain ${name}`);
      await runCommand('virsh', ['-c', URIS.qemuTcp, 'destroy', name]).catch((error: Error) => say(error.message));
    }
    return;
  }
  for (const qemu of leftoverQemuProcesses()) {
    say(`killing QEMU pid ${qemu.pid} left by a dead libvirtd`);
    await stopProcess(qemu);
  }
}

const QEMU_RUN_DIR = '/run/libvirt/qemu';

function leftoverQemuProcesses(): ProcessRef[] {
  return readdirOrEmpty(QEMU_RUN_DIR)
    .filter((file) => file.endsWith('.pid'))
    .map((file) => processRef(Number(readFileSync(path.join(QEMU_RUN_DIR, file), 'utf8').trim())))
    .filter((ref): ref is ProcessRef => ref !== undefined && ref.comm.startsWith('qemu-system'));
}

async function stopDaemon(state: TestenvState, name: DaemonName, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const ref = state.daemons[name];
  if (ref && isAlive(ref)) {
    say(`stopping ${name} (pid ${ref.pid}, ${signal})`);
    await stopProcess(ref, name === 'libvirtd' ? 30_000 : 10_000, signal);
  }
  delete state.daemons[name];
  removeUnitCgroup(DAEMONS[name].unit);
}

async function undoHostChanges(state: TestenvState): Promise<void> {
  if (state.created.devLog) unlinkDevLog();
  if (state.created.enospcMount) await unmountEnospcTmpfs();
  if (state.created.etcLibvirtDir) removeEtcLibvirtMountPoint();
  removeLeftovers();
  removeState();
}

/** Pid files, configs, persistent domain definitions, disk images and ENOSPC files of test domains. */
function removeLeftovers(): void {
  for (const directory of [paths.run, paths.etcLibvirt, paths.domains]) rmSync(directory, { recursive: true, force: true });
  for (const file of readdirOrEmpty(paths.enospc)) rmSync(path.join(paths.enospc, file), { force: true });
}

function readdirOrEmpty(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch {
    return [];
  }
}

export interface DaemonStatus {
  pid: number | undefined;
  alive: boolean;
}

export interface Status {
  up: boolean;
  answering: boolean;
  daemons: Record<DaemonName, DaemonStatus>;
  keep: boolean;
  holders: number[];
  startedAt: string | undefined;
}

export async function status(): Promise<Status> {
  const state = readState();
  const daemons = Object.fromEntries(
    DAEMON_ORDER.map((name) => [name, { pid: state?.daemons[name]?.pid, alive: state ? isAlive(state.daemons[name]) : false }]),
  ) as Record<DaemonName, DaemonStatus>;
  const allAlive = DAEMON_ORDER.every((name) => daemons[name].alive);
  return {
    up: allAlive,
    answering: allAlive && (await libvirtdAnswers()),
    daemons,
    keep: state?.keep ?? false,
    holders: (state?.holders ?? []).filter((holder) => isAlive(holder)).map((holder) => holder.pid),
    startedAt: state?.startedAt,
  };
}

/**
 * Replaces our libvirtd by a new one (same configuration) and waits until it answers. `signal`
 * SIGKILL simulates a crash; running QEMU domains survive either way and are reconnected.
 */
export async function restartLibvirtd(signal: NodeJS.Signals = 'SIGTERM'): Promise<ProcessRef> {
  return await withLock(async () => {
    const state = requireState();
    await stopDaemon(state, 'libvirtd', signal);
    writeState(state);
    state.daemons.libvirtd = await startLibvirtd();
    writeState(state);
    return state.daemons.libvirtd;
  });
}

/** Stops our libvirtd (e.g. to test a client's reaction); `startLibvirtdAgain` brings it back. */
export async function stopLibvirtd(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await withLock(async () => {
    const state = requireState();
    await stopDaemon(state, 'libvirtd', signal);
    writeState(state);
  });
}

/** Starts libvirtd if it is not running (after `stopLibvirtd` or a crash); resolves once it answers. */
export async function startLibvirtdAgain(): Promise<ProcessRef> {
  return await withLock(async () => {
    const state = requireState();
    const running = state.daemons.libvirtd;
    if (running && isAlive(running)) return running;
    state.daemons.libvirtd = await startLibvirtd();
    writeState(state);
    return state.daemons.libvirtd;
  });
}

/**
 * Changes the size at which virtlogd rotates `<domain>.log` and console logs (into .0, .1, .2).
 * virtlogd re-executes itself on SIGUSR1 (same pid), keeping its open logs and re-reading the
 * configuration, so running domains keep logging.
 */
export async function setVirtlogdMaxSize(bytes: number): Promise<void> {
  await withLock(async () => {
    const virtlogd = requireState().daemons.virtlogd;
    if (!virtlogd || !isAlive(virtlogd)) throw new Error('virtlogd of the test environment is not running');
    writeVirtlogdConf(bytes);
    process.kill(virtlogd.pid, 'SIGUSR1');
  });
}

/** The live daemons of the environment; throws when it is not (completely) up. */
export function runningDaemons(): Record<DaemonName, ProcessRef> {
  const state = requireState();
  const down = DAEMON_ORDER.filter((name) => !isAlive(state.daemons[name]));
  if (down.length > 0) throw new Error(`the test environment is not up: ${down.join(', ')} not running (node dist/test/env/main.js up)`);
  return state.daemons as Record<DaemonName, ProcessRef>;
}

function requireState(): TestenvState {
  const state = readState();
  if (!state) throw new Error('the test environment is not up (node dist/test/env/main.js up)');
  return state;
}
