// The project's real test environment: systemd-journald, virtlogd and libvirtd (QEMU and test
// drivers, TCP 127.0.0.1:16509 with auth none), shared machine-wide. See test/README.md.
//   node dist/test/env/main.js up | down [--force] | status [--json] | run -- <command…>
import { down, release, status, up } from './env.js';
import { ensureGuestArtefacts } from './guest.js';
import { testenvVariables } from './layout.js';
import { runInherited } from './proc.js';
import { say } from './say.js';

const USAGE = 'usage: testenv up | down [--force] | status [--json] | run -- <command…>';

class UsageError extends Error {}

async function timed<T>(what: string, body: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await body();
  say(`${what} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

async function bringUp(keep: boolean): Promise<void> {
  const { started } = await timed('up', () => up({ keep, afterStart: ensureGuestArtefacts }));
  say(started.length > 0 ? `started ${started.join(', ')}` : 'already up; reusing it');
}

async function runCommandInEnv(command: readonly string[]): Promise<number> {
  if (command.length === 0) throw new UsageError(USAGE);
  await bringUp(false);
  // Ctrl-C reaches the command too; this process waits for it and then releases the environment.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  try {
    return await runInherited(command[0]!, command.slice(1), { env: { ...process.env, ...testenvVariables() } });
  } finally {
    await timed('release', release);
    process.off('SIGINT', ignore);
    process.off('SIGTERM', ignore);
  }
}

async function cli(argv: readonly string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const flags = new Set(rest);
  switch (verb) {
    case 'up':
      await bringUp(true);
      return 0;
    case 'down': {
      const outcome = await timed('down', () => down({ force: flags.has('--force') }));
      say(outcome === 'not-up' ? 'not up; nothing to stop' : outcome);
      return 0;
    }
    case 'status': {
      const current = await status();
      if (flags.has('--json')) process.stdout.write(`${JSON.stringify(current, null, 2)}\n`);
      else {
        const daemons = Object.entries(current.daemons).map(([name, d]) => `${name}=${d.alive ? d.pid : 'down'}`);
        process.stdout.write(`${current.up ? 'up' : 'down'} (${daemons.join(' ')}; answering=${current.answering}; keep=${current.keep}; holders=${current.holders.join(',') || 'none'})\n`);
      }
      return current.up ? 0 : 3;
    }
    case 'run':
      return await runCommandInEnv(rest[0] === '--' ? rest.slice(1) : rest);
    default:
      throw new UsageError(USAGE);
  }
}

try {
  process.exitCode = await cli(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`testenv: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
