import type { CommandSpec, OptionSpec } from '../runtime/options.js';

export type AnyCommand = CommandSpec<readonly OptionSpec[]>;

/**
 * Every subcommand of the CLI, in the order `--help` and docs/cli.md list them. Each role's module is loaded
 * only when that command runs (or for the full help): a daemon carries its own role's code, not the others'
 * (the generator's and the parsers' specs alone are resident memory a daemon does not need: bench/RESULTS.md#start-up-footprint).
 */
const COMMAND_MODULES: readonly { readonly name: string; readonly load: () => Promise<AnyCommand> }[] = [
  { name: 'generate', load: async () => (await import('../generator/command.js')).generateCommand },
  { name: 'parse', load: async () => (await import('../parsers/command.js')).parseCommand },
  { name: 'sidecar', load: async () => (await import('../sidecar/command.js')).sidecarCommand },
  { name: 'exporter', load: async () => (await import('../exporter/command.js')).exporterCommand },
  { name: 'events', load: async () => (await import('../events/command.js')).eventsCommand },
];

export const COMMAND_NAMES: readonly string[] = COMMAND_MODULES.map((c) => c.name);

/** The named command's spec, or undefined for an unknown name. */
export async function loadCommand(name: string): Promise<AnyCommand | undefined> {
  const entry = COMMAND_MODULES.find((c) => c.name === name);
  if (!entry) return undefined;
  const command = await entry.load();
  if (command.name !== name) throw new Error(`command module for '${name}' defines '${command.name}'`);
  return command;
}

/** Every command's spec, in order. */
export async function loadCommands(): Promise<AnyCommand[]> {
  return Promise.all(COMMAND_NAMES.map(async (name) => (await loadCommand(name))!));
}
