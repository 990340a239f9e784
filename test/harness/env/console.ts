// The tiny Linux guest's serial console. QEMU's pty chardev reads input only while a host process
// has the pty slave open (a bare `echo > /dev/pts/N` lets commands wait until the next opener),
// so a `cat` keeps it open for the console's lifetime. Output is read from the console log file,
// which holds everything since the domain's start (including what came before we attached).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { GUEST_READY } from '../../env/guest.js';
import { waitFor } from '../../env/proc.js';
import type { TinyDomain } from './domains.js';
import { virsh } from './testenv.js';

export interface CommandOutput {
  /** What the command printed (CRs removed), kernel messages included if any came in between. */
  output: string;
  status: number;
}

export interface GuestConsole {
  /** The pty the console is attached to, e.g. /dev/pts/3. */
  readonly pty: string;
  /** The console log so far (CRs removed). */
  text(): string;
  /** The current end of the log: pass it as `from` to wait only for what comes later (e.g. across a reboot). */
  mark(): number;
  /** Waits until `pattern` appears in the log after offset `from` (default 0: since the start); returns the match. */
  waitFor(pattern: RegExp | string, options?: { from?: number; timeoutMs?: number }): Promise<RegExpExecArray>;
  /** Waits for `TINY-GUEST: ready` after `from` (default 0); returns the whole ready line. */
  waitReady(options?: { from?: number; timeoutMs?: number }): Promise<string>;
  /** Sends one line without waiting (for commands that do not come back: reboot -f, panic, ENOSPC writes). */
  send(line: string): void;
  /** Runs a shell command in the guest and returns its output and exit status. */
  run(command: string, options?: { timeoutMs?: number }): Promise<CommandOutput>;
  /** Stops the `cat` holding the pty (by its pid). */
  close(): Promise<void>;
}

/** Default time for the guest to become ready: well above its boot time on a loaded machine (bench/RESULTS.md#test-environment). */
export const GUEST_READY_TIMEOUT_MS = 150_000;
/** Default time for console output of a running guest: TCG emulation crawls when the cores are busy. */
const CONSOLE_TIMEOUT_MS = 90_000;

/**
 * ava's timeout for a test that waits for `boots` boots of the guest: ava's own (between two results) is
 * shorter than one boot may take on a loaded machine.
 */
export function bootingTestTimeout(boots: number): number {
  return boots * GUEST_READY_TIMEOUT_MS + CONSOLE_TIMEOUT_MS;
}

/** Attaches to the serial console of a running domain. Close it (or register `close` with t.teardown). */
export async function guestConsole(domain: Pick<TinyDomain, 'name' | 'uri' | 'consoleLog'>): Promise<GuestConsole> {
  const pty = (await virsh(['ttyconsole', domain.name], { uri: domain.uri })).trim();
  if (!pty.startsWith('/dev/pts/')) throw new Error(`domain ${domain.name} has no pty console (virsh ttyconsole: '${pty}')`);
  const holder: ChildProcess = spawn('cat', [pty], { stdio: ['ignore', 'ignore', 'ignore'] });
  const exited = new Promise<void>((resolve) => holder.on('exit', () => resolve()));
  holder.on('error', () => {});

  const text = (): string => {
    try {
      return readFileSync(domain.consoleLog, 'utf8').replace(/\r/g, '');
    } catch {
      return '';
    }
  };
  const waitForPattern = async (pattern: RegExp | string, options: { from?: number; timeoutMs?: number } = {}) => {
    const regex = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    return await waitFor(`'${regex.source}' on the console of ${domain.name}`, options.timeoutMs ?? CONSOLE_TIMEOUT_MS, () => regex.exec(text().slice(options.from ?? 0)) ?? undefined, 100);
  };
  const send = (line: string): void => {
    // Once QEMU closes the pty, `cat` ends and the pty number may go to another domain.
    if (holder.exitCode !== null || holder.signalCode !== null) throw new Error(`the console of ${domain.name} is closed (domain stopped?)`);
    writeFileSync(pty, `${line}\n`);
  };
  return {
    pty,
    text,
    mark: () => text().length,
    waitFor: waitForPattern,
    async waitReady(options = {}) {
      const match = await waitForPattern(new RegExp(`${GUEST_READY}.*`), { timeoutMs: GUEST_READY_TIMEOUT_MS, ...options });
      return match[0];
    },
    send,
    async run(command, options = {}) {
      const token = randomBytes(4).toString('hex');
      const from = text().length;
      send(`echo "TINY-GUEST: begin ${token}"; ${command}; echo "TINY-GUEST: end ${token} $?"`);
      const match = await waitForPattern(new RegExp(`TINY-GUEST: begin ${token}\\n([\\s\\S]*?)TINY-GUEST: end ${token} (\\d+)`), {
        from,
        timeoutMs: options.timeoutMs ?? CONSOLE_TIMEOUT_MS,
      });
      return { output: match[1]!, status: Number(match[2]) };
    },
    async close() {
      if (holder.exitCode === null && holder.signalCode === null) {
        holder.kill('SIGTERM');
        await exited;
      }
    },
  };
}
