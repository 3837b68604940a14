/**
 * The funding board (GET /api/funding, the dashboard's Funding tab): per instrument × venue × settle, the
 * leg's latest funding read from the engine's store through a small port (never on the detection path),
 * normalised to 8 h and APR, its own next settlement, the last settled rate, and the instrument's best
 * carry pair. A leg whose interval the venue never stated ("funding unknown", interval 0 in the store) gets a
 * row with its rate and null interval / 8 h / APR (nothing normalised from a guess), outside the best carry.
 *
 * The last settled rate is tracked here, live: the latest figure seen for a settlement time T is booked as
 * settled once T has passed (or the venue has rolled its next settlement beyond T). `sample()` runs on a
 * timer (app.ts) and before every answer; a figure published less than a sampling period before T is not
 * missed when `settlementRate` (the engine's record of the last rate published before T) is given.
 *
 * Realised averages (`realised.avg*`) come from the history source (`history`, app.ts: the funding-history
 * store through server/funding/realised.ts); null without one. Each booked settlement goes to `onSettled`.
 */
import type { Exchange } from '../../shared/exchanges.js';
import { aprPct, HOUR_MS, rate8hBps, type FundingRow, type RealisedFunding, type SettledFunding } from '../../shared/funding.js';
import type { SettleCurrency } from '../../shared/instrument-key.js';
import type { SettledFunding as SettledPoint } from './history-types.js';
import { SAME_SETTLEMENT_MS } from './history-store.js';

/** One leg's latest funding as the store holds it (fraction per `intervalMs`). */
export interface FundingLeg {
  instrument: string;
  venue: Exchange;
  settle: SettleCurrency;
  symbol: string;
  rate: number;
  intervalMs: number;
  /** 0 when the venue gave none. */
  nextFundingMs: number;
  predicted: boolean;
  receivedMs: number;
  /** The venue's feed is down or disabled: the figures are its last ones, not current. */
  feedDown: boolean;
  /** Open interest and 24 h volume of the leg's market, USD; null (or absent) = the venue does not publish it. */
  openInterestUsd?: number | null;
  volume24hUsd?: number | null;
}

/** Where the legs come from (app.ts: the engine's instrument map + `Engine.funding`). */
export type FundingLegSource = () => FundingLeg[];

/** What the legs source needs of the engine (server/engine `Engine`): its instrument map and funding read. */
export interface EngineFundingView {
  readonly instruments: {
    readonly size: number;
    has(id: number): boolean;
    instrumentOf(id: number): string;
    exchangeOf(id: number): Exchange;
    settleOf(id: number): SettleCurrency;
    symbolOf(id: number): string;
  };
  isExchangeDown(exchange: Exchange): boolean;
  /** Out of the scanned universe (delisted or excluded) when false. */
  readonly store: { isListed(id: number): boolean };
  funding(instrument: string, exchange: Exchange, settle?: string): { rate: number; intervalMs: number; nextFundingMs: number; predicted: boolean; receivedMs: number } | null;
  /** Open interest / 24 h volume of a leg (USD, null = not published); absent = none known. */
  marketStats?(instrument: string, exchange: Exchange, settle?: string): { openInterestUsd: number | null; volume24hUsd: number | null } | null;
}

/** Every listed leg that has had funding, read through `Engine.funding` (plain store reads). */
export function engineFundingLegs(engine: EngineFundingView): FundingLegSource {
  return () => {
    const ins = engine.instruments;
    const out: FundingLeg[] = [];
    const down = new Map<Exchange, boolean>();
    for (let id = 0; id < ins.size; id++) {
      if (!ins.has(id) || !engine.store.isListed(id)) continue;
      const instrument = ins.instrumentOf(id);
      const venue = ins.exchangeOf(id);
      const settle = ins.settleOf(id);
      const f = engine.funding(instrument, venue, settle);
      if (!f) continue;
      let feedDown = down.get(venue);
      if (feedDown === undefined) down.set(venue, (feedDown = engine.isExchangeDown(venue)));
      const stats = engine.marketStats?.(instrument, venue, settle) ?? null;
      out.push({
        instrument,
        venue,
        settle,
        symbol: ins.symbolOf(id),
        rate: f.rate,
        intervalMs: f.intervalMs,
        nextFundingMs: f.nextFundingMs,
        predicted: f.predicted,
        receivedMs: f.receivedMs,
        feedDown,
        openInterestUsd: stats?.openInterestUsd ?? null,
        volume24hUsd: stats?.volume24hUsd ?? null,
      });
    }
    return out;
  };
}

/** Realised averages per leg (bps per 8 h), from a funding history; absent = none yet. */
export interface RealisedSource {
  readonly name: string;
  realised(instrument: string, venue: Exchange, settle: SettleCurrency, nowMs: number): RealisedFunding;
  /** The leg's latest settlement at or before nowMs in the history (a venue's settled figure), or null. */
  lastSettled?(instrument: string, venue: Exchange, settle: SettleCurrency, nowMs: number): SettledPoint | null;
}

