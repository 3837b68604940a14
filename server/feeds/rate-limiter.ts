/**
 * Pacing within a venue's documented rate limits (shared/venue-facts.ts `WsLimits`): a sliding-window
 * limiter that answers "when may the next event go?" and books that slot, so a burst of subscribes or of
 * new sockets is spread out instead of tripping the venue. One limiter per limit scope: per connection
 * (messages, subscribe requests) or per venue (new connections per IP, shared by all its sockets).
 *
 * The venue counts ARRIVAL times, which trail our timers whenever the event loop or the network is late.
 * So slots are booked when an event actually goes (not when it was planned: late timers firing together
 * would otherwise make a burst), messages are spaced evenly within their short window (a delayed batch
 * cannot pile onto the next one), and a new socket is booked when its handshake settles (the latest its
 * arrival can be), a socket still in its handshake counting against the limit until then.
 */
import type { RateLimit, WsLimits } from '../../shared/venue-facts.js';

/** Share of a documented rate we use: clocks, network jitter and heartbeats get the rest. */
export const RATE_HEADROOM = 0.8;

/** `limit` scaled by the headroom (at least one event per window); null stays null. */
export function withHeadroom(limit: RateLimit | null, headroom = RATE_HEADROOM): RateLimit | null {
  if (limit === null || !Number.isFinite(limit.count)) return null;
  return { count: Math.max(1, Math.floor(limit.count * headroom)), windowMs: limit.windowMs };
}

export class RateLimiter {
  /** Booked event times (epoch ms), ascending. */
  private readonly times: number[] = [];
  private readonly limits: RateLimit[];
  private readonly keepMs: number;

  /** `minGapMs`: at least this long between consecutive events (even spacing instead of a burst per window). */
  constructor(
    limits: ReadonlyArray<RateLimit | null>,
    private readonly minGapMs = 0,
  ) {
    this.limits = limits.filter((l): l is RateLimit => l !== null && l.count > 0);
    this.keepMs = Math.max(0, ...this.limits.map((l) => l.windowMs));
  }

  /** No limit to keep (every event may go at once). */
  get unlimited(): boolean {
    return this.limits.length === 0;
  }

  /** The earliest time ≥ max(nowMs, notBeforeMs) at which one more event stays within every limit. */
  earliest(nowMs: number, notBeforeMs = 0): number {
    this.prune(nowMs);
    let t = Math.max(nowMs, notBeforeMs);
    const n = this.times.length;
    for (const l of this.limits) if (n >= l.count) t = Math.max(t, this.times[n - l.count]! + l.windowMs);
    if (n > 0 && this.minGapMs > 0) t = Math.max(t, this.times[n - 1]! + this.minGapMs);
    return t;
  }

  /** Books an event at `atMs` (from `earliest`, or now for an event that cannot wait, like a heartbeat). */
  book(atMs: number): void {
    if (this.unlimited) return;
    let i = this.times.length;
    while (i > 0 && this.times[i - 1]! > atMs) i--;
    this.times.splice(i, 0, atMs);
  }

  /** Books the earliest slot and returns it. */
  reserve(nowMs: number, notBeforeMs = 0): number {
    const t = this.earliest(nowMs, notBeforeMs);
    this.book(t);
    return t;
  }

  /** Booked times after `sinceMs`, ascending. */
  bookedSince(sinceMs: number): number[] {
    return this.times.filter((t) => t > sinceMs);
  }

  private prune(nowMs: number): void {
    let drop = 0;
    while (drop < this.times.length && this.times[drop]! <= nowMs - this.keepMs) drop++;
    if (drop > 0) this.times.splice(0, drop);
  }
}

/** Even spacing within a rate's window (`windowMs / count`, after headroom); 0 without a rate. */
export function evenGapMs(limit: RateLimit | null): number {
  const l = withHeadroom(limit);
  return l ? l.windowMs / l.count : 0;
}

/**
 * The per-connection limiters of one socket: every client message (spaced evenly within the short message
 * window), and subscribe/unsubscribe requests (a long window: no spacing, the window alone).
 */
export function connectionLimiters(limits: WsLimits | undefined): { messages: RateLimiter; subscribes: RateLimiter } {
  const messageRate = limits?.messageRate ?? null;
  return {
    messages: new RateLimiter([withHeadroom(messageRate)], evenGapMs(messageRate)),
    subscribes: new RateLimiter([withHeadroom(limits?.subscribeRate ?? null)]),
  };
}

/** A socket in its handshake longer than this is taken as settled (the client's handshake timeout is 10 s). */
const HANDSHAKE_BOUND_MS = 15_000;

/**
 * New-connection pacing per venue (one per venue and FeedManager: the venue counts per IP, and this
 * process is one IP). Configured from the first plan's limits that reach it. The venue sees a connect
 * somewhere between our `begin` and the handshake's end; it is booked at the end, and until then it
 * counts as in the window. So with every earlier connect settled at or before `t - windowMs` excluded,
 * at most the headroom's count reach the venue in any window, however late timers or handshakes are.
 */
export class ConnectPacer {
  private limiter: RateLimiter | null = null;
  private limit: RateLimit | null = null;
  /** Connects begun and not yet settled: id → begin time. */
  private readonly pending = new Map<number, number>();
  private nextId = 0;

  /**
   * Milliseconds to wait before asking again (0 = one more socket may go now: call `begin` at once).
   * Books nothing: call again when the wait is over, the answer accounts for connects settled meanwhile.
   */
  delayMs(limits: WsLimits | undefined, nowMs: number): number {
    this.configure(limits);
    if (this.limiter === null || this.limit === null) return 0;
    for (const [id, began] of this.pending) if (nowMs - began > HANDSHAKE_BOUND_MS) this.settle(id, nowMs);
    const free = this.limit.count - this.pending.size;
    // In-flight handshakes fill the window until they settle: re-check shortly (a settle is usually milliseconds away).
    if (free <= 0) return Math.max(1, Math.min(50, this.limit.windowMs / this.limit.count));
    // `free` slots left for settled connects: the one `free` places back must have left the window.
    const wait = new RateLimiter([{ count: free, windowMs: this.limit.windowMs }]);
    for (const t of this.limiter.bookedSince(nowMs - this.limit.windowMs)) wait.book(t);
    return Math.max(0, wait.earliest(nowMs) - nowMs);
  }

  /** Marks one socket's connect as begun now; call the returned function once its handshake settles (open, refused, failed). */
  begin(nowMs: number): (settledMs: number) => void {
    if (this.limiter === null) return () => {};
    const id = this.nextId++;
    this.pending.set(id, nowMs);
    return (settledMs) => this.settle(id, settledMs);
  }

  private settle(id: number, atMs: number): void {
    if (!this.pending.delete(id)) return;
    this.limiter?.book(atMs);
  }

  private configure(limits: WsLimits | undefined): void {
    if (this.limiter !== null || limits === undefined) return;
    this.limit = withHeadroom(limits.connectRate);
    if (this.limit !== null) this.limiter = new RateLimiter([this.limit]);
  }
}

/** One ConnectPacer per venue id. */
export class ConnectPacers {
  private readonly pacers = new Map<string, ConnectPacer>();

  for(venue: string): ConnectPacer {
    let p = this.pacers.get(venue);
    if (!p) this.pacers.set(venue, (p = new ConnectPacer()));
    return p;
  }
}
