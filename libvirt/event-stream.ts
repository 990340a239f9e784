// The event stream: domain event messages (reference §5.3, §6) decoded and handed to every consumer, each
// with its own bounded queue, so a slow consumer fails loudly instead of holding an unbounded backlog.
import { EventQueueOverflowError, ProtocolError } from './errors.js';
import {
  BLOCK_JOB_STATUS_NAMES,
  BLOCK_JOB_TYPE_NAMES,
  EventProc,
  IO_ERROR_ACTION_NAMES,
  LIFECYCLE_DETAIL_NAMES,
  LIFECYCLE_EVENT_NAMES,
  Limits,
  WATCHDOG_ACTION_NAMES,
  nameOf,
} from './protocol.js';
import { readDomain } from './structs.js';
import type { DomainEvent, EventStreamOptions } from './types.js';
import type { XdrReader } from './xdr.js';

const DEFAULT_MAX_QUEUED = 10_000;

const str = (r: XdrReader, what: string): string => r.string(Limits.STRING_MAX, what);

function blockJob(r: XdrReader): { jobType: number; jobTypeName: string; status: number; statusName: string } {
  const jobType = r.int('block job type');
  const status = r.int('block job status');
  return { jobType, jobTypeName: nameOf(BLOCK_JOB_TYPE_NAMES, jobType), status, statusName: nameOf(BLOCK_JOB_STATUS_NAMES, status) };
}

/** Decodes the payload of event message `proc`; the payload must be consumed exactly. */
export function decodeDomainEvent(proc: number, r: XdrReader): DomainEvent {
  const callbackId = r.int('callbackID');
  const domain = readDomain(r);
  let event: DomainEvent;
  switch (proc) {
    case EventProc.LIFECYCLE: {
      const ev = r.int('event');
      const detail = r.int('detail');
      event = {
        kind: 'lifecycle', callbackId, domain,
        event: ev, eventName: nameOf(LIFECYCLE_EVENT_NAMES, ev),
        detail, detailName: nameOf(LIFECYCLE_DETAIL_NAMES[ev], detail),
      };
      break;
    }
    case EventProc.REBOOT:
      event = { kind: 'reboot', callbackId, domain };
      break;
    case EventProc.WATCHDOG: {
      const action = r.int('action');
      event = { kind: 'watchdog', callbackId, domain, action, actionName: nameOf(WATCHDOG_ACTION_NAMES, action) };
      break;
    }
    case EventProc.IO_ERROR: {
      const srcPath = str(r, 'srcPath');
      const devAlias = str(r, 'devAlias');
      const action = r.int('action');
      event = { kind: 'io-error', callbackId, domain, srcPath, devAlias, action, actionName: nameOf(IO_ERROR_ACTION_NAMES, action) };
      break;
    }
    case EventProc.IO_ERROR_REASON: {
      const srcPath = str(r, 'srcPath');
      const devAlias = str(r, 'devAlias');
      const action = r.int('action');
      const reason = str(r, 'reason');
      event = {
        kind: 'io-error-reason', callbackId, domain, srcPath, devAlias,
        action, actionName: nameOf(IO_ERROR_ACTION_NAMES, action), reason,
      };
      break;
    }
    case EventProc.CONTROL_ERROR:
      event = { kind: 'control-error', callbackId, domain };
      break;
    case EventProc.BLOCK_JOB: {
      const path = str(r, 'path');
      event = { kind: 'block-job', callbackId, domain, path, ...blockJob(r) };
      break;
    }
    case EventProc.BLOCK_JOB_2: {
      const target = str(r, 'dst');
      event = { kind: 'block-job-2', callbackId, domain, target, ...blockJob(r) };
      break;
    }
    default:
      throw new ProtocolError(`event message ${proc} is not one this client registers`);
  }
  r.end(`event ${event.kind}`);
  return event;
}

interface Consumer {
  push(event: DomainEvent): void;
  end(): void;
}

/** The events of one connection: rpc.ts delivers each event message, and ends the stream when the connection ends. */
export class EventStream {
  private readonly consumers = new Set<Consumer>();
  private ended = false;

  /** `listener` sees every event too (the client's 'event' emitter). */
  constructor(private readonly listener: (event: DomainEvent) => void) {}

  /** Decodes event message `proc` and hands it out; throws ProtocolError when it does not decode. */
  deliver(proc: number, body: XdrReader): void {
    const event = decodeDomainEvent(proc, body);
    for (const consumer of this.consumers) consumer.push(event);
    try {
      this.listener(event);
    } catch (err) {
      // A listener's bug must not cut the reader loop short (later packets of this chunk would be lost).
      process.nextTick(() => {
        throw err;
      });
    }
  }

  end(): void {
    this.ended = true;
    for (const consumer of [...this.consumers]) consumer.end();
  }

  /** Events from now on, until the stream ends or `signal` aborts; fails with EventQueueOverflowError past `maxQueued`. */
  subscribe({ maxQueued = DEFAULT_MAX_QUEUED, signal }: EventStreamOptions = {}): AsyncIterableIterator<DomainEvent> {
    const queue: DomainEvent[] = [];
    let failure: Error | undefined;
    let done = this.ended;
    let wake: (() => void) | undefined;
    const consumer: Consumer = {
      push: (event) => {
        if (queue.length >= maxQueued) {
          failure = new EventQueueOverflowError(`more than ${maxQueued} events queued for a slow consumer; events were lost`);
          return consumer.end();
        }
        queue.push(event);
        wake?.();
      },
      end: () => {
        done = true;
        this.consumers.delete(consumer);
        signal?.removeEventListener('abort', consumer.end);
        wake?.();
      },
    };
    if (!done) {
      this.consumers.add(consumer);
      if (signal?.aborted) consumer.end();
      else signal?.addEventListener('abort', consumer.end, { once: true });
    }
    const iterator: AsyncIterableIterator<DomainEvent> = {
      next: async (): Promise<IteratorResult<DomainEvent>> => {
        for (;;) {
          if (failure) {
            const err = failure;
            failure = undefined;
            queue.length = 0;
            throw err;
          }
          const event = queue.shift();
          if (event) return { value: event, done: false };
          if (done) return { value: undefined, done: true };
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      },
      return: async (): Promise<IteratorResult<DomainEvent>> => {
        consumer.end();
        queue.length = 0;
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}
