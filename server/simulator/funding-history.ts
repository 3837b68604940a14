/**
 * The settled-funding history the venue twins serve on their history endpoints (each twin formats it in
 * its venue's wire format, server/venues/<venue>/sim-history.ts): per pair, one settlement per interval on
 * the pair's UTC grid from its listing (at most HISTORY_DAYS back) to now, each rate a deterministic draw
 * around the pair's current rate. Deterministic per (venue, symbol, settlement time): pages of one range
 * agree however they are cut; the pair's live funding and its history show the same instrument, interval
 * and level.
 *
 * Also the twins' REST limit on these endpoints: every request is one IP here, counted in a sliding window
 * as the venue documents it; the times served are kept (per model and venue) so tests can measure pacing.
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { RateLimit } from '../../shared/venue-facts.js';
import { fundingRate, type MarketModel, type Pair } from './market.js';

/** How far back the twins keep history (the real venues keep years; the backfill asks for 30 days). */
export const HISTORY_DAYS = 40;
const DAY_MS = 86_400_000;
const EIGHT_HOURS_MS = 8 * 3_600_000;

export interface SimSettlement {
  timeMs: number;
  /** Fraction per `intervalMs`, rounded to 8 decimals like the venues. */
  rate: number;
  intervalMs: number;
}

/** FNV-1a of a string, then a uniform draw in [-1, 1) for one (key, salt). */
function draw(key: string, salt: number): number {
  let h = 0x811c9dc5 ^ salt;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return ((h >>> 0) / 0x1_0000_0000) * 2 - 1;
}

/** The rate settled at `timeMs`: the current rate ±25 %, plus up to ±0.2 bp per 8 h of its own noise. */
export function settledRateAt(pair: Pair, timeMs: number): number {
  const key = `${pair.exchange}|${pair.symbol}|${timeMs}`;
  const current = fundingRate(pair);
  const noise = 0.00002 * (pair.fundingIntervalMs / EIGHT_HOURS_MS) * draw(key, 2);
  return Math.round((current * (1 + 0.25 * draw(key, 1)) + noise) * 1e8) / 1e8;
}

/**
 * Settlements of `pair` with fromMs ≤ time ≤ toMs that have happened by `nowMs`, oldest first: on the pair's
 * interval grid, not before its listing nor HISTORY_DAYS before now.
 */
export function seededSettlements(model: MarketModel, pair: Pair, fromMs: number, toMs: number, nowMs: number): SimSettlement[] {
  const interval = pair.fundingIntervalMs;
  const listedMs = pair.listedAt > 0 ? model.wallTimeOf(pair.listedAt, nowMs) : -Infinity;
  const start = Math.max(fromMs, nowMs - HISTORY_DAYS * DAY_MS, listedMs);
  const end = Math.min(toMs, nowMs);
  const out: SimSettlement[] = [];
  for (let t = Math.ceil(start / interval) * interval; t <= end; t += interval) out.push({ timeMs: t, rate: settledRateAt(pair, t), intervalMs: interval });
  return out;
}

/** Sliding-window request limit of one twin's history endpoint, with the times it let through. */
export class HistoryRequestGuard {
  private readonly window: number[] = [];
  /** Epoch ms of every request answered (not refused), oldest first; bounded. */
  readonly served: number[] = [];
  refused = 0;

  constructor(readonly limit: RateLimit) {}

  /** Books a request at `nowMs`; false = over the limit (the twin answers the venue's rate-limit error). */
  allow(nowMs: number): boolean {
    while (this.window.length > 0 && this.window[0]! <= nowMs - this.limit.windowMs) this.window.shift();
    if (this.window.length >= this.limit.count) {
      this.refused++;
      return false;
    }
    this.window.push(nowMs);
    this.served.push(nowMs);
    if (this.served.length > 10_000) this.served.splice(0, this.served.length - 10_000);
    return true;
  }
}

const guards = new WeakMap<MarketModel, Map<Exchange, HistoryRequestGuard>>();

/** The history-endpoint guard of one venue twin on one market (created with the venue's documented limit). */
export function historyGuard(model: MarketModel, exchange: Exchange, limit: RateLimit): HistoryRequestGuard {
  let byVenue = guards.get(model);
  if (!byVenue) guards.set(model, (byVenue = new Map()));
  let g = byVenue.get(exchange);
  if (!g) byVenue.set(exchange, (g = new HistoryRequestGuard(limit)));
  return g;
}

/** The guard of a venue twin if its history endpoint was asked (tests read `served` and `refused`). */
export function historyGuardOf(model: MarketModel, exchange: Exchange): HistoryRequestGuard | undefined {
  return guards.get(model)?.get(exchange);
}
