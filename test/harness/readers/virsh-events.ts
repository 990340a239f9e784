// Reads `virsh event --all --loop --timestamp` output (test/fixtures/samples/real/events-qemu.txt, recorded
// on a real libvirtd) back into the decoded events the agent gets, so policy can be tested against the
// measured sequences and timings. Domain UUIDs are derived from names; ids count the domain's starts.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { IO_ERROR_ACTION_NAMES, WATCHDOG_ACTION_NAMES } from '../../../libvirt/protocol.js';
import type { DomainEvent, DomainRef } from '../../../libvirt/types.js';
import { lifecycleEvent, type ObservedEvent } from '../../../events/observed.js';
import { sample } from '../inputs/samples.js';

/** virsh's detail strings that are not the lower-cased libvirt name. */
const DETAIL: Record<string, string> = {
  'I/O Error': 'ioerror',
  'Finished after guest request': 'guest',
  'Finished after host request': 'host',
  Snapshot: 'from_snapshot',
  'API error': 'api_error',
  'Event wakeup': 'wakeup',
};

export function uuidOf(name: string): string {
  const h = createHash('md5').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const LINE = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\+0000: event '([a-z-]+)' for domain '([^']+)'(?:: (.*))?$/;
const IO = /^(.*) \((\S+)\) (\w+)(?: due to (\w*))?$/;

export function parseVirshEvents(text: string): ObservedEvent[] {
  const ids = new Map<string, number>();
  let lastId = 0;
  const out: ObservedEvent[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const [, ts, kind, name, rest = ''] = m;
    const at = Date.parse(`${ts!.replace(' ', 'T')}Z`);
    const [eventWord = '', ...detailWords] = rest.split(' ');
    if (kind === 'lifecycle' && eventWord === 'Started') ids.set(name!, ++lastId);
    const domain: DomainRef = { name: name!, uuid: uuidOf(name!), id: ids.get(name!) ?? -1 };
    let event: DomainEvent;
    switch (kind) {
      case 'lifecycle': {
        const detailText = detailWords.join(' ');
        event = { ...lifecycleEvent(domain, eventWord.toLowerCase(), DETAIL[detailText] ?? detailText.toLowerCase()), callbackId: 1 };
        break;
      }
      case 'reboot':
      case 'control-error':
        event = { kind, callbackId: 2, domain };
        break;
      case 'watchdog':
        event = { kind, callbackId: 3, domain, action: WATCHDOG_ACTION_NAMES.indexOf(rest as never), actionName: rest };
        break;
      case 'io-error':
      case 'io-error-reason': {
        const io = IO.exec(rest);
        if (!io) throw new Error(`unparsed io-error line: ${line}`);
        const [, srcPath, devAlias, actionName, reason] = io;
        const action = IO_ERROR_ACTION_NAMES.indexOf(actionName as never);
        event = kind === 'io-error'
          ? { kind, callbackId: 4, domain, srcPath: srcPath!, devAlias: devAlias!, action, actionName: actionName! }
          : { kind, callbackId: 5, domain, srcPath: srcPath!, devAlias: devAlias!, action, actionName: actionName!, reason: reason ?? '' };
        break;
      }
      default:
        throw new Error(`unknown event kind in: ${line}`);
    }
    out.push({ event, origin: 'live', at });
  }
  return out;
}

/** The measured QEMU session: tiny (no OS) and tinylinux through every event type. */
export function measuredSession(): ObservedEvent[] {
  return parseVirshEvents(readFileSync(sample('real/events-qemu.txt'), 'utf8'));
}
