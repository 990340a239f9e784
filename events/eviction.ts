// The Kubernetes objects the agent writes: Evictions (hypervisor.c5c3.io/v1, the CRD in deploy/) and the
// merge patch of the Hypervisor resource's status after a guest reboot.
import { createHash } from 'node:crypto';
import type { DomainRef } from '../libvirt/types.js';
import type { NovaNames } from './nova-names.js';
import type { EventOrigin } from './observed.js';

export const API_GROUP = 'hypervisor.c5c3.io';
export const API_VERSION = 'v1';
export const EVICTION_PLURAL = 'evictions';
export const HYPERVISOR_PLURAL = 'hypervisors';
export const MANAGED_BY = 'libvirt-telemetry-events';

/** Why a domain's hypervisor is to be evacuated. */
export interface EvictionCause {
  readonly domain: DomainRef;
  /** `lifecycle`, `watchdog`, `io-error`. */
  readonly event: string;
  /** `stopped/failed`, `crashed/panicked`, `reset`, `pause/enospc`. */
  readonly detail: string;
  /** What happened, in words: `the QEMU process ended unexpectedly`. */
  readonly explanation: string;
  /** When the agent saw (or synthesized) the event, epoch ms; part of the incident's identity. */
  readonly at: number;
  readonly origin: EventOrigin;
}

export interface Eviction {
  apiVersion: string;
  kind: 'Eviction';
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: EvictionSpec;
}

/**
 * `hypervisor` and `reason` are what the operator acts on. `domain` and `uuid` name the VM with the same names
 * and values as the exporter's series labels and the log records' fields (docs/records.md, "Identity"), so one
 * uuid finds the series, the records and the Evictions of a VM.
 */
export interface EvictionSpec extends Partial<NovaNames> {
  hypervisor: string;
  reason: string;
  domain: string;
  uuid: string;
}

/** Lower-case RFC 1123 characters only, no leading/trailing dash, at most `max` long. */
function slug(text: string, max: number): string {
  const s = text.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').slice(0, max).replace(/^-+|-+$/g, '');
  return s || 'x';
}

/**
 * Deterministic per incident: hypervisor, domain UUID, event and the time it was seen. A retried create
 * (the first one may have been committed even though its answer was lost) reuses the name and gets 409.
 */
export function evictionName(hypervisor: string, cause: EvictionCause): string {
  const hash = createHash('sha256')
    .update([hypervisor, cause.domain.uuid, cause.event, cause.detail, String(cause.at)].join('\n'))
    .digest('hex')
    .slice(0, 10);
  return `${slug(hypervisor, 100)}-${slug(cause.domain.name, 100)}-${hash}`;
}

/** `domain vm1 (uuid 4dea…): lifecycle stopped/failed — the QEMU process ended unexpectedly`. */
export function evictionReason(cause: EvictionCause): string {
  const detail = cause.detail ? ` ${cause.detail}` : '';
  const late = cause.origin === 'reconcile' ? ' (found after reconnecting to libvirtd)' : '';
  return `domain ${cause.domain.name} (uuid ${cause.domain.uuid}): ${cause.event}${detail} — ${cause.explanation}${late}`;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** `nova`: the domain's Nova names, where its XML has them (libvirt_domain_openstack_info's labels of the same names). */
export function buildEviction(hypervisor: string, namespace: string, cause: EvictionCause, nova?: NovaNames): Eviction {
  const labels: Record<string, string> = {
    'app.kubernetes.io/managed-by': MANAGED_BY,
    // `uuid` is the name the series and records use; `domain-uuid` stays for selectors written before it.
    [`${API_GROUP}/uuid`]: cause.domain.uuid,
    [`${API_GROUP}/domain-uuid`]: cause.domain.uuid,
    [`${API_GROUP}/event`]: slug(`${cause.event}-${cause.detail}`, 63),
  };
  // Node names may be longer than a label value allows; the spec always carries the full name.
  if (hypervisor.length <= 63 && LABEL_VALUE.test(hypervisor)) labels[`${API_GROUP}/hypervisor`] = hypervisor;
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: 'Eviction',
    metadata: {
      name: evictionName(hypervisor, cause),
      namespace,
      labels,
      annotations: {
        [`${API_GROUP}/domain`]: cause.domain.name,
        [`${API_GROUP}/event-time`]: new Date(cause.at).toISOString(),
        [`${API_GROUP}/event-origin`]: cause.origin,
      },
    },
    spec: { hypervisor, reason: evictionReason(cause), domain: cause.domain.name, uuid: cause.domain.uuid, ...nova },
  };
}

/**
 * An Eviction as the Kubernetes writer holds it until it is written: serialized once, when it is queued. A
 * burst queues many, and each would otherwise stay an object tree on the JS heap for as long as it waits.
 */
export interface SerializedEviction {
  readonly name: string;
  readonly namespace: string;
  /** The body of the create request. */
  readonly json: Buffer;
}

export function serializeEviction(eviction: Eviction): SerializedEviction {
  return { name: eviction.metadata.name, namespace: eviction.metadata.namespace, json: Buffer.from(JSON.stringify(eviction)) };
}

/** A guest reboot, as recorded in the Hypervisor resource's status. */
export interface DomainReboot {
  readonly domain: DomainRef;
  readonly at: number;
}

/**
 * The merge patch (application/merge-patch+json) for the status subresource of this node's Hypervisor:
 * `status.lastDomainReboot` = { domain, uuid, time }. A merge patch replaces only this field and leaves the
 * operator's own status fields alone.
 */
export function rebootStatusPatch(hypervisor: string, reboot: DomainReboot): object {
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: 'Hypervisor',
    metadata: { name: hypervisor },
    status: {
      lastDomainReboot: { domain: reboot.domain.name, uuid: reboot.domain.uuid, time: new Date(reboot.at).toISOString() },
    },
  };
}
