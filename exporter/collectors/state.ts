// Domain state and reason, named as libvirt names them (state.state, state.reason).
import { DOMAIN_STATE_NAMES, DOMAIN_STATE_REASON_NAMES, nameOf } from '../../libvirt/protocol.js';
import { Metrics } from '../catalogue.js';
import { numeric } from '../domain-view.js';
import type { Collector } from './types.js';

export const collectState: Collector = (snapshot, out) => {
  for (const view of snapshot.domains) {
    const state = numeric(view.fields.get('state.state'));
    if (state === undefined) continue;
    const reason = numeric(view.fields.get('state.reason'));
    out.put(Metrics.state, view.labels, 1, {
      state: nameOf(DOMAIN_STATE_NAMES, state),
      reason: reason === undefined ? 'unknown' : nameOf(DOMAIN_STATE_REASON_NAMES[state], reason),
    });
  }
};
