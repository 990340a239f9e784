// The Nova metadata info metric: one series per OpenStack instance, to be joined on uuid.
import { Metrics } from '../catalogue.js';
import type { Collector } from './types.js';

export const collectOpenstack: Collector = (snapshot, out) => {
  for (const view of snapshot.domains) {
    const nova = snapshot.openstack.get(view.stats.domain.uuid);
    if (!nova) continue;
    out.put(Metrics.openstackInfo, view.labels, 1, {
      instance_name: nova.instanceName,
      flavor: nova.flavor,
      project_id: nova.projectId,
      project_name: nova.projectName,
      user_id: nova.userId,
      user_name: nova.userName,
    });
  }
};