export interface FundingFilter {
  instrument?: string;
  venue?: Exchange;
  settle?: SettleCurrency;
  /** Rows whose market has at least this open interest / 24 h volume (USD); unknown figures do not pass. */
  minOpenInterestUsd?: number;
  minVolume24hUsd?: number;
}

/** A leg (or row) passes the liquidity minimums of the filter (unset or 0 = off; an unknown figure does not pass). */
function liquidEnough(leg: { openInterestUsd?: number | null; volume24hUsd?: number | null }, filter: FundingFilter): boolean {
  const oi = leg.openInterestUsd ?? null;
  const vol = leg.volume24hUsd ?? null;
  if (filter.minOpenInterestUsd && !(oi !== null && oi >= filter.minOpenInterestUsd)) return false;
  return !filter.minVolume24hUsd || (vol !== null && vol >= filter.minVolume24hUsd);
}

/**
 * The rows of a whole board (`rows()` without a filter) that pass `filter`: the same rows `rows(filter)`
 * gives, as the best carry is computed over every leg of an instrument before filtering (an edge filters
 * the engine's published board with it).
 */
export function filterFundingRows(all: readonly FundingRow[], filter: FundingFilter): FundingRow[] {
  return all.filter(
    (r) => (!filter.instrument || r.instrument === filter.instrument) && (!filter.venue || r.venue === filter.venue) && (!filter.settle || r.settle === filter.settle) && liquidEnough(r, filter),
  );
}

const NO_HISTORY: RealisedFunding = { avg24h: null, avg3d: null, avg7d: null, avg30d: null };

const legKey = (l: { instrument: string; venue: string; settle: string }): string => `${l.instrument}|${l.venue}|${l.settle}`;

interface Pending {
  rate: number;
  intervalMs: number;
  forMs: number;
  predicted: boolean;
}

/** Called once per settlement the tracker books, with the rate as a fraction per its interval (the funding-history store records it). */
export type SettledListener = (leg: FundingLeg, settled: SettledPoint) => void;

/**
 * The last current rate the venue published before the leg's settlement at `fundingMs`, captured as each
 * record arrived (app.ts: Engine.settlementRate); null when none was seen. It catches a rate published
 * between two samples, which the sampled figure misses.
 */
export type SettlementRateLookup = (leg: FundingLeg, fundingMs: number) => number | null;

/** Books, per leg, the last figure published before each settlement once that settlement has passed. */
export class SettledFundingTracker {
  private readonly pending = new Map<string, Pending>();
  private readonly settled = new Map<string, SettledFunding>();

  constructor(
    private readonly onSettled: SettledListener | null = null,
    private readonly settlementRate: SettlementRateLookup | null = null,
  ) {}

  observe(leg: FundingLeg, nowMs: number): void {
    const key = legKey(leg);
    const p = this.pending.get(key);
    // The settlement passed, or the venue already names a later one (its clock ran ahead of ours).
    if (p && (nowMs >= p.forMs || leg.nextFundingMs > p.forMs)) {
      // The venue's last current rate for that settlement wins over the last sampled figure (a current one: not predicted).
      const exact = this.settlementRate?.(leg, p.forMs) ?? null;
      const rate = exact !== null && Number.isFinite(exact) ? exact : p.rate;
      const predicted = rate === exact ? false : p.predicted;
      const booked: SettledFunding = { rateIntervalBps: rate * 1e4, rate8hBps: rate8hBps(rate, p.intervalMs), intervalMs: p.intervalMs, settledMs: p.forMs, predicted };
      this.settled.set(key, booked);
      this.pending.delete(key);
      this.onSettled?.(leg, { timeMs: p.forMs, rate, intervalMs: p.intervalMs });
    }
    if (leg.nextFundingMs > nowMs && Number.isFinite(leg.rate) && leg.intervalMs > 0) {
      this.pending.set(key, { rate: leg.rate, intervalMs: leg.intervalMs, forMs: leg.nextFundingMs, predicted: leg.predicted });
    }
  }

  lastSettled(leg: { instrument: string; venue: string; settle: string }): SettledFunding | null {
    return this.settled.get(legKey(leg)) ?? null;
  }
}

/** The best carry of one instrument's legs: short the highest rate, long the lowest, on two different venues. */
export interface BestCarry {
  long: FundingLeg;
  short: FundingLeg;
  carry8hBps: number;
  crossQuote: boolean;
}

export function bestCarry(legs: readonly FundingLeg[]): BestCarry | null {
  let best: BestCarry | null = null;
  for (const long of legs) {
    const l8 = rate8hBps(long.rate, long.intervalMs);
    if (!Number.isFinite(l8) || long.feedDown) continue; // a down venue's last figures are not a pair to trade
    for (const short of legs) {
      if (short.venue === long.venue || short.feedDown) continue;
      const s8 = rate8hBps(short.rate, short.intervalMs);
      if (!Number.isFinite(s8)) continue;
      const carry = s8 - l8;
      if (!best || carry > best.carry8hBps) best = { long, short, carry8hBps: carry, crossQuote: long.settle !== short.settle };
    }
  }
  return best;
}

