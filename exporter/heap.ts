// The exporter's use of the memory policy (runtime/heap.ts says why): a scrape allocates in one burst, then
// the process idles until the next one.
import { collectOldGenerationEarly, IdleCollector, keepYoungGenerationSmall, optimizeWithTurbofanOnly } from '../runtime/heap.js';

/** Quiet time after a scrape before the full collection. */
const IDLE_MS = 1000;
/** Heap growth since the last full collection that warrants the next one. */
const GROWTH_BYTES = 4 * 1024 * 1024;

let collector: IdleCollector | undefined;

export function configureHeap(): void {
  optimizeWithTurbofanOnly();
  keepYoungGenerationSmall();
  collectOldGenerationEarly();
  collector = new IdleCollector(IDLE_MS, GROWTH_BYTES);
}

/** After a scrape: one full collection once scrapes paused for IDLE_MS, if the heap has grown enough. */
export function collectGarbageWhenIdle(): void {
  collector?.afterBurst();
}
