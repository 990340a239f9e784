// Decoders of the callback-style domain event messages (reference §5.3, §6).
import { ProtocolError } from './errors.js';
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
import type { DomainEvent } from './types.js';
import type { XdrReader } from './xdr.js';

const str = (r: XdrReader, what: string): string => r.string(Limits.STRING_MAX, what);

function blockJob(r: XdrReader): { jobType: number; jobTypeName: string; status: number; statusName: string } {
  const jobType = r.int('block job type');
  const status = r.int('block job status');
  return { jobType, jobTypeName: nameOf(BLOCK_JOB_TYPE_NAMES, jobType), status, statusName: nameOf(BLOCK_JOB_STATUS_NAMES, status) };
}

/** Whether `proc` is an event message this client decodes. */
export function isDomainEventProc(proc: number): boolean {
  return Object.values(EventProc).includes(proc as (typeof EventProc)[keyof typeof EventProc]);
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
