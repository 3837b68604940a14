/**
 * A bounded FIFO over a circular array: push is O(1) and never allocates once warm; when full, the
 * OLDEST item is dropped and counted exactly (`dropped`). Used by the Redis writer's backlog.
 */
export class BoundedQueue<T> {
  readonly capacity: number;
  private readonly items: Array<T | undefined>;
  private head = 0;
  private count = 0;
  private droppedTotal = 0;

  constructor(capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError('BoundedQueue capacity must be a positive integer');
    this.capacity = capacity;
    this.items = new Array<T | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  /** Items evicted (oldest first) because the queue was full. */
  get dropped(): number {
    return this.droppedTotal;
  }

  push(item: T): void {
    if (this.count === this.capacity) {
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      this.droppedTotal++;
    }
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count++;
  }

  /** Removes and returns up to `max` items from the front, oldest first. */
  take(max: number): T[] {
    const n = Math.min(this.count, Math.max(0, Math.floor(max)));
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) {
      const at = (this.head + i) % this.capacity;
      out[i] = this.items[at] as T;
      this.items[at] = undefined;
    }
    this.head = (this.head + n) % this.capacity;
    this.count -= n;
    return out;
  }

  /** The queued items, oldest first, without removing them. */
  peekAll(): T[] {
    const out = new Array<T>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.items[(this.head + i) % this.capacity] as T;
    return out;
  }
}
