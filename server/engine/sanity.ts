/**
 * Sanity bounds for market records. A record that fails is rejected, counted by reason and never
 * reaches the store: a rate in percent instead of a fraction or a timestamp in seconds instead of ms
 * would otherwise produce huge phantom opportunities.
 */

export const REJECT_REASONS = [
  'unknown_id',
  'price_invalid', // non-finite or <= 0 bid/ask
  'quote_crossed', // bid >= ask (crossed or locked book)
  'size_invalid', // negative or non-finite size
  'timestamp_invalid', // exchange timestamp in seconds, non-finite, or > now + 30 d
  'funding_rate_out_of_bounds', // |rate| > 5 % per interval, or non-finite
  'funding_interval_out_of_bounds', // interval outside [15 min, 24 h] (0 = unknown is accepted)
  'funding_time_invalid', // next funding time in seconds or > now + 30 d
  'funding_price_invalid', // funding reference price (mark / oracle) non-finite, <= 0, or off the venue's own book by more than the quarantine band
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export const REJECT_NONE = -1;
export const R_UNKNOWN_ID = 0;
export const R_PRICE = 1;
export const R_CROSSED = 2;
export const R_SIZE = 3;
export const R_TIMESTAMP = 4;
export const R_FUNDING_RATE = 5;
export const R_FUNDING_INTERVAL = 6;
export const R_FUNDING_TIME = 7;
export const R_FUNDING_PRICE = 8;

export const MAX_ABS_FUNDING_RATE = 0.05;
export const MIN_FUNDING_INTERVAL_MS = 15 * 60_000;
export const MAX_FUNDING_INTERVAL_MS = 24 * 3_600_000;
/** Anything below this is not an epoch-ms timestamp of this century (it is seconds: 1e12 ms = 2001-09-09). */
export const MIN_EPOCH_MS = 1e12;
export const MAX_FUTURE_MS = 30 * 86_400_000;

/**
 * An exchange timestamp is valid when it is epoch ms and not absurdly in the future. 0 means the venue
 * did not send one and is accepted (the local receive time still drives staleness).
 */
export function timestampOk(tsMs: number, nowMs: number): boolean {
  return tsMs === 0 || (tsMs >= MIN_EPOCH_MS && tsMs <= nowMs + MAX_FUTURE_MS);
}

/** REJECT_NONE or the index of the reason a quote is rejected. */
export function checkQuote(bid: number, ask: number, bidSize: number, askSize: number, exchangeTsMs: number, nowMs: number): number {
  // `!(x > 0)` also catches NaN.
  if (!(bid > 0) || !(ask > 0) || bid === Infinity || ask === Infinity) return R_PRICE;
  if (bid >= ask) return R_CROSSED;
  if (!(bidSize >= 0) || !(askSize >= 0) || bidSize === Infinity || askSize === Infinity) return R_SIZE;
  if (!timestampOk(exchangeTsMs, nowMs)) return R_TIMESTAMP;
  return REJECT_NONE;
}

/** REJECT_NONE or the index of the reason a funding record is rejected. */
export function checkFunding(rate: number, intervalMs: number, nextFundingMs: number, exchangeTsMs: number, nowMs: number): number {
  if (!(Math.abs(rate) <= MAX_ABS_FUNDING_RATE)) return R_FUNDING_RATE;
  // 0 = the venue gave no interval (only an assumed one): a real rate whose leg is "funding unknown" (the
  // detector's fundingKnown), kept so its rate and next settlement are still shown, never scored as known.
  if (intervalMs !== 0 && !(intervalMs >= MIN_FUNDING_INTERVAL_MS && intervalMs <= MAX_FUNDING_INTERVAL_MS)) return R_FUNDING_INTERVAL;
  if (!(nextFundingMs >= MIN_EPOCH_MS && nextFundingMs <= nowMs + MAX_FUTURE_MS)) return R_FUNDING_TIME;
  if (!timestampOk(exchangeTsMs, nowMs)) return R_TIMESTAMP;
  return REJECT_NONE;
}

/**
 * REJECT_NONE or R_FUNDING_PRICE for a funding reference price (NaN = not published: not checked). A price
 * further than `band` (a fraction) from the venue's own book mid is another instrument's or a shifted
 * decimal, the same test the quote quarantine applies; without a book yet (bid or ask 0) only the sign is checked.
 */
export function checkFundingPrice(price: number, bid: number, ask: number, band: number): number {
  if (price !== price) return REJECT_NONE;
  if (!(price > 0) || price === Infinity) return R_FUNDING_PRICE;
  if (!(bid > 0 && ask > 0)) return REJECT_NONE;
  const mid = (bid + ask) / 2;
  return Math.abs(price - mid) <= band * mid ? REJECT_NONE : R_FUNDING_PRICE;
}
