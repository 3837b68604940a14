/**
 * Broadcast ring: a bounded buffer where every subscriber reads every item in order through its own
 * cursor (LMAX-style sequences), unlike a shared queue where each item goes to one consumer. A
 * subscriber that falls more than `capacity` behind loses the oldest items (the publisher never waits)
 * and is told exactly how many it missed. Memory is bounded by `capacity` whatever the subscribers do.
 */

export interface Subscription<T> {
  readonly name: string;
  /** Up to `max` items in publish order (empty when none). */
  popBatch(max: number): T[];
  /** Items waiting for this subscriber (at most the ring's capacity). */
  readonly pending: number;
  /** Items this subscriber lost because it fell more than `capacity` behind (drop-oldest), in total. */
  readonly missed: number;
  /** Returns and resets the missed count since the last call. */
  takeMissed(): number;
  /** Items handed to this subscriber so far. */
  readonly popped: number;
  readonly closed: boolean;
  close(): void;
}

export interface SubscriberStats {
  name: string;
  pending: number;
  missed: number;
  popped: number;
}

class RingSubscription<T> implements Subscription<T> {
  /** Absolute sequence of the next item to read. */
  cursor: number;
  private missedTotal = 0;
  private missedSinceTake = 0;
  private poppedTotal = 0;
  private isClosed = false;

  constructor(
    readonly name: string,
    private readonly ring: BroadcastRing<T>,
    readonly onWake: (() => void) | undefined,
  ) {
    this.cursor = ring.published;
  }

  /** Moves the cursor past items the ring has already overwritten and counts them. */
  private catchUp(): void {
    const oldest = this.ring.published - this.ring.capacity;
    if (this.cursor < oldest) {
      const lost = oldest - this.cursor;
      this.missedTotal += lost;
      this.missedSinceTake += lost;
      this.cursor = oldest;
    }
  }

  popBatch(max: number): T[] {
    if (this.isClosed) return [];
    this.catchUp();
    const n = max > 0 ? Math.min(Math.floor(max), this.ring.published - this.cursor) : 0; // NaN → 0
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = this.ring.at(this.cursor + i);
    this.cursor += n;
    this.poppedTotal += n;
    if (n > 0) this.ring.release();
    return out;
  }

  get pending(): number {
    return this.isClosed ? 0 : Math.min(this.ring.published - this.cursor, this.ring.capacity);
  }

  get missed(): number {
    return this.missedTotal + this.overrun();
  }

  takeMissed(): number {
    this.catchUp();
    const n = this.missedSinceTake;
    this.missedSinceTake = 0;
    return n;
  }

  get popped(): number {
    return this.poppedTotal;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.ring.unsubscribe(this);
  }

  private overrun(): number {
    if (this.isClosed) return 0;
    return Math.max(0, this.ring.published - this.ring.capacity - this.cursor);
  }
}

export class BroadcastRing<T> {
  readonly capacity: number;
  private readonly items: Array<T | undefined>;
  private seq = 0;
  /** Slots below this sequence have been cleared (every subscriber is past them). */
  private cleared = 0;
  private readonly subs: Array<RingSubscription<T>> = [];
  private wakeScheduled = false;
  private readonly wake = (): void => {
    this.wakeScheduled = false;
    for (const sub of this.subs.slice()) {
      if (sub.onWake && !sub.closed && sub.pending > 0) {
        try {
          sub.onWake();
        } catch {
          // a subscriber's callback must not break the others
        }
      }
    }
  };

  constructor(capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError('BroadcastRing capacity must be a positive integer');
    this.capacity = capacity;
    this.items = new Array<T | undefined>(capacity).fill(undefined);
  }

  /** Items published so far; also the sequence number of the last one (1-based). */
  get published(): number {
    return this.seq;
  }

  publish(item: T): void {
    // With nobody subscribed nobody can ever read it (new subscribers start at the head): keep nothing.
    this.items[this.seq % this.capacity] = this.subs.length > 0 ? item : undefined;
    this.seq++;
    if (!this.wakeScheduled && this.subs.length > 0) {
      this.wakeScheduled = true;
      queueMicrotask(this.wake);
    }
  }

  /** A new subscriber that sees items published from now on. */
  subscribe(name: string, onWake?: () => void): Subscription<T> {
    const sub = new RingSubscription<T>(name, this, onWake);
    this.subs.push(sub);
    return sub;
  }

  subscribers(): SubscriberStats[] {
    return this.subs.map((s) => ({ name: s.name, pending: s.pending, missed: s.missed, popped: s.popped }));
  }

  /** @internal the item with absolute sequence index `i` (0-based); caller guarantees it is retained. */
  at(i: number): T {
    return this.items[i % this.capacity] as T;
  }

  /** @internal */
  unsubscribe(sub: RingSubscription<T>): void {
    const i = this.subs.indexOf(sub);
    if (i >= 0) this.subs.splice(i, 1);
    this.release();
  }

  /**
   * @internal Drops the ring's references to items every subscriber has read, so they can be
   * garbage-collected young instead of living until overwritten. Each slot is cleared once.
   */
  release(): void {
    let min = this.seq;
    for (const sub of this.subs) if (sub.cursor < min) min = sub.cursor;
    let from = Math.max(this.cleared, this.seq - this.capacity);
    for (; from < min; from++) this.items[from % this.capacity] = undefined;
    if (min > this.cleared) this.cleared = min;
  }
}
