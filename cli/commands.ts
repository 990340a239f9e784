import { exporterCommand } from '../metrics/command.js';
import type { CommandSpec, OptionSpec } from './options.js';
import { parseCommand } from '../parsers/command.js';

/** Every subcommand of the CLI, in the order `--help` and the README list them. */
export const commands: readonly CommandSpec<readonly OptionSpec[]>[] = [parseCommand, exporterCommand];
