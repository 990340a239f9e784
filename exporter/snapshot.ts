// What one collection from libvirtd produced: the input of every collector.
import type { DomainLabels, DomainView } from './domain-view.js';
import type { NovaInstance } from '../libvirt/nova-metadata.js';

export interface DomainFailures {
  readonly domain: string;
  readonly uuid: string;
  readonly errors: number;
  readonly timeouts: number;
}

export interface Snapshot {
  /** libvirtd answered at least one call of this collection. */
  readonly up: boolean;
  /** Domains libvirtd reported, including those whose stats did not arrive; undefined when no listing arrived. */
  readonly domainCount: number | undefined;
  /** The stats of each domain that answered. */
  readonly domains: readonly DomainView[];
  /** Domains whose stats, or the part only QEMU can tell, are missing from this collection. */
  readonly statsMissing: readonly DomainLabels[];
  /** The vCPU threads' wait and delay are exported (--collector.vcpu-scheduling); else they are left out wherever they come from. */
  readonly vcpuScheduling: boolean;
  /** Nova metadata by domain uuid, for the domains that have it. */
  readonly openstack: ReadonlyMap<string, NovaInstance>;
  /** Every domain's stats arrived (no call failed or timed out). */
  readonly complete: boolean;
  readonly durationSeconds: number;
  /** Cumulative failed and timed-out calls per domain uuid, for the domains that still exist. */
  readonly failures: ReadonlyMap<string, DomainFailures>;
  /** Collections so far that ended early because of a failure not about one domain (connection lost, listing failed). */
  readonly collectionErrors: number;
  /** libvirt messages refused as larger than --libvirt.max-frame since start (added by the server). */
  readonly rejectedMessages?: number;
}
