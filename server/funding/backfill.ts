/**
 * Funding-history backfill: at start-up, the last `windowMs` (30 days) of settlements of every listed leg,
 * read from each venue's public history endpoint (adapter `fundingHistory`) into the store.
 *
 * - Paced: one loop per venue, one request at a time, at most `share` (½) of the venue's documented
 *   requests per second and never more than `maxRequestsPerSecond` (10), through a RateLimiter.
 * - Resumable: every page marks the range it covered in the store (`markBackfilled`, kept in Redis); a
 *   restart reads only the parts of the new window not covered yet (the gap since the last run, and what
 *   the previous run did not finish).
 * - Visible: `status()` (GET /api/funding/history/status, System panel, /metrics) and a log line per venue
 *   when it starts, at each quarter of its legs, and when done.
 * - Never blocking: `start()` returns at once; the loops run in the background, wait while the venue has no
 *   listed legs yet (discovery still running) and pick up legs listed later.
 */
import type { Logger } from 'pino';
import type { Exchange } from '../../shared/exchanges.js';
import type { FundingBackfillStatus, FundingBackfillVenue } from '../../shared/funding-history.js';
import type { FetchJson } from '../feeds/adapter.js';
import { RateLimiter } from '../feeds/rate-limiter.js';
import { MAX_DERIVED_INTERVAL_MS } from './history-points.js';
import { subtractRanges, type MsRange } from './history-ranges.js';
import { DAY_MS, legKeyOf, type FundingHistoryStore } from './history-store.js';
import type { FundingLegRef, SettledFunding, VenueFundingHistory } from './history-types.js';

export const BACKFILL_WINDOW_MS = 30 * DAY_MS;
/** Share of a venue's documented request rate the backfill uses (the live feeds' REST calls share the limit). */
export const BACKFILL_RATE_SHARE = 0.5;
export const BACKFILL_MAX_REQUESTS_PER_SECOND = 10;
/** Pages read for one range before giving up on it (a venue answering the same page forever). */
const MAX_PAGES_PER_RANGE = 500;
const MAX_ATTEMPTS = 3;

/** A listed leg to backfill: its native symbol and current interval (for settlements nothing else dates). */
export interface BackfillLeg extends FundingLegRef {
  symbol: string;
  intervalMs: number;
}

/** A venue's history endpoint and the REST origin it is read from. */
export interface BackfillSource {
  history: VenueFundingHistory;
  rest: string;
}

export interface FundingBackfillOptions {
  store: FundingHistoryStore;
  /** Venues to backfill: their history endpoint, or null when the venue has none. */
  sources: Partial<Record<Exchange, BackfillSource | null>>;
  /** The listed legs now (engine); asked again whenever a venue's loop is idle. */
  legs: () => BackfillLeg[];
  fetchJson: FetchJson;
  now: () => number;
  logger?: Logger;
  windowMs?: number;
  share?: number;
  maxRequestsPerSecond?: number;
  /** How long an idle venue loop waits before looking for new legs (ms). Default 10 s. */
  idleMs?: number;
  /** Backoff after a failed request (ms, doubled per attempt). Default 2 s. */
  retryMs?: number;
}

type VenueState = FundingBackfillVenue & { startedMs: number; known: Set<string>; finished: Set<string> };

/** The pace for a venue: requests per second within its documented rate. */
export function backfillPace(history: VenueFundingHistory, share = BACKFILL_RATE_SHARE, max = BACKFILL_MAX_REQUESTS_PER_SECOND): number {
  return Math.min(max, history.requestsPerSecond * share);
}

export class FundingBackfill {
  private readonly venues = new Map<Exchange, VenueState>();
  private stopped = false;
  private startedMs: number | null = null;
  private readonly wakers = new Set<() => void>();
  private readonly loops: Promise<void>[] = [];
  private readonly windowMs: number;

  constructor(private readonly opts: FundingBackfillOptions) {
    this.windowMs = opts.windowMs ?? BACKFILL_WINDOW_MS;
    for (const [venue, source] of Object.entries(opts.sources) as Array<[Exchange, BackfillSource | null]>) {
      this.venues.set(venue, {
        venue,
        state: source ? 'waiting' : 'unsupported',
        legs: 0,
        legsDone: 0,
        legsFailed: 0,
        requests: 0,
        points: 0,
        errors: 0,
        requestsPerSecond: source ? backfillPace(source.history, opts.share, opts.maxRequestsPerSecond) : 0,
        intervalsFromInstrument: 0,
        lastError: null,
        startedMs: 0,
        known: new Set(),
        finished: new Set(),
      });
    }
  }

  /** Starts one background loop per venue with a history endpoint; returns at once. */
  start(): void {
    if (this.startedMs !== null) return;
    this.startedMs = this.opts.now();
    for (const [venue, source] of Object.entries(this.opts.sources) as Array<[Exchange, BackfillSource | null]>) {
      if (!source) continue;
      this.loops.push(this.runVenue(venue, source).catch((err: unknown) => this.opts.logger?.error({ err, venue }, 'funding backfill: venue loop failed')));
    }
  }

