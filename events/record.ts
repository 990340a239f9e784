// Every event the agent sees becomes one structured record on stdout, in the parsers' record schema
// (time, source, domain, kind, level, message) with source `libvirt-event` and the event's own fields.
import type { Writable } from 'node:stream';
import type { LogRecord } from '../parsers/record.js';
import type { EventOrigin, ObservedEvent } from './observed.js';
import { eventDetail } from './observed.js';
import type { Decision } from './policy.js';

/** What the agent did about the event. */
export type RecordAction = 'eviction' | 'eviction-dry-run' | 'hypervisor-status' | 'watch-io-error' | 'deduplicated' | 'none';

export interface EventRecord extends Pick<LogRecord, 'time' | 'domain' | 'level' | 'message' | 'device' | 'reason'> {
  source: 'libvirt-event';
  kind: 'domain_event';
  /** This node's Hypervisor name. */
  hypervisor: string;
  uuid: string;
  /** libvirt's domain id (−1 when not running). */
  domain_id: number;
  /** `lifecycle`, `reboot`, `watchdog`, `io-error`, `io-error-reason`, `control-error`. */
  event: string;
  /** `stopped/failed`, `reset`, `pause/enospc`, '' for events without one. */
  detail: string;
  origin: EventOrigin;
  action: RecordAction;
  /** Why a synthesized event was synthesized; what a deduplicated event was part of. */
  note?: string;
  /** The Eviction's name (action `eviction`, `eviction-dry-run`). */
  eviction?: string;
  /** I/O errors: the disk's source path (`device` holds its alias, `reason` the error reason). */
  path?: string;
}

const SEVERE = new Set(['stopped/failed', 'stopped/crashed']);

function levelOf(event: ObservedEvent['event'], detail: string): LogRecord['level'] {
  switch (event.kind) {
    case 'lifecycle':
      return SEVERE.has(detail) || event.eventName === 'crashed' ? 'error' : 'info';
    case 'watchdog':
      return 'error';
    case 'io-error':
    case 'io-error-reason':
    case 'control-error':
      return 'warning';
    default:
      return 'info';
  }
}

export function buildRecord(hypervisor: string, observed: ObservedEvent, decision: Decision, evictionName?: string, dryRun = false): EventRecord {
  const { event } = observed;
  const detail = eventDetail(event);
  const action: RecordAction =
    decision.action === 'evict' ? (dryRun ? 'eviction-dry-run' : 'eviction')
    : decision.action === 'reboot-status' ? 'hypervisor-status'
    : decision.action;
  const record: EventRecord = {
    time: new Date(observed.at).toISOString(),
    source: 'libvirt-event',
    domain: event.domain.name,
    kind: 'domain_event',
    level: levelOf(event, detail),
    message: `${event.kind}${detail ? ` ${detail}` : ''}`,
    hypervisor,
    uuid: event.domain.uuid,
    domain_id: event.domain.id,
    event: event.kind,
    detail,
    origin: observed.origin,
    action,
  };
  if (event.kind === 'io-error' || event.kind === 'io-error-reason') {
    record.device = event.devAlias;
    record.path = event.srcPath;
    record.message += ` on ${event.devAlias} (${event.srcPath})`;
    if (event.kind === 'io-error-reason') record.reason = event.reason;
  }
  const notes = [observed.note, decision.action === 'deduplicated' ? `part of: ${decision.of}` : undefined].filter(Boolean);
  if (notes.length > 0) record.note = notes.join('; ');
  if (evictionName) record.eviction = evictionName;
  return record;
}

/**
 * JSON lines to a stream without unbounded buffering: when the consumer stops reading and more than
 * `maxBufferedBytes` wait in the stream, further lines are dropped and counted (`onDrop`).
 */
export class JsonLineSink {
  constructor(
    private readonly out: Writable,
    private readonly maxBufferedBytes: number,
    private readonly onDrop: () => void,
  ) {}

  write(value: object): boolean {
    if (this.out.writableLength > this.maxBufferedBytes || this.out.destroyed) {
      this.onDrop();
      return false;
    }
    this.out.write(`${JSON.stringify(value)}\n`);
    return true;
  }
}
