// Waits between retries: doubling from `minMs` to at most `maxMs`, each wait drawn from the upper half of its
// step (jitter), so that clients which lost the same peer at the same moment do not retry in lockstep.

export interface BackoffOptions {
  readonly minMs: number;
  readonly maxMs: number;
  /** Source of randomness in [0, 1); tests pass a fixed one. */
  readonly random?: () => number;
}

export class Backoff {
  private step: number;

  constructor(private readonly options: BackoffOptions) {
    this.step = options.minMs;
  }

  /** The wait before the next retry; the following one is twice as long, up to the cap. */
  next(): number {
    const { maxMs, random = Math.random } = this.options;
    const ceiling = Math.min(this.step, maxMs);
    this.step = Math.min(this.step * 2, maxMs);
    return ceiling / 2 + (ceiling / 2) * random();
  }

  /** After a success: the next failure waits the shortest time again. */
  reset(): void {
    this.step = this.options.minMs;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
