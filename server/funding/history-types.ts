/**
 * The seams of funding history (issue 13 §2–§3). Each venue module may declare a VenueFundingHistory
 * (its public funding-history endpoint); the backfill service pages it within the venue's REST limits
 * into a FundingHistoryStore (Redis or memory), which also records every settlement observed live; the
 * funding board, `GET /api/funding/history` and realised-carry scoring read it through FundingHistoryView
 * (memory-resident: never a Redis round trip on the detection path).
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { SettleCurrency } from '../../shared/instrument-key.js';
import type { FetchJson } from '../feeds/adapter.js';

/** One settled funding payment of a perpetual. */
export interface SettledFunding {
  /** Settlement time, epoch ms (the venue's funding time, not the time we read it). */
  timeMs: number;
  /**
   * The rate applied at that settlement: a fraction per the interval it covered (as the venue quotes it;
   * positive = longs pay shorts). Hourly venues' rates are per hour.
   */
  rate: number;
  /** The interval that rate covered (ms); null = the venue did not say and it could not be derived. */
  intervalMs: number | null;
}

/** A venue's public funding-history endpoint. */
export interface VenueFundingHistory {
  /** Most settlements one request returns (the venue's documented maximum page). */
  readonly pageSize: number;
  /** Requests per second this endpoint allows one IP (documented, cited in the module); the backfill stays below it. */
  readonly requestsPerSecond: number;
  /**
   * One request: settlements of native `symbol` with fromMs ≤ timeMs ≤ toMs (oldest first in the result,
   * whatever order the venue returns). `remaining` is the part of the range still to fetch (the venue's
   * page was full), or null when the range is complete. Throws when the venue cannot be read.
   */
  fetch(rest: string, symbol: string, fromMs: number, toMs: number, fetchJson: FetchJson): Promise<{ points: SettledFunding[]; remaining: { fromMs: number; toMs: number } | null }>;
}

/** Identifies a leg's market: instrument key, venue and settle currency. */
export interface FundingLegRef {
  instrument: string;
  venue: Exchange;
  settle: SettleCurrency;
}

/** Read side, memory-resident. */
export interface FundingHistoryView {
  /** Settlements of the leg with fromMs ≤ timeMs ≤ toMs, oldest first (a shared array: do not modify). */
  settlements(leg: FundingLegRef, fromMs: number, toMs: number): readonly SettledFunding[];
  /** Changes whenever a settlement is added (consumers cache derived figures by it). */
  readonly version: number;
}

/**
 * Realised average of a leg over [nowMs − windowMs, nowMs] as a fraction per 8 h: Σ rate ÷ Σ interval × 8 h
 * over the settlements in the window (equal to the mean 8 h-normalised rate when the interval is constant,
 * and weighted by time when it changed). Settlements with an unknown interval are skipped. null = none.
 */
export function realisedAverage8h(points: readonly SettledFunding[]): number | null {
  let sumRate = 0;
  let sumMs = 0;
  for (const p of points) {
    if (p.intervalMs === null || !(p.intervalMs > 0) || !Number.isFinite(p.rate)) continue;
    sumRate += p.rate;
    sumMs += p.intervalMs;
  }
  return sumMs > 0 ? (sumRate / sumMs) * 8 * 3_600_000 : null;
}
