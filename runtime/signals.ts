// Graceful shutdown of the daemons: the first SIGTERM or SIGINT asks the role to stop (drain, close, exit 0);
// a second one, while that is under way, ends the process at once, as an operator pressing Ctrl-C twice expects.
import { constants } from 'node:os';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Starts listening for SIGTERM/SIGINT and resolves with the first one. Call it before a slow start-up:
 * a signal that arrives meanwhile is kept, not lost to Node's default (exit without draining).
 */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) process.exit(128 + constants.signals[signal]);
      stopping = true;
      resolve(signal);
    };
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  });
}
