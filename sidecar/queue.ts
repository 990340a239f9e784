// The bounded in-memory queue between the sources and the sink, counted in input bytes.
// A full queue makes `put` wait, which pauses the reading source: nothing is dropped.

interface Sized {
  readonly bytes: number;
}

export class ByteQueue<T extends Sized> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private total = 0;
  private closed = false;
  private spaceWaiters: (() => void)[] = [];
  private itemWaiter: (() => void) | undefined;

  constructor(readonly limitBytes: number) {}

  get bytes(): number {
    return this.total;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** The oldest queued item, if any. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  /**
   * Adds an item, waiting while the queue is over its limit. An item larger than the limit
   * is admitted when nothing else is queued or in flight, so that it cannot block forever.
   */
  async put(item: T): Promise<void> {
    while (!this.closed && this.total > 0 && this.total + item.bytes > this.limitBytes) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
    if (this.closed) throw new Error('queue closed');
    this.items.push(item);
    this.total += item.bytes;
    const waiter = this.itemWaiter;
    this.itemWaiter = undefined;
    waiter?.();
  }

  /**
   * Removes items totalling about `maxBytes` (at least one), waiting while the queue is
   * empty. Returns an empty array once the queue is closed and empty.
   */
  async take(maxBytes: number): Promise<T[]> {
    while (this.length === 0) {
      if (this.closed) return [];
      await new Promise<void>((resolve) => (this.itemWaiter = resolve));
    }
    const out: T[] = [];
    let bytes = 0;
    while (this.length > 0 && (out.length === 0 || bytes + this.items[this.head]!.bytes <= maxBytes)) {
      const item = this.items[this.head]!;
      // The slot lets go of the item at once: a taken batch's records are garbage once delivered,
      // while the array is compacted only now and then.
      this.items[this.head++] = undefined;
      bytes += item.bytes;
      out.push(item);
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Gives back the bytes of items taken by `take` once they are delivered. */
  release(items: readonly T[]): void {
    for (const item of items) this.total -= item.bytes;
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const wake of waiters) wake();
  }

  /** No more puts; `take` drains what is left, then returns []. Waiting puts reject. */
  close(): void {
    this.closed = true;
    const waiter = this.itemWaiter;
    this.itemWaiter = undefined;
    waiter?.();
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const wake of waiters) wake();
  }
}
