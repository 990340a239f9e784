// One domain of a collection: its stats record (parameters in the reply's columns, libvirt/domain-stats.ts) and
// the labels its series share. Collectors read the fields they need with StatsFields, by key id.
import type { DomainRef, DomainStatsRecord } from '../libvirt/types.js';

export type DomainLabels = Readonly<{ domain: string; uuid: string }> & Readonly<Record<string, string>>;

export function labelsOf(domain: DomainRef): DomainLabels {
  return Object.freeze({ domain: domain.name, uuid: domain.uuid });
}

export interface DomainView {
  /** The labels of every series of this domain, one object shared by all of them. */
  readonly labels: DomainLabels;
  /** Its stats record, which also names the domain (`stats.domain`). */
  readonly stats: DomainStatsRecord;
}

/** `labels`: pass the domain's object of the previous scrape when it still fits, see seriesLabels (exposition.ts). */
export function viewOf(stats: DomainStatsRecord, labels: DomainLabels = labelsOf(stats.domain)): DomainView {
  return { labels, stats };
}
