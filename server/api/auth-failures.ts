/**
 * Failed authentications per client address in a fixed window: after `max` failures the address is refused
 * (429) until its window ends, whatever token it sends, so a token cannot be guessed at request speed.
 * Bounded memory: expired entries are dropped as new addresses arrive, and past `maxAddresses` the oldest go.
 */
export interface AuthFailureLimit {
  max: number;
  windowMs: number;
}

interface Entry {
  failures: number;
  windowStartMs: number;
}

export class AuthFailureLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly limit: AuthFailureLimit,
    private readonly now: () => number = Date.now,
    private readonly maxAddresses = 10_000,
  ) {}

  /** ms until `address` may try again; 0 when it is not blocked. */
  blockedForMs(address: string): number {
    const e = this.entries.get(address);
    if (!e) return 0;
    const left = e.windowStartMs + this.limit.windowMs - this.now();
    if (left <= 0) {
      this.entries.delete(address);
      return 0;
    }
    return e.failures >= this.limit.max ? left : 0;
  }

  recordFailure(address: string): void {
    const now = this.now();
    const e = this.entries.get(address);
    if (e && now - e.windowStartMs < this.limit.windowMs) {
      e.failures++;
      return;
    }
    if (e) this.entries.delete(address);
    if (this.entries.size >= this.maxAddresses) this.prune(now);
    this.entries.set(address, { failures: 1, windowStartMs: now });
  }

  get trackedAddresses(): number {
    return this.entries.size;
  }

  private prune(now: number): void {
    for (const [address, e] of this.entries) if (now - e.windowStartMs >= this.limit.windowMs) this.entries.delete(address);
    // Map order is insertion order: the oldest windows go first. Freeing a tenth at once keeps the scan
    // above amortised (one pass per maxAddresses / 10 new addresses, not one per address).
    const target = Math.floor(this.maxAddresses * 0.9);
    for (const address of this.entries.keys()) {
      if (this.entries.size <= target) break;
      this.entries.delete(address);
    }
  }
}
