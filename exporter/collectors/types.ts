import type { Family } from '../exposition.js';
import type { Snapshot } from '../snapshot.js';

/** One concern's metrics of a snapshot, called once per scrape: its families, in the order of their first sample. */
export type Collector = (snapshot: Snapshot) => readonly Family[];
