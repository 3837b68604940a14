/**
 * Hyperliquid funding history: `POST /info {"type":"fundingHistory","coin","startTime","endTime"}`
 * (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint/perpetuals#retrieve-historical-funding-rates,
 * read 2026-12-02): epoch ms, startTime inclusive; oldest first; at most 500 records per reply (page on from
 * the last time received); `[{coin, fundingRate, premium, time}]` with the rate and premium as strings and
 * `time` a number a few ms past the hour. Funding is HOURLY and `fundingRate` is the rate per hour (the
 * interval comes from the spacing, rounded to the minute). Limit: 1200 weight per minute per IP; this
 * request weighs 20 plus 1 per 20 records returned (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/rate-limits-and-user-limits,
 * read 2026-12-02): a full page is 45, so 1200 / 45 ≈ 26 requests per minute.
 */
import type { RateLimit } from '../../../shared/venue-facts.js';
import type { FetchJson } from '../../feeds/adapter.js';
import { isRecord } from '../../feeds/adapter.js';
import type { VenueFundingHistory } from '../../funding/history-types.js';
import { decimal, inRange, remainingAfter, withIntervals, type RawSettlement } from '../../funding/history-points.js';

export const HL_HISTORY_PAGE = 500;
/** 1200 weight per minute ÷ 45 per full page. */
export const HL_HISTORY_LIMIT: RateLimit = { count: 26, windowMs: 60_000 };
export const HL_HISTORY_WEIGHT_PER_MINUTE = 1200;

export function parseHyperliquidFundingHistory(body: unknown): RawSettlement[] {
  if (!Array.isArray(body)) throw new Error(`hyperliquid funding history: ${typeof body === 'string' ? body : 'not an array'}`);
  const out: RawSettlement[] = [];
  for (const item of body) {
    if (!isRecord(item)) continue;
    const timeMs = decimal(item.time);
    const rate = decimal(item.fundingRate);
    if (Number.isFinite(timeMs) && timeMs > 0 && Number.isFinite(rate)) out.push({ timeMs, rate, intervalMs: null });
  }
  return out;
}

export const hyperliquidFundingHistory: VenueFundingHistory = {
  pageSize: HL_HISTORY_PAGE,
  requestsPerSecond: HL_HISTORY_LIMIT.count / (HL_HISTORY_LIMIT.windowMs / 1000),
  async fetch(rest: string, symbol: string, fromMs: number, toMs: number, fetchJson: FetchJson) {
    const body = await fetchJson(`${rest}/info`, { method: 'POST', body: { type: 'fundingHistory', coin: symbol, startTime: fromMs, endTime: toMs } });
    const all = withIntervals(parseHyperliquidFundingHistory(body));
    return { points: inRange(all, fromMs, toMs), remaining: remainingAfter(all, HL_HISTORY_PAGE, fromMs, toMs, false) };
  },
};
