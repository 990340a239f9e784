// Domain state and reason, named as libvirt names them (state.state, state.reason).
import { DOMAIN_STATE_NAMES, DOMAIN_STATE_REASON_NAMES, nameOf } from '../../libvirt/protocol.js';
import { Metrics } from '../catalogue.js';
import { StatsFields } from '../../libvirt/domain-stats.js';
import type { DomainLabels } from '../domain-view.js';
import { NO_LABELS, type Labels } from '../exposition.js';
import { perDomainCollector, type RowLabels } from './fields.js';
import type { Collector } from './types.js';

const FIELDS = new StatsFields('', ['state.state', 'state.reason']);

type StateLabels = Readonly<{ state: string; reason: string }> & Labels;

/**
 * Each domain's state series labels (state, reason, then the domain's), one object kept while its state and
 * reason stay: a domain's state changes seldom, and prom-client formats a shared label object once, so the
 * one series per domain of this family is not formatted anew every scrape. Keyed by the domain's labels
 * object, which the collection keeps while the domain exists: the entry goes with it.
 */
const STATE_SERIES = new WeakMap<DomainLabels, StateLabels>();

const STATE_NAMES: RowLabels = {
  shared: (entries, row) => {
    const code = entries.number(row, 0)!;
    const reasonCode = entries.number(row, 1);
    const state = nameOf(DOMAIN_STATE_NAMES, code);
    const reason = reasonCode === undefined ? 'unknown' : nameOf(DOMAIN_STATE_REASON_NAMES[code], reasonCode);
    const domain = entries.view(row).labels;
    let labels = STATE_SERIES.get(domain);
    if (labels?.state !== state || labels.reason !== reason) STATE_SERIES.set(domain, (labels = Object.freeze({ state, reason, ...domain })));
    return labels;
  },
  own: () => NO_LABELS,
};

export const collectState: Collector = perDomainCollector(FIELDS, [{ metric: Metrics.state, kind: 'present', slot: 0 }], STATE_NAMES);
