// Options several roles have, defined once so that every role spells, types and explains them alike.
import { createLogger, LOG_FORMATS, LOG_LEVELS, type Level, type LogFormat, type Logger } from './log.js';

/** --log.level and --log.format of every daemon. */
export const LOG_OPTIONS = [
  { name: 'log.level', type: 'enum', choices: LOG_LEVELS, default: 'info', description: 'least severe level of the operational log on stderr' },
  { name: 'log.format', type: 'enum', choices: LOG_FORMATS, default: 'logfmt', description: 'format of the operational log: logfmt (key=value) or json (one object per line)' },
] as const;

/** The logger the --log.* options ask for. */
export function loggerFrom(o: { readonly 'log.level': string; readonly 'log.format': string }): Logger {
  return createLogger({ level: o['log.level'] as Level, format: o['log.format'] as LogFormat });
}

/** --web.listen-address: where a daemon serves /metrics and /healthz. */
export function webListenAddressOption<const D extends string>(defaultAddress: D, description: string) {
  return { name: 'web.listen-address', type: 'string', default: defaultAddress, description } as const;
}