export interface FundingBoardOptions {
  legs: FundingLegSource;
  now: () => number;
  history?: RealisedSource | null;
  /** Every settlement the tracker books (app.ts: into the funding-history store). */
  onSettled?: SettledListener;
  /** The rate each settlement charged, as the engine captured it (absent: the last sampled figure is booked). */
  settlementRate?: SettlementRateLookup;
}

export class FundingBoard {
  readonly tracker: SettledFundingTracker;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: FundingBoardOptions) {
    this.tracker = new SettledFundingTracker(opts.onSettled ?? null, opts.settlementRate ?? null);
  }

  /** Reads every leg once and feeds the settled-rate tracker; returns the legs read. */
  sample(nowMs: number = this.opts.now()): FundingLeg[] {
    const legs = this.opts.legs();
    for (const leg of legs) this.tracker.observe(leg, nowMs);
    return legs;
  }

  /** Samples every `periodMs` (unref'd) so settlements pass even when nobody asks. */
  start(periodMs = 1000): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sample(), periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The board's clock (the app's business clock). */
  now(): number {
    return this.opts.now();
  }

  get historySource(): string | null {
    return this.opts.history?.name ?? null;
  }

  /** Rows sorted by instrument, venue, settle; best carry computed over ALL of an instrument's legs, then filtered. */
  rows(filter: FundingFilter = {}, nowMs: number = this.opts.now()): FundingRow[] {
    const legs = this.sample(nowMs);
    const byInstrument = new Map<string, FundingLeg[]>();
    for (const leg of legs) {
      // A leg with no usable rate has nothing to show; one with an unknown interval still shows its rate.
      if (!Number.isFinite(leg.rate)) continue;
      if (filter.instrument && leg.instrument !== filter.instrument) continue;
      const list = byInstrument.get(leg.instrument);
      if (list) list.push(leg);
      else byInstrument.set(leg.instrument, [leg]);
    }
    const out: FundingRow[] = [];
    for (const group of byInstrument.values()) {
      const best = bestCarry(group);
      for (const leg of group) {
        if (filter.venue && leg.venue !== filter.venue) continue;
        if (filter.settle && leg.settle !== filter.settle) continue;
        if (!liquidEnough(leg, filter)) continue;
        out.push(this.row(leg, best, nowMs));
      }
    }
    out.sort((a, b) => (a.instrument < b.instrument ? -1 : a.instrument > b.instrument ? 1 : a.venue < b.venue ? -1 : a.venue > b.venue ? 1 : a.settle < b.settle ? -1 : a.settle > b.settle ? 1 : 0));
    return out;
  }

  /**
   * The newer of the tracker's booking and the history's latest settlement: after a restart the tracker has
   * none until the next settlement passes, while the history (backfilled) already holds the last one.
   */
  private lastSettled(leg: FundingLeg, nowMs: number): SettledFunding | null {
    const tracked = this.tracker.lastSettled(leg);
    const p = this.opts.history?.lastSettled?.(leg.instrument, leg.venue, leg.settle, nowMs) ?? null;
    if (p === null || p.intervalMs === null || (tracked !== null && tracked.settledMs >= p.timeMs - SAME_SETTLEMENT_MS)) return tracked;
    return { rateIntervalBps: p.rate * 1e4, rate8hBps: rate8hBps(p.rate, p.intervalMs), intervalMs: p.intervalMs, settledMs: p.timeMs, predicted: false };
  }

  private row(leg: FundingLeg, best: BestCarry | null, nowMs: number): FundingRow {
    const history = this.opts.history;
    const known = leg.intervalMs > 0;
    return {
      instrument: leg.instrument,
      venue: leg.venue,
      settle: leg.settle,
      symbol: leg.symbol,
      rateIntervalBps: leg.rate * 1e4,
      rate8hBps: known ? rate8hBps(leg.rate, leg.intervalMs) : null,
      aprPct: known ? aprPct(leg.rate, leg.intervalMs) : null,
      intervalMs: known ? leg.intervalMs : null,
      intervalHours: known ? leg.intervalMs / HOUR_MS : null,
      nextFundingMs: leg.nextFundingMs > 0 ? leg.nextFundingMs : null,
      predicted: leg.predicted,
      updatedMs: leg.receivedMs,
      feedDown: leg.feedDown,
      lastSettled: this.lastSettled(leg, nowMs),
      realised: history ? history.realised(leg.instrument, leg.venue, leg.settle, nowMs) : NO_HISTORY,
      openInterestUsd: leg.openInterestUsd ?? null,
      volume24hUsd: leg.volume24hUsd ?? null,
      bestCarry: best?.long === leg ? 'long' : best?.short === leg ? 'short' : null,
      bestCarry8hBps: best ? best.carry8hBps : null,
      bestCarryCrossQuote: best?.crossQuote ?? false,
    };
  }
}
