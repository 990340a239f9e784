#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { COMMAND_NAMES, loadCommand, loadCommands } from './commands.js';
import { renderHelp, terminalWidth, wrap } from './help.js';
import { parseCommandLine, UsageError } from '../runtime/options.js';
import { restartWithNodeFlags } from '../runtime/start-flags.js';
import { packageVersion, PROGRAM } from '../runtime/version.js';

export { PROGRAM };

async function topHelp(): Promise<string> {
  const commands = await loadCommands();
  const column = Math.max(...commands.map((c) => c.name.length)) + 4;
  const width = terminalWidth();
  return [
    `Usage: ${PROGRAM} <command> [options]`,
    '',
    'Telemetry of libvirt/QEMU hypervisor nodes: logs, metrics and events.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(column - 2)}${wrap(c.summary, width, column)}`),
    '',
    wrap(`Run '${PROGRAM} <command> --help' for the options of a command, '${PROGRAM} --version' for the version.`, width),
    '',
  ].join('\n');
}

/**
 * Runs the CLI; returns the exit code (0 ok, 1 runtime failure, 2 bad usage). `restart` receives the command's
 * Node.js flags before the command runs: the program passes restartWithNodeFlags; a caller that runs main()
 * inside its own process passes nothing, and its process is left as it is.
 */
export async function main(argv: readonly string[], restart: (nodeFlags: readonly string[]) => void = () => undefined): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' && rest[0] !== undefined ? await loadCommand(rest[0]) : undefined;
    process.stdout.write(target ? renderHelp(PROGRAM, target) : await topHelp());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = await loadCommand(name);
  if (!command) {
    process.stderr.write(`${PROGRAM}: unknown command '${name}' (commands: ${COMMAND_NAMES.join(', ')})\n`);
    return 2;
  }
  try {
    const parsed = parseCommandLine(command, rest);
    if (parsed.help) {
      process.stdout.write(renderHelp(PROGRAM, command));
      return 0;
    }
    if (parsed.version) {
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    if (command.nodeFlags) restart(command.nodeFlags);
    for (const warning of parsed.warnings) process.stderr.write(`${PROGRAM} ${command.name}: warning: ${warning}\n`);
    return await command.run(parsed.options, parsed.positionals);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${PROGRAM} ${command.name}: ${err.message}\n`);
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${PROGRAM} ${command.name}: ${message.split('\n')[0]}\n`);
    return 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  process.exitCode = await main(process.argv.slice(2), restartWithNodeFlags);
}
