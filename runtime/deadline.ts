// A deadline for one piece of work that is released when the work ends. AbortSignal.timeout (and
// AbortSignal.any) keep their timer, and with it the signal, alive for the whole delay after the work has
// finished: for the many short calls of a burst or of a first scrape, thousands of them pile up in V8's old
// generation until a full collection.

export interface ReleasedDeadline {
  /** Aborts with a TimeoutError (as AbortSignal.timeout does) after the delay, or with `parent`'s reason. */
  readonly signal: AbortSignal;
  /** Clears the timer and the link to `parent`: call it when the work has ended. */
  done(): void;
}

/** A signal that aborts after `ms` or when `parent` aborts, until done() releases it. */
export function releasedDeadline(ms: number, parent?: AbortSignal): ReleasedDeadline {
  const controller = new AbortController();
  const onParent = (): void => controller.abort(parent!.reason);
  const timer = setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms);
  parent?.addEventListener('abort', onParent, { once: true });
  return {
    signal: controller.signal,
    done: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}
