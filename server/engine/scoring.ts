/**
 * The maths of one (long, short) pair, as pure functions of numbers (no objects, so the detector can
 * call them per update without allocating, and tests can check them by hand).
 *
 * Conventions: long buys at its ask, short sells at its bid. Funding rates are fractions per their
 * own interval; positive funding is paid by longs to shorts.
 */

export const HOUR_MS = 3_600_000;
export const EIGHT_HOURS_MS = 8 * HOUR_MS;

/** (shortBid − longAsk) / longAsk · 1e4. */
export function spreadBps(longAsk: number, shortBid: number): number {
  return ((shortBid - longAsk) / longAsk) * 1e4;
}

/** A per-interval rate scaled to 8 h (0 when the interval is unknown). */
export function rate8h(rate: number, intervalMs: number): number {
  return intervalMs > 0 ? rate * (EIGHT_HOURS_MS / intervalMs) : 0;
}

/** Taker fees for entry AND exit of both legs: 2 · (long + short), in bps of notional. */
export function roundTripFeesBps(longTakerBps: number, shortTakerBps: number): number {
  return 2 * (longTakerBps + shortTakerBps);
}

/**
 * Slippage of one leg (bps of its notional) when only the touch is known: the quantity beyond the
 * touch size costs `impactBps`, pro rata; 0 when the touch covers the whole quantity.
 */
export function touchSlippageBps(notionalUsd: number, price: number, touchSize: number, impactBps: number): number {
  const qty = notionalUsd / price;
  const excess = qty - (touchSize > 0 ? touchSize : 0);
  return excess > 0 ? (impactBps * excess) / qty : 0;
}

/**
 * Funding events of one leg in (nowMs, nowMs + horizonMs]: the first at nextFundingMs (rolled forward
 * by whole intervals when already past), then every intervalMs.
 */
export function fundingEventsInWindow(nowMs: number, horizonMs: number, nextFundingMs: number, intervalMs: number): number {
  if (!(intervalMs > 0) || !(nextFundingMs > 0)) return 0;
  let first = nextFundingMs;
  if (first <= nowMs) first += (Math.floor((nowMs - first) / intervalMs) + 1) * intervalMs;
  const end = nowMs + horizonMs;
  return first > end ? 0 : Math.floor((end - first) / intervalMs) + 1;
}

/** Funding earned by the pair over the horizon, bps: the short receives its rate, the long pays its rate. */
export function expectedFundingBps(shortEvents: number, shortRate: number, longEvents: number, longRate: number): number {
  return (shortEvents * shortRate - longEvents * longRate) * 1e4;
}

/**
 * The seed's confidence (0..100): spread 50 %, funding 30 %, base 20 %. Only an EARNING funding edge
 * scores (the seed used |delta|, which rewarded pairs that pay funding).
 */
export function confidenceScore(spreadBps: number, fundingDelta8h: number): number {
  const s = spreadBps > 0 ? Math.min(spreadBps / 50, 1) : 0;
  const f = fundingDelta8h > 0 ? Math.min(fundingDelta8h / 0.01, 1) : 0;
  return s * 50 + f * 30 + 20;
}

/** Annualised funding edge in percent: three 8 h periods a day. */
export function fundingAprPct(fundingDelta8h: number): number {
  return fundingDelta8h * 3 * 365 * 100;
}

/**
 * Hours of funding edge needed to pay back fees + slippage not already covered by the spread:
 * 0 when the spread covers them, null when the funding edge is not positive.
 */
export function breakEvenHours(feesBps: number, slippageBps: number, spreadBps: number, fundingDelta8h: number): number | null {
  if (!(fundingDelta8h > 0)) return null;
  const uncovered = feesBps + slippageBps - spreadBps;
  return uncovered <= 0 ? 0 : uncovered / ((fundingDelta8h * 1e4) / 8);
}
