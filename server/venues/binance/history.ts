/**
 * Binance USDⓈ-M funding history: `GET /fapi/v1/fundingRate?symbol=&startTime=&endTime=&limit=`
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Get-Funding-Rate-History,
 * read 2026-12-02): epoch ms; `limit` ≤ 1000 (default 100); OLDEST first: a range holding more than `limit`
 * answers `startTime` + `limit` records; `fundingRate` and `markPrice` strings (`markPrice` may be ""),
 * `fundingTime` a number. No interval field: derived from spacing (Binance moves symbols between 8 h, 4 h
 * and 1 h). Limit: 500 requests per 5 min per IP, SHARED with `GET /fapi/v1/fundingInfo` (which discovery
 * reads): the backfill keeps well under it.
 */
import type { RateLimit } from '../../../shared/venue-facts.js';
import type { FetchJson } from '../../feeds/adapter.js';
import { isRecord } from '../../feeds/adapter.js';
import type { VenueFundingHistory } from '../../funding/history-types.js';
import { decimal, inRange, remainingAfter, withIntervals, type RawSettlement } from '../../funding/history-points.js';

export const BINANCE_HISTORY_PATH = '/fapi/v1/fundingRate';
export const BINANCE_HISTORY_PAGE = 1000;
export const BINANCE_HISTORY_LIMIT: RateLimit = { count: 500, windowMs: 300_000 };

export function parseBinanceFundingHistory(body: unknown): RawSettlement[] {
  if (isRecord(body) && typeof body.code === 'number') throw new Error(`binance funding history: code ${body.code} ${String(body.msg)}`);
  if (!Array.isArray(body)) throw new Error('binance funding history: not an array');
  const out: RawSettlement[] = [];
  for (const item of body) {
    if (!isRecord(item)) continue;
    const timeMs = decimal(item.fundingTime);
    const rate = decimal(item.fundingRate);
    if (Number.isFinite(timeMs) && timeMs > 0 && Number.isFinite(rate)) out.push({ timeMs, rate, intervalMs: null });
  }
  return out;
}

export const binanceFundingHistory: VenueFundingHistory = {
  pageSize: BINANCE_HISTORY_PAGE,
  requestsPerSecond: BINANCE_HISTORY_LIMIT.count / (BINANCE_HISTORY_LIMIT.windowMs / 1000),
  async fetch(rest: string, symbol: string, fromMs: number, toMs: number, fetchJson: FetchJson) {
    const url = `${rest}${BINANCE_HISTORY_PATH}?symbol=${encodeURIComponent(symbol)}&startTime=${fromMs}&endTime=${toMs}&limit=${BINANCE_HISTORY_PAGE}`;
    const all = withIntervals(parseBinanceFundingHistory(await fetchJson(url)));
    return { points: inRange(all, fromMs, toMs), remaining: remainingAfter(all, BINANCE_HISTORY_PAGE, fromMs, toMs, false) };
  },
};
