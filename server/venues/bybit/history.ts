/**
 * Bybit funding history: `GET /v5/market/funding/history?category=linear&symbol=&startTime=&endTime=&limit=`
 * (https://bybit-exchange.github.io/docs/v5/market/history-fund-rate, read 2026-12-02). Times in ms, every
 * value a string (`fundingRate`, `fundingRateTimestamp`), newest first, `limit` 1..200 (default 200); only
 * `startTime` is an error, so both bounds are always sent; a range wider than a page returns the 200 newest
 * up to `endTime`. No interval field: each settlement's interval comes from the spacing of settlement
 * times (Bybit's intervals differ per symbol and switch to 1 h under its dynamic settlement rule).
 * Limit: 600 requests per 5 s per IP for all HTTP endpoints (https://bybit-exchange.github.io/docs/v5/rate-limit,
 * read 2026-12-02).
 */
import type { RateLimit } from '../../../shared/venue-facts.js';
import type { FetchJson } from '../../feeds/adapter.js';
import { isRecord } from '../../feeds/adapter.js';
import type { VenueFundingHistory } from '../../funding/history-types.js';
import { decimal, inRange, remainingAfter, withIntervals, type RawSettlement } from '../../funding/history-points.js';

export const BYBIT_HISTORY_PATH = '/v5/market/funding/history';
export const BYBIT_HISTORY_PAGE = 200;
/** The documented per-IP HTTP limit (shared by every Bybit REST call). */
export const BYBIT_HISTORY_LIMIT: RateLimit = { count: 600, windowMs: 5_000 };

/** One response body → settlements (any order in, raw). Throws on an error reply or a body of another shape. */
export function parseBybitFundingHistory(body: unknown): RawSettlement[] {
  if (!isRecord(body)) throw new Error('bybit funding history: not an object');
  if (body.retCode !== 0) throw new Error(`bybit funding history: retCode ${String(body.retCode)} ${String(body.retMsg)}`);
  const list = isRecord(body.result) ? body.result.list : undefined;
  if (!Array.isArray(list)) throw new Error('bybit funding history: result.list missing');
  const out: RawSettlement[] = [];
  for (const item of list) {
    if (!isRecord(item)) continue;
    const timeMs = decimal(item.fundingRateTimestamp);
    const rate = decimal(item.fundingRate);
    if (Number.isFinite(timeMs) && timeMs > 0 && Number.isFinite(rate)) out.push({ timeMs, rate, intervalMs: null });
  }
  return out;
}

export const bybitFundingHistory: VenueFundingHistory = {
  pageSize: BYBIT_HISTORY_PAGE,
  requestsPerSecond: BYBIT_HISTORY_LIMIT.count / (BYBIT_HISTORY_LIMIT.windowMs / 1000),
  async fetch(rest: string, symbol: string, fromMs: number, toMs: number, fetchJson: FetchJson) {
    const url = `${rest}${BYBIT_HISTORY_PATH}?category=linear&symbol=${encodeURIComponent(symbol)}&startTime=${fromMs}&endTime=${toMs}&limit=${BYBIT_HISTORY_PAGE}`;
    const all = withIntervals(parseBybitFundingHistory(await fetchJson(url)));
    return { points: inRange(all, fromMs, toMs), remaining: remainingAfter(all, BYBIT_HISTORY_PAGE, fromMs, toMs, true) };
  },
};
