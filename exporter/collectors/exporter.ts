// Reachability of libvirtd, the domain count and the exporter's own health.
import { Metrics } from '../catalogue.js';
import { NO_LABELS } from '../exposition.js';
import type { Collector } from './types.js';

export const collectExporter: Collector = (snapshot, out) => {
  out.put(Metrics.up, NO_LABELS, snapshot.up ? 1 : 0);
  if (snapshot.domainCount !== undefined) out.put(Metrics.domains, NO_LABELS, snapshot.domainCount);
  out.put(Metrics.scrapeDuration, NO_LABELS, snapshot.durationSeconds);
  out.put(Metrics.lastScrapeSuccess, NO_LABELS, snapshot.complete ? 1 : 0);
  out.put(Metrics.collectionErrors, NO_LABELS, snapshot.collectionErrors);
  for (const labels of snapshot.statsMissing) out.put(Metrics.domainStatsMissing, labels, 1);
  if (snapshot.rejectedMessages !== undefined) out.put(Metrics.rejectedMessages, NO_LABELS, snapshot.rejectedMessages);
  for (const f of snapshot.failures.values()) {
    const labels = { domain: f.domain, uuid: f.uuid };
    out.put(Metrics.domainErrors, labels, f.errors);
    out.put(Metrics.domainTimeouts, labels, f.timeouts);
  }
};
