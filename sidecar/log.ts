// The sidecar's own diagnostics: one line each on stderr (stdout carries the records).

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  /** Logs a warning only the first time `key` is seen, until `clear(key)`. */
  warnOnce(key: string, message: string): void;
  clear(key: string): void;
}

export function createLogger(write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const seen = new Set<string>();
  const emit = (level: string, message: string): void => write(`${new Date().toISOString()} sidecar ${level}: ${message}\n`);
  return {
    info: (message) => emit('info', message),
    warn: (message) => emit('warning', message),
    warnOnce(key, message) {
      if (seen.has(key)) return;
      seen.add(key);
      emit('warning', message);
    },
    clear: (key) => void seen.delete(key),
  };
}
