/**
 * Pacing within a venue's documented rate limits (shared/venue-facts.ts `WsLimits`): a sliding-window
 * gate that answers "when may the next event go?" and books that slot, so a burst of subscribes or of
 * new sockets is spread out instead of tripping the venue. One gate per limit scope: per connection
 * (messages, subscribe requests) or per venue (new connections per IP, shared by all its sockets).
 */
import type { RateLimit, WsLimits } from '../../shared/venue-facts.js';

/** Share of a documented rate we use: clocks, network jitter and heartbeats get the rest. */
export const RATE_HEADROOM = 0.8;

/** `limit` scaled by the headroom (at least one event per window); null stays null. */
export function withHeadroom(limit: RateLimit | null, headroom = RATE_HEADROOM): RateLimit | null {
  if (limit === null || !Number.isFinite(limit.count)) return null;
  return { count: Math.max(1, Math.floor(limit.count * headroom)), windowMs: limit.windowMs };
}

export class RateGate {
  /** Booked event times (epoch ms), ascending. */
  private readonly times: number[] = [];
  private readonly limits: RateLimit[];
  private readonly keepMs: number;

  constructor(limits: ReadonlyArray<RateLimit | null>) {
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

  private prune(nowMs: number): void {
    let drop = 0;
    while (drop < this.times.length && this.times[drop]! <= nowMs - this.keepMs) drop++;
    if (drop > 0) this.times.splice(0, drop);
  }
}

/** The per-connection gates of one socket: every client message, and subscribe/unsubscribe requests. */
export function connectionGates(limits: WsLimits | undefined): { messages: RateGate; subscribes: RateGate } {
  return {
    messages: new RateGate([withHeadroom(limits?.messageRate ?? null)]),
    subscribes: new RateGate([withHeadroom(limits?.subscribeRate ?? null)]),
  };
}

/**
 * New-connection pacing per venue (one per venue and FeedManager: the venue counts per IP, and this
 * process is one IP). Configured from the first plan's limits that reach it.
 */
export class ConnectPacer {
  private gate: RateGate | null = null;

  /** Milliseconds to wait before opening one more socket (the slot is booked). */
  delayMs(limits: WsLimits | undefined, nowMs: number): number {
    this.gate ??= new RateGate([withHeadroom(limits?.connectRate ?? null)]);
    return this.gate.reserve(nowMs) - nowMs;
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
