/**
 * The realised carry of one (long, short) pair from the legs' settled funding, as pure functions (tests
 * check them by hand). Rates are fractions per the interval each settlement covered (positive = longs pay
 * shorts), so a settlement's payment is its rate times the notional.
 */
import type { SettledFunding } from '../funding/history-types.js';
import { EIGHT_HOURS_MS } from './scoring.js';

/**
 * Settlements of the two legs stamped within this of each other are one settlement time of the pair
 * (venues stamp the same hourly boundary a few ms apart); further apart they are separate times.
 */
export const SAME_SETTLEMENT_MS = 60_000;

/** Funding the pair earns over `horizonMs` at realised averages (fractions per 8 h), bps of notional (signed). */
export function realisedFundingBps(shortAvg8h: number, longAvg8h: number, horizonMs: number): number {
  return (shortAvg8h - longAvg8h) * (horizonMs / EIGHT_HOURS_MS) * 1e4;
}

/** Index of CarryStats fields in the `out` array of pairCarryStats (an array, so a refresh allocates nothing). */
export const CARRY_SETTLEMENTS = 0;
export const CARRY_EARNED_SHARE = 1;
export const CARRY_STDEV_BPS = 2;
export const CARRY_STATS_LENGTH = 3;

/**
 * Stability of the pair's carry over the given settlements (each leg's, oldest first): per settlement time
 * of either leg, the pair's carry = the short leg's received payment − the long leg's paid payment at that
 * time (a leg that did not settle then contributes 0), in bps of notional. Writes into `out`:
 * CARRY_SETTLEMENTS (how many times), CARRY_EARNED_SHARE (share of them with a carry > 0; NaN = none) and
 * CARRY_STDEV_BPS (sample standard deviation of the carries; NaN = fewer than two). Settlements with a
 * non-finite rate are skipped.
 */
export function pairCarryStats(longPoints: readonly SettledFunding[], shortPoints: readonly SettledFunding[], out: Float64Array): void {
  let i = 0;
  let j = 0;
  let n = 0;
  let earned = 0;
  let mean = 0;
  let m2 = 0; // Welford: Σ (x − mean)²
  while (true) {
    while (i < longPoints.length && !Number.isFinite(longPoints[i].rate)) i++;
    while (j < shortPoints.length && !Number.isFinite(shortPoints[j].rate)) j++;
    const hasLong = i < longPoints.length;
    const hasShort = j < shortPoints.length;
    if (!hasLong && !hasShort) break;
    let carry: number;
    if (hasLong && hasShort && Math.abs(longPoints[i].timeMs - shortPoints[j].timeMs) <= SAME_SETTLEMENT_MS) {
      carry = shortPoints[j++].rate - longPoints[i++].rate;
    } else if (hasShort && (!hasLong || shortPoints[j].timeMs < longPoints[i].timeMs)) {
      carry = shortPoints[j++].rate;
    } else {
      carry = -longPoints[i++].rate;
    }
    const bps = carry * 1e4;
    n++;
    if (bps > 0) earned++;
    const d = bps - mean;
    mean += d / n;
    m2 += d * (bps - mean);
  }
  out[CARRY_SETTLEMENTS] = n;
  out[CARRY_EARNED_SHARE] = n > 0 ? earned / n : Number.NaN;
  out[CARRY_STDEV_BPS] = n > 1 ? Math.sqrt(m2 / (n - 1)) : Number.NaN;
}

/** Projected profit (bps over the holding horizon) annualised, percent: the rank of carry-driven opportunities. */
export function netAprPct(projectedProfitBps: number, horizonMs: number): number {
  return horizonMs > 0 ? (projectedProfitBps / 1e4) * ((365 * 24 * 3_600_000) / horizonMs) * 100 : 0;
}
