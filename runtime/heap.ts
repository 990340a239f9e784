// The memory policy of the long-running roles, in one place. They allocate in bursts (a scrape, a read chunk)
// and then idle; V8's defaults are tuned for the opposite (grow the heap to go fast), which keeps several
// times the live set resident. The V8 flags are read at run time, so they take effect on a running process.
// bench/RESULTS.md has the figures behind each choice.
import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Left to its defaults, V8 grows the young generation to 2 × 16 MiB as soon as allocation is busy; most of
 * that is resident and none of it is needed: objects live for one scrape or one read chunk. It stays at its
 * initial size instead (1 MiB semi-spaces): more frequent scavenges of the same few live objects.
 */
export function keepYoungGenerationSmall(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * Hot code is optimized by TurboFan alone, without Maglev, the mid-tier compiler that Node.js 22 and later run
 * before it (Node.js 20 leaves it off, so there this changes nothing). Maglev shortens the warm-up; its
 * compiler's code and working memory and the code it makes stay resident: on the image's Node.js 24, 10-12
 * MiB of a 5000-domain exporter's peak. TurboFan still optimizes a scrape's hot loops (bench/RESULTS.md#exporter).
 */
export function optimizeWithTurbofanOnly(): void {
  v8.setFlagsFromString('--no-maglev');
}

/**
 * A full collection once the old generation grew by half over what the last one kept. By default V8 lets it
 * grow several-fold first, and promoted garbage of a busy sidecar stays resident until then. The collections
 * this adds are short (bench/RESULTS.md#exporter).
 */
export function collectOldGenerationEarly(): void {
  v8.setFlagsFromString('--heap-growing-percent=50');
}

/**
 * Runs JavaScript in V8's interpreter only: no baseline or optimizing compiler, type feedback allocated lazily
 * (`--lite-mode`), nothing compiled ahead of its first call (`--max-lazy`). For a process whose work is small
 * and rare, such as the HA agent's (a domain event now and then, a little JavaScript for each), the compilers
 * cost more memory than they save time: the compiler's own code and working memory, and the compiled code,
 * stay resident after a burst. Not for the exporter or the sidecar, whose throughput is their job.
 */
const INTERPRET_ONLY_FLAGS: readonly string[] = ['--lite-mode', '--no-sparkplug', '--no-maglev', '--no-turbofan', '--max-lazy'];

/**
 * The same policy from start-up, where the agent's command restarts with it (runtime/start-flags.ts): then
 * nothing of Node.js's bootstrap or the CLI is compiled for speed either, 2-3 MiB less after a burst on the
 * image's Node.js 24 (bench/RESULTS.md#events). On node's command line `--lite-mode` alone does it: there V8
 * applies what it implies (no Sparkplug, Maglev or TurboFan, feedback allocated lazily); one long-standing
 * flag rather than five, since an unknown flag on the command line stops the process (at run time V8 only
 * complains). Node.js's own `--jitless` (the interpreter for regular expressions too) measured 5 MiB worse.
 */
export const INTERPRET_ONLY_START_FLAGS: readonly string[] = ['--lite-mode'];

/**
 * INTERPRET_ONLY_FLAGS set at run time: what a process that could not restart with INTERPRET_ONLY_START_FLAGS
 * (Node.js 20) can do; in one that did, it changes nothing. Before the role's modules load, so that nothing of
 * them is compiled for speed. Each compiler is turned off by name: V8 applies what `--lite-mode` implies only at
 * start-up, and from Node.js 22 on (V8 12) the compilers no longer ask lite mode itself, so on the image's
 * Node.js 24 the flag alone left all three running: 75-95 MiB after a burst instead of 61-71
 * (bench/RESULTS.md#events).
 */
export function interpretOnly(): void {
  for (const flag of INTERPRET_ONLY_FLAGS) v8.setFlagsFromString(flag);
}

/**
 * Holds the objects of the last burst of work (the exporter's last scrape) until the next burst replaces
 * them. Why keep garbage alive: V8 frees a hidden class once no object of it is left, and with it discards
 * all code optimized for that shape. If nothing of a scrape outlived it, each full collection between scrapes
 * would throw away the optimized collectors and formatting code, and the next scrape would run unoptimized
 * while they are compiled again. What matters is that objects of each shape live on, not their data: the
 * caller hands over the burst's objects after letting go of what they hold (the exporter's families with
 * their indexes emptied), so holding them costs a few objects, not a scrape's memory.
 */
export class HeldUntilNext<T> {
  private value: T | undefined;

  /** Keeps `value` alive and releases what the previous call kept. */
  hold(value: T): void {
    this.value = value;
  }

  get held(): T | undefined {
    return this.value;
  }
}

/**
 * Full collections at quiet moments, never on a request's path: after a burst, once the heap has grown by
 * `growthBytes` over what the last full collection left, one runs when no further burst came for `idleMs`.
 * Not after every burst: each costs CPU in proportion to the live set and kept no less memory resident.
 */
export class IdleCollector {
  private readonly fullGc: () => void;
  private timer: NodeJS.Timeout | undefined;
  private usedAfterLastGc: number;

  constructor(
    private readonly idleMs: number,
    private readonly growthBytes: number,
  ) {
    // --expose-gc is read when a context is created: a new context gets `gc` without the process flag.
    v8.setFlagsFromString('--expose-gc');
    this.fullGc = vm.runInNewContext('gc') as () => void;
    this.usedAfterLastGc = usedHeap();
  }

  /** Call after each burst of work. */
  afterBurst(): void {
    clearTimeout(this.timer);
    if (usedHeap() - this.usedAfterLastGc < this.growthBytes) return;
    this.timer = setTimeout(() => {
      this.fullGc();
      this.usedAfterLastGc = usedHeap();
    }, this.idleMs);
    this.timer.unref();
  }
}

const usedHeap = (): number => v8.getHeapStatistics().used_heap_size;
