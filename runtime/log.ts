// The operational log of every role: one line per message on stderr (stdout carries records), in one of two
// formats chosen by --log.format: logfmt (`ts=… level=warn msg="…" key=value`, the Prometheus exporters'
// default) or json (one object per line, for log pipelines that parse JSON).
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type Level = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['logfmt', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogFields = Record<string, string | number | boolean | undefined>;

/**
 * `log(level, msg, fields)`, or the shorthand `log.warn(msg, fields)`. `warnOnce(key, …)` logs a condition that
 * repeats (an unreadable directory at every rescan) once, until `clear(key)` says it is over.
 */
export interface Logger {
  (level: Level, msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  warnOnce(key: string, msg: string, fields?: LogFields): void;
  clear(key: string): void;
}

export interface LoggerOptions {
  /** Least severe level written (default info). */
  readonly level?: Level;
  readonly format?: LogFormat;
  readonly write?: (line: string) => void;
}

const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

function quote(value: string): string {
  return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
}

function logfmt(level: Level, msg: string, fields: LogFields): string {
  const parts = [`ts=${new Date().toISOString()}`, `level=${level}`, `msg=${quote(msg)}`];
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) parts.push(`${key}=${quote(String(value))}`);
  return parts.join(' ') + '\n';
}

function json(level: Level, msg: string, fields: LogFields): string {
  // The fixed keys first, never overwritten by a field of the same name.
  const line: Record<string, unknown> = { ts: new Date().toISOString(), level, msg };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined && !(key in line)) line[key] = value;
  return JSON.stringify(line) + '\n';
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const min = ORDER[options.level ?? 'info'];
  const render = options.format === 'json' ? json : logfmt;
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const seen = new Set<string>();
  const log = ((level: Level, msg: string, fields: LogFields = {}) => {
    if (ORDER[level] >= min) write(render(level, msg, fields));
  }) as Logger;
  log.debug = (msg, fields) => log('debug', msg, fields);
  log.info = (msg, fields) => log('info', msg, fields);
  log.warn = (msg, fields) => log('warn', msg, fields);
  log.error = (msg, fields) => log('error', msg, fields);
  log.warnOnce = (key, msg, fields) => {
    if (seen.has(key)) return;
    seen.add(key);
    log('warn', msg, fields);
  };
  log.clear = (key) => void seen.delete(key);
  return log;
}

/** The first line of an error's message, for log fields. */
export function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}
