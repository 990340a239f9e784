// Reachability of libvirtd, the domain count and the exporter's own health.
import { Metrics } from '../catalogue.js';
import { NO_LABELS, SampleList } from '../exposition.js';
import type { Collector } from './types.js';

export const collectExporter: Collector = (snapshot) => {
  const up = new SampleList(Metrics.up);
  const domains = new SampleList(Metrics.domains);
  const scrapeDuration = new SampleList(Metrics.scrapeDuration);
  const lastScrapeSuccess = new SampleList(Metrics.lastScrapeSuccess);
  const collectionErrors = new SampleList(Metrics.collectionErrors);
  const statsMissing = new SampleList(Metrics.domainStatsMissing);
  const rejectedMessages = new SampleList(Metrics.rejectedMessages);
  const domainErrors = new SampleList(Metrics.domainErrors);
  const domainTimeouts = new SampleList(Metrics.domainTimeouts);
  up.put(NO_LABELS, snapshot.up ? 1 : 0);
  if (snapshot.domainCount !== undefined) domains.put(NO_LABELS, snapshot.domainCount);
  scrapeDuration.put(NO_LABELS, snapshot.durationSeconds);
  lastScrapeSuccess.put(NO_LABELS, snapshot.complete ? 1 : 0);
  collectionErrors.put(NO_LABELS, snapshot.collectionErrors);
  for (const labels of snapshot.statsMissing) statsMissing.put(labels, 1);
  if (snapshot.rejectedMessages !== undefined) rejectedMessages.put(NO_LABELS, snapshot.rejectedMessages);
  for (const f of snapshot.failures.values()) {
    const labels = { domain: f.domain, uuid: f.uuid };
    domainErrors.put(labels, f.errors);
    domainTimeouts.put(labels, f.timeouts);
  }
  return [up, domains, scrapeDuration, lastScrapeSuccess, collectionErrors, statsMissing, rejectedMessages, domainErrors, domainTimeouts];
};
