/**
 * What one `/ws` client may cost the server: a token bucket on the messages it sends, and a throttle on
 * the work a `subscribe` triggers (a fresh snapshot of everything), so no client can stall the process by
 * asking for snapshots in a loop.
 */

/** `ratePerSec` tokens a second, up to `burst` saved; a message spends one. Times are `performance.now()` ms. */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.lastMs = now();
  }

  /** Spends a token; false when none is left (the message is to be dropped). */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastMs) * this.ratePerSec) / 1000);
    this.lastMs = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * Runs `apply(value)` at most once per `intervalMs`; requests in between are merged, the latest value
 * winning, and applied when the interval has passed (so the last request is never lost, only delayed).
 */
export class LatestWinsThrottle<T> {
  private pending: { value: T } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastAppliedMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly intervalMs: number,
    private readonly apply: (value: T) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  request(value: T): void {
    this.pending = { value };
    if (this.timer) return; // already scheduled: it will apply this latest value
    const waitMs = this.lastAppliedMs + this.intervalMs - this.now();
    if (waitMs <= 0) this.run();
    else this.timer = setTimeout(() => this.run(), waitMs);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }

  private run(): void {
    this.timer = null;
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    this.lastAppliedMs = this.now();
    this.apply(pending.value);
  }
}
