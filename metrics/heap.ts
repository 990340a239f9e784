// The exporter's memory policy. A scrape allocates in one burst (records, samples, the text) and then the
// process idles until the next one. Left to its defaults, V8 grows the young generation to 2 × 16 MiB and
// lets the old generation pile up between full collections, which more than doubles the resident memory
// over the live set. So: keep the young generation at its initial size (cli/heap.ts, shared with the
// sidecar), and run one full collection once scrapes have paused for a moment (it costs tens of
// milliseconds: never on a scrape's path).
import v8 from 'node:v8';
import vm from 'node:vm';
import { keepYoungGenerationSmall } from '../cli/heap.js';

/** Quiet time after a scrape before the full collection. */
const IDLE_MS = 1000;

let fullGc: (() => void) | undefined;
let timer: NodeJS.Timeout | undefined;

export function configureHeap(): void {
  keepYoungGenerationSmall();
  // Read at run time, for new contexts.
  v8.setFlagsFromString('--expose-gc');
  fullGc = vm.runInNewContext('gc') as () => void;
}

/** Schedules one full garbage collection after IDLE_MS without further calls. */
export function collectGarbageWhenIdle(): void {
  if (!fullGc) return;
  clearTimeout(timer);
  timer = setTimeout(fullGc, IDLE_MS);
  timer.unref();
}
