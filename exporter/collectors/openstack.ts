// The Nova metadata info metric: one series per OpenStack instance, to be joined on uuid.
import { Metrics } from '../catalogue.js';
import { StatsFields } from '../../libvirt/domain-stats.js';
import { EntryFamily, perDomainFamilies } from './fields.js';
import type { Collector } from './types.js';

/** Reads no field: one row per domain. */
const NO_FIELDS = new StatsFields('', []);

export const collectOpenstack: Collector = (snapshot) => {
  const { openstack } = snapshot;
  if (openstack.size === 0) return [];
  return perDomainFamilies(snapshot, NO_FIELDS, (entries) => [
    new EntryFamily(
      Metrics.openstackInfo,
      entries,
      (row) => (openstack.has(entries.view(row).stats.domain.uuid) ? 1 : undefined),
      (row) => {
        const nova = openstack.get(entries.view(row).stats.domain.uuid)!;
        return {
          instance_name: nova.instanceName,
          flavor: nova.flavor,
          project_id: nova.projectId,
          project_name: nova.projectName,
          user_id: nova.userId,
          user_name: nova.userName,
        };
      },
    ),
  ]);
};
