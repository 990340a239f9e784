// A collection's result as the collectors get it, from decoded stats records: libvirtd answered, every
// domain's stats arrived, nothing failed, unless `extra` says otherwise.
import { viewOf } from '../../../exporter/domain-view.js';
import type { Snapshot } from '../../../exporter/snapshot.js';
import type { DomainStatsRecord } from '../../../libvirt/types.js';

export function snapshotOf(records: readonly DomainStatsRecord[], extra: Partial<Snapshot> = {}): Snapshot {
  return {
    up: true,
    domainCount: records.length,
    domains: records.map((r) => viewOf(r)),
    openstack: new Map(),
    vcpuScheduling: true,
    complete: true,
    durationSeconds: 0.012,
    failures: new Map(),
    statsMissing: [],
    collectionErrors: 0,
    ...extra,
  };
}
