// Domain state and reason, named as libvirt names them (state.state, state.reason).
import { DOMAIN_STATE_NAMES, DOMAIN_STATE_REASON_NAMES, nameOf } from '../../libvirt/protocol.js';
import { Metrics } from '../catalogue.js';
import { StatsFields } from '../../libvirt/domain-stats.js';
import type { Collector } from './types.js';

const FIELDS = new StatsFields('', ['state.state', 'state.reason']);

export const collectState: Collector = (snapshot, out) => {
  for (const view of snapshot.domains) {
    FIELDS.read(view.stats);
    const state = FIELDS.number(0, 0);
    if (state === undefined) continue;
    const reason = FIELDS.number(0, 1);
    out.put(Metrics.state, view.labels, 1, {
      state: nameOf(DOMAIN_STATE_NAMES, state),
      reason: reason === undefined ? 'unknown' : nameOf(DOMAIN_STATE_REASON_NAMES[state], reason),
    });
  }
};
