// Domain state and reason, named as libvirt names them (state.state, state.reason).
import { DOMAIN_STATE_NAMES, DOMAIN_STATE_REASON_NAMES, nameOf } from '../../libvirt/protocol.js';
import { Metrics } from '../catalogue.js';
import { StatsFields } from '../../libvirt/domain-stats.js';
import { perDomainCollector, type RowLabels } from './fields.js';
import type { Collector } from './types.js';

const FIELDS = new StatsFields('', ['state.state', 'state.reason']);

const STATE_NAMES: RowLabels = {
  own: (entries, row) => {
    const state = entries.number(row, 0)!;
    const reason = entries.number(row, 1);
    return { state: nameOf(DOMAIN_STATE_NAMES, state), reason: reason === undefined ? 'unknown' : nameOf(DOMAIN_STATE_REASON_NAMES[state], reason) };
  },
};

export const collectState: Collector = perDomainCollector(FIELDS, [{ metric: Metrics.state, kind: 'present', slot: 0 }], STATE_NAMES);
