/**
 * Figures of one opportunity as the table and the phone cards show them (pure functions, unit-tested in
 * test/web/opportunity-figures.test.ts). One unit per quantity: rates and spreads in bps (a leg's rate per its
 * own interval, deltas per 8 h), APRs in percent, times as countdowns on the server clock. A figure the
 * server did not send (an older record, a venue without the data) is null here and a dash on screen.
 */
import { EIGHT_HOURS_MS } from '../../../shared/funding.js';
import { legFundingUnknown, type Opportunity, type SlippageSource } from '../../../shared/opportunity.js';

export type Leg = 'long' | 'short';

export interface LegFunding {
  /** The leg's rate per its own interval, bps (positive = longs pay shorts); null when unknown. */
  rateIntervalBps: number | null;
  /** The same per 8 h, bps; null when unknown. */
  rate8hBps: number | null;
  intervalMs: number | null;
  /** The leg's own next settlement, epoch ms (server clock); null when unknown. */
  nextFundingMs: number | null;
  /** The venue's predicted (indicative) rate, not the current one. */
  predicted: boolean;
  unknown: boolean;
}

/** One leg's funding: Opportunity carries each leg's rate per 8 h (fraction) and its interval; the per-interval rate follows. */
export function legFunding(o: Opportunity, leg: Leg): LegFunding {
  const intervalMs = leg === 'long' ? o.longFundingIntervalMs : o.shortFundingIntervalMs;
  const nextMs = leg === 'long' ? o.longNextFundingMs : o.shortNextFundingMs;
  const rate8h = leg === 'long' ? o.longFundingRate8h : o.shortFundingRate8h;
  const predicted = (leg === 'long' ? o.longFundingPredicted : o.shortFundingPredicted) === true;
  if (legFundingUnknown(intervalMs, nextMs) || !Number.isFinite(rate8h)) {
    return { rateIntervalBps: null, rate8hBps: null, intervalMs: intervalMs > 0 ? intervalMs : null, nextFundingMs: nextMs > 0 ? nextMs : null, predicted, unknown: true };
  }
  const rate8hBps = rate8h * 1e4;
  return { rateIntervalBps: (rate8hBps * intervalMs) / EIGHT_HOURS_MS, rate8hBps, intervalMs, nextFundingMs: nextMs, predicted, unknown: false };
}

/** Milliseconds from `serverNowMs` to the leg's next settlement; null when unknown. */
export function legCountdownMs(o: Opportunity, leg: Leg, serverNowMs: number): number | null {
  const next = legFunding(o, leg).nextFundingMs;
  return next === null ? null : next - serverNowMs;
}

/** Realised short − long funding over the basis window, bps per 8 h; null when absent or not enough history. */
export function realisedDelta8hBps(o: Opportunity): number | null {
  const v = o.realisedFundingDelta8h;
  return typeof v === 'number' && Number.isFinite(v) ? v * 1e4 : null;
}

/** A finite optional number, or null (absent fields of older records and venues without the figure). */
export function optional(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Share of settlements the pair earned, in percent (0..100); null when absent. */
export function earnedSharePct(o: Opportunity): number | null {
  const v = optional(o.carryEarnedShare);
  return v === null ? null : v * 100;
}

/** The slippage estimate's source as a one-letter mark: D = VWAP on fresh books, T = top of book; null when not said. */
export function slippageMark(source: SlippageSource | undefined): { letter: 'D' | 'T'; title: string } | null {
  if (source === 'depth') return { letter: 'D', title: 'from depth: VWAP of the notional on fresh books of both legs' };
  if (source === 'touch') return { letter: 'T', title: 'from the touch: top-of-book estimate (no fresh books)' };
  return null;
}

/** The expected-funding line of the Fund Δ cell's title: current against realised, over the horizon (bps). */
export function expectedFundingTitle(o: Opportunity): string {
  const now = optional(o.expectedFundingCurrentBps);
  const real = optional(o.expectedFundingRealisedBps);
  const basis = o.fundingBasis ?? 'current';
  const f = (v: number | null) => (v === null ? 'no history yet' : `${v > 0 ? '+' : ''}${v.toFixed(2)} bps`);
  if (now === null && real === null) return `Expected funding over the horizon: ${f(o.expectedFundingBps)}`;
  return `Expected funding over the horizon: ${f(now)} from current rates, ${f(real)} from realised averages (profit uses ${basis})`;
}
