// Domain state and reason, named as libvirt names them (state.state, state.reason).
import { DOMAIN_STATE_NAMES, DOMAIN_STATE_REASON_NAMES, nameOf } from '../../libvirt/protocol.js';
import { Metrics } from '../catalogue.js';
import { numeric } from '../domain-view.js';
import type { Labels } from '../exposition.js';
import type { Collector } from './types.js';

/** The few (state, reason) label pairs, one object each: by name, so the map stays as small as libvirt's tables. */
const stateLabels = new Map<string, Map<string, Labels>>();

function labelsFor(state: string, reason: string): Labels {
  let byReason = stateLabels.get(state);
  if (!byReason) stateLabels.set(state, (byReason = new Map()));
  let labels = byReason.get(reason);
  if (!labels) byReason.set(reason, (labels = Object.freeze({ state, reason })));
  return labels;
}

export const collectState: Collector = (snapshot, out) => {
  for (const view of snapshot.domains) {
    const state = numeric(view.fields.get('state.state'));
    if (state === undefined) continue;
    const reason = numeric(view.fields.get('state.reason'));
    const stateName = nameOf(DOMAIN_STATE_NAMES, state);
    const reasonName = reason === undefined ? 'unknown' : nameOf(DOMAIN_STATE_REASON_NAMES[state], reason);
    out.put(Metrics.state, view.labels, 1, labelsFor(stateName, reasonName));
  }
};
