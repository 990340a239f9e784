// The exporter's memory policy. A scrape allocates in one burst (records, samples, the text) and then the
// process idles until the next one. Left to its defaults, V8 grows the young generation to 2 × 16 MiB and
// lets the old generation pile up between full collections, which more than doubles the resident memory
// over the live set. So: keep the young generation at its initial size (cli/heap.ts, shared with the
// sidecar), and once the heap has grown by GROWTH_BYTES over what the last full collection left, run one
// when scrapes have paused for a moment, never on a scrape's path. Not after every scrape: each costs about
// 8 ms of CPU for 1000 domains, and measured, collecting after every scrape kept no less memory resident.
// (Full collections used to make the next scrape run unoptimized; collectors/index.ts explains why no more.)
import v8 from 'node:v8';
import vm from 'node:vm';
import { collectOldGenerationEarly, keepYoungGenerationSmall } from '../cli/heap.js';

/** Quiet time after a scrape before the full collection. */
const IDLE_MS = 1000;
/** Heap growth since the last full collection that warrants the next one. */
const GROWTH_BYTES = 4 * 1024 * 1024;

let fullGc: (() => void) | undefined;
let timer: NodeJS.Timeout | undefined;
let usedAfterLastGc = 0;

const usedHeap = (): number => v8.getHeapStatistics().used_heap_size;

export function configureHeap(): void {
  keepYoungGenerationSmall();
  collectOldGenerationEarly();
  // Read at run time, for new contexts.
  v8.setFlagsFromString('--expose-gc');
  fullGc = vm.runInNewContext('gc') as () => void;
  usedAfterLastGc = usedHeap();
}

/** After a scrape: schedules one full collection after IDLE_MS without further scrapes, if the heap has grown enough. */
export function collectGarbageWhenIdle(): void {
  if (!fullGc) return;
  clearTimeout(timer);
  if (usedHeap() - usedAfterLastGc < GROWTH_BYTES) return;
  timer = setTimeout(() => {
    fullGc!();
    usedAfterLastGc = usedHeap();
  }, IDLE_MS);
  timer.unref();
}
