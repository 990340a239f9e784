// The domain a libvirtd message is about, where its text names one. libvirtd's journal fields name no
// domain (LIBVIRT_DOMAIN is the error domain, virErrorDomain, not a VM), so the message is read: the
// messages below are the ones libvirt 9/10 writes with a domain's name, several with its UUID too.
// Each pattern is anchored on libvirt's own wording (the format string in the comment), so a name in
// free text elsewhere is not taken for one.

import type { LogRecord } from './record.js';
import { DOMAIN_UUID as UUID } from './shapes.js';

export interface DomainMention {
  readonly name: string;
  /** When the message itself gives the UUID. */
  readonly uuid?: string;
}

const MENTIONS: readonly RegExp[] = [
  // qemuDomainObjTaintMsg(): "Domain id=%d name='%s' uuid=%s is tainted: %s" (warning, at every start).
  new RegExp(`^Domain id=[0-9]+ name='(?<name>.+)' uuid=(?<uuid>${UUID}) is tainted: `),
  // The drivers' domain lookups (VIR_ERR_NO_DOMAIN): "no domain with matching uuid '%s' (%s)".
  new RegExp(`no domain with matching uuid '(?<uuid>${UUID})' \\((?<name>.+)\\)$`),
  // virDomainObjListAddLocked(): "domain '%s' is already defined with uuid %s", "domain '%s' already exists with uuid %s".
  new RegExp(`domain '(?<name>.+)' (?:is already defined|already exists) with uuid (?<uuid>${UUID})$`),
  // qemu_monitor.c: "QEMU unexpectedly closed the monitor (vm='%s')", "End of file from qemu monitor (vm='%s')".
  /\(vm='(?<name>[^\n]+?)'\)/,
  // virDomainObjBeginJobInternal(): "Cannot start job (%s, %s, %s) in API %s for domain %s; current job is …".
  /^Cannot start job \(.*?\) in API [A-Za-z]+ for domain (?<name>.+?); current job is /,
  // VIR_ERR_NO_DOMAIN: "no domain with matching name '%s'".
  /no domain with matching name '(?<name>.+)'$/,
];

/** The domain `message` names, or undefined when it names none. */
export function domainMentioned(message: string): DomainMention | undefined {
  // Cheap guard: every pattern above contains one of these words.
  if (!/omain|vm='/.test(message)) return undefined;
  for (const pattern of MENTIONS) {
    const m = pattern.exec(message);
    if (m === null) continue;
    const { name, uuid } = m.groups as { name: string; uuid?: string };
    return uuid === undefined ? { name } : { name, uuid };
  }
  return undefined;
}

/** A libvirtd record whose message names a domain gets it as `domain` (and `uuid` when the message has it). */
export function nameDomain(record: LogRecord): LogRecord {
  const mention = domainMentioned(record.message);
  if (mention !== undefined) {
    record.domain = mention.name;
    if (mention.uuid !== undefined) record.uuid = mention.uuid;
  }
  return record;
}
