import type { MetricWriter } from '../exposition.js';
import type { Snapshot } from '../snapshot.js';

/** One concern's metrics, computed from a snapshot; called once per scrape. */
export type Collector = (snapshot: Snapshot, out: MetricWriter) => void;
