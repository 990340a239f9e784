// The Nova metadata info metric: one series per OpenStack instance, to be joined on uuid.
import { Metrics } from '../catalogue.js';
import type { Family, SampleRun } from '../exposition.js';
import type { NovaInstance } from '../../libvirt/nova-metadata.js';
import type { DomainView } from '../domain-view.js';
import type { Collector } from './types.js';

/** A series for each domain that has Nova metadata; its labels are made only when the family is written. */
class NovaInfo implements Family {
  readonly def = Metrics.openstackInfo;

  constructor(
    private domains: readonly DomainView[],
    private openstack: ReadonlyMap<string, NovaInstance>,
  ) {}

  putRows(row: number, run: SampleRun): number {
    for (; row < this.domains.length && !run.full; row++) {
      const view = this.domains[row]!;
      const nova = this.openstack.get(view.stats.domain.uuid);
      if (!nova) continue;
      run.put(view.labels, 1, {
        instance_name: nova.instanceName,
        flavor: nova.flavor,
        project_id: nova.projectId,
        project_name: nova.projectName,
        user_id: nova.userId,
        user_name: nova.userName,
      });
    }
    return row;
  }

  release(): void {
    this.domains = [];
    this.openstack = new Map();
  }
}

export const collectOpenstack: Collector = (snapshot) => (snapshot.openstack.size === 0 ? [] : [new NovaInfo(snapshot.domains, snapshot.openstack)]);
