import type { CommandSpec, OptionSpec } from './options.js';
import { eventsCommand } from '../events/command.js';
import { generateCommand } from '../generator/command.js';
import { exporterCommand } from '../metrics/command.js';
import { parseCommand } from '../parsers/command.js';
import { sidecarCommand } from '../sidecar/command.js';

/** Every subcommand of the CLI, in the order `--help` and the README list them. */
export const commands: readonly CommandSpec<readonly OptionSpec[]>[] = [generateCommand, parseCommand, sidecarCommand, exporterCommand, eventsCommand];