  /** Stops the loops (a request in flight completes); resolves when they have ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.wakers) wake();
    await Promise.all(this.loops);
  }

  status(): FundingBackfillStatus {
    const s = this.opts.store.stats();
    return {
      windowMs: this.windowMs,
      retentionMs: this.opts.store.retentionMs,
      store: s.kind,
      storedLegs: s.legs,
      storedPoints: s.points,
      startedMs: this.startedMs,
      venues: [...this.venues.values()].map(({ startedMs: _s, known: _k, finished: _f, ...v }) => ({ ...v })),
    };
  }

  private async runVenue(venue: Exchange, source: BackfillSource): Promise<void> {
    const st = this.venues.get(venue)!;
    const pace = st.requestsPerSecond;
    // One request per 1/pace seconds: an even gap, booked when the request goes.
    const limiter = new RateLimiter([{ count: 1, windowMs: 1000 / pace }]);
    const log = this.opts.logger?.child({ component: 'funding-backfill', venue });
    while (!this.stopped) {
      const legs = this.opts.legs().filter((l) => l.venue === venue);
      for (const l of legs) st.known.add(legKeyOf(l));
      st.legs = st.known.size;
      const todo = legs.filter((l) => !st.finished.has(legKeyOf(l)));
      if (todo.length === 0) {
        if (st.state === 'running') {
          st.state = 'done';
          log?.info({ legs: st.legs, points: st.points, requests: st.requests, failed: st.legsFailed, seconds: Math.round((this.opts.now() - st.startedMs) / 1000) }, `funding backfill ${venue}: done`);
        }
        await this.sleep(this.opts.idleMs ?? 10_000);
        continue;
      }
      if (st.state !== 'running') {
        st.state = 'running';
        st.startedMs = this.opts.now();
        log?.info({ legs: todo.length, requestsPerSecond: pace, windowDays: this.windowMs / DAY_MS }, `funding backfill ${venue}: started`);
      }
      for (const leg of todo) {
        if (this.stopped) return;
        const ok = await this.backfillLeg(leg, source, limiter, st);
        if (this.stopped) return; // an unfinished leg is neither done nor failed
        st.finished.add(legKeyOf(leg));
        if (ok) st.legsDone++;
        else st.legsFailed++;
        const n = st.legsDone + st.legsFailed;
        const quarter = Math.max(1, Math.ceil(st.legs / 4));
        if (n % quarter === 0 && n < st.legs) log?.info({ legsDone: st.legsDone, legs: st.legs, points: st.points, requests: st.requests }, `funding backfill ${venue}: ${n}/${st.legs} legs`);
      }
    }
  }

  /** Reads the parts of the leg's window not covered yet. false = gave up after repeated errors. */
  private async backfillLeg(leg: BackfillLeg, source: BackfillSource, limiter: RateLimiter, st: VenueState): Promise<boolean> {
    const nowMs = this.opts.now();
    const window: MsRange = { fromMs: nowMs - this.windowMs, toMs: nowMs };
    for (const part of subtractRanges(window, this.opts.store.backfilled(leg))) {
      let range: MsRange | null = part;
      for (let page = 0; range !== null && page < MAX_PAGES_PER_RANGE; page++) {
        if (this.stopped) return true;
        const res = await this.fetchWithRetry(leg, source, range, limiter, st);
        if (res === null) return this.stopped; // stopping is not a failure of the leg
        st.points += this.opts.store.add(leg, this.dated(leg, res.points, st));
        // What this page settled: the requested range minus what the venue says is left.
        for (const covered of res.remaining ? subtractRanges(range, [res.remaining]) : [range]) this.opts.store.markBackfilled(leg, covered);
        range = res.remaining;
      }
    }
    return true;
  }

  private async fetchWithRetry(leg: BackfillLeg, source: BackfillSource, range: MsRange, limiter: RateLimiter, st: VenueState) {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const at = limiter.earliest(this.opts.now());
      const wait = at - this.opts.now();
      if (wait > 0) await this.sleep(wait);
      if (this.stopped) return null;
      limiter.book(this.opts.now());
      st.requests++;
      try {
        return await source.history.fetch(source.rest, leg.symbol, range.fromMs, range.toMs, this.opts.fetchJson);
      } catch (err) {
        st.errors++;
        st.lastError = `${leg.symbol}: ${err instanceof Error ? err.message : String(err)}`.slice(0, 200);
        this.opts.logger?.debug({ err, venue: leg.venue, symbol: leg.symbol }, 'funding backfill: request failed');
        await this.sleep((this.opts.retryMs ?? 2000) * 2 ** attempt);
      }
    }
    return null;
  }

  /**
   * Settlements whose interval the page could not give get it from the previous settlement held in the
   * store, else the instrument's current interval (counted: `intervalsFromInstrument`).
   */
  private dated(leg: BackfillLeg, points: readonly SettledFunding[], st: VenueState): SettledFunding[] {
    return points.map((p) => {
      if (p.intervalMs !== null) return p;
      const before = this.opts.store.settlements(leg, p.timeMs - MAX_DERIVED_INTERVAL_MS, p.timeMs - 1);
      const prev = before[before.length - 1];
      if (prev) return { ...p, intervalMs: Math.round((p.timeMs - prev.timeMs) / 60_000) * 60_000 };
      st.intervalsFromInstrument++;
      return { ...p, intervalMs: leg.intervalMs > 0 ? leg.intervalMs : null };
    });
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      this.wakers.add(wake);
    });
  }
}
