/**
 * KuCoin futures public funding history: `GET /api/v1/contract/funding-rates?symbol=&from=&to=`
 * (https://www.kucoin.com/docs/rest/futures-trading/funding-fees/get-public-funding-history, read
 * 2026-12-02): `from` and `to` required, epoch ms; the reply `{"code":"200000","data":[{symbol, fundingRate,
 * timepoint}]}` carries the rate and the time as JSON NUMBERS (not strings). ASSUMPTION: the page documents
 * no page size and no order, so a reply of 100 or more settlements is taken as possibly cut and the rest of
 * the range is asked for beyond its far end, on the side the reply's own order shows (newest first: below
 * its oldest; oldest first: above its newest); a shorter reply completes the range. The rate is the one
 * settled at `timepoint`. No interval field: derived from spacing.
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
    const raw = parseKucoinFundingHistory(await fetchJson(url));
    const newestFirst = raw.length < 2 || raw[0]!.timeMs >= raw[raw.length - 1]!.timeMs;
    const all = withIntervals(raw);
    return { points: inRange(all, fromMs, toMs), remaining: remainingAfter(all, KUCOIN_HISTORY_PAGE, fromMs, toMs, newestFirst) };
  },
};
