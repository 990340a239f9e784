// Burst deduplication. libvirt reports one guest reboot as 2–3 `reboot` events within ~100 ms, and one
// full disk as 2–4 io-error/io-error-reason pairs in the same millisecond (one per request in flight).
// A burst is every event with the same key within `windowMs` of the burst's FIRST event: a fixed window,
// so an endless stream (a guest in a reboot loop) still yields one action per window, never zero.

export class BurstFilter {
  private readonly bursts = new Map<string, { startedAt: number; count: number }>();

  constructor(
    readonly windowMs: number,
    /** Most keys tracked at once; expired bursts are swept first, then the oldest are dropped. */
    private readonly maxKeys = 10_000,
  ) {}

  /**
   * Registers one event at time `now` (ms). Returns 0 when the event starts a new burst (act on it),
   * otherwise its position within the current burst (1 for the first duplicate, …).
   */
  observe(key: string, now: number): number {
    const burst = this.bursts.get(key);
    if (burst && now - burst.startedAt < this.windowMs && now >= burst.startedAt) {
      burst.count += 1;
      return burst.count - 1;
    }
    if (burst) this.bursts.delete(key);
    else if (this.bursts.size >= this.maxKeys) this.evict(now);
    this.bursts.set(key, { startedAt: now, count: 1 });
    return 0;
  }

  /** Number of bursts currently tracked (for tests and the bounded-memory guarantee). */
  get size(): number {
    return this.bursts.size;
  }

  private evict(now: number): void {
    for (const [key, burst] of this.bursts) if (now - burst.startedAt >= this.windowMs) this.bursts.delete(key);
    // Map iteration order is insertion order: the first keys are the oldest bursts.
    for (const key of this.bursts.keys()) {
      if (this.bursts.size < this.maxKeys) break;
      this.bursts.delete(key);
    }
  }
}
