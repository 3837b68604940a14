/**
 * KuCoin futures public funding history: `GET /api/v1/contract/funding-rates?symbol=&from=&to=`
 * (https://www.kucoin.com/docs/rest/futures-trading/funding-fees/get-public-funding-history, read
 * 2026-12-02): `from` and `to` required, epoch ms; the reply `{"code":"200000","data":[{symbol, fundingRate,
 * timepoint}]}` carries the rate and the time as JSON NUMBERS (not strings). The page documents no page size
 * or order: we take at most 100 settlements per reply (what the endpoint answers for wide ranges), newest
 * first, and narrow `to` below the oldest one received. The rate is the one settled at `timepoint` (the
 * rate of the period, KuCoin's `funding.end` figure). No interval field: derived from spacing.
 * Limit: public weight 5 per request from the 2000-per-30 s public pool per IP
 * (https://www.kucoin.com/docs-new/rate-limit, read 2026-12-02) → 400 requests per 30 s.
 */
import type { RateLimit } from '../../../shared/venue-facts.js';
import type { FetchJson } from '../../feeds/adapter.js';
import { isRecord } from '../../feeds/adapter.js';
import type { VenueFundingHistory } from '../../funding/history-types.js';
import { decimal, inRange, remainingAfter, withIntervals, type RawSettlement } from '../../funding/history-points.js';

export const KUCOIN_HISTORY_PATH = '/api/v1/contract/funding-rates';
export const KUCOIN_HISTORY_PAGE = 100;
export const KUCOIN_HISTORY_LIMIT: RateLimit = { count: 400, windowMs: 30_000 };

export function parseKucoinFundingHistory(body: unknown): RawSettlement[] {
  if (!isRecord(body)) throw new Error('kucoin funding history: not an object');
  if (body.code !== '200000') throw new Error(`kucoin funding history: code ${String(body.code)} ${String(body.msg)}`);
  // An empty range answers `data: []` (older gateways answered null).
  if (body.data === null) return [];
  if (!Array.isArray(body.data)) throw new Error('kucoin funding history: data missing');
  const out: RawSettlement[] = [];
  for (const item of body.data) {
    if (!isRecord(item)) continue;
    const timeMs = decimal(item.timepoint ?? item.timePoint);
    const rate = decimal(item.fundingRate);
    if (Number.isFinite(timeMs) && timeMs > 0 && Number.isFinite(rate)) out.push({ timeMs, rate, intervalMs: null });
  }
  return out;
}

export const kucoinFundingHistory: VenueFundingHistory = {
  pageSize: KUCOIN_HISTORY_PAGE,
  requestsPerSecond: KUCOIN_HISTORY_LIMIT.count / (KUCOIN_HISTORY_LIMIT.windowMs / 1000),
  async fetch(rest: string, symbol: string, fromMs: number, toMs: number, fetchJson: FetchJson) {
    const url = `${rest}${KUCOIN_HISTORY_PATH}?symbol=${encodeURIComponent(symbol)}&from=${fromMs}&to=${toMs}`;
    const all = withIntervals(parseKucoinFundingHistory(await fetchJson(url)));
    return { points: inRange(all, fromMs, toMs), remaining: remainingAfter(all, KUCOIN_HISTORY_PAGE, fromMs, toMs, true) };
  },
};
