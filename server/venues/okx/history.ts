/**
 * OKX funding history: `GET /api/v5/public/funding-rate-history?instId=&before=&after=&limit=`
 * (https://www.okx.com/docs-v5/en/#public-data-rest-api-get-funding-rate-history, read 2026-12-02). Every
 * value a string; newest first; `after` = records with fundingTime older than it, `before` = newer than it
 * (both exclusive); `limit` ≤ 400 (default 400). Each record has `fundingRate` (the rate published for that
 * settlement) and `realizedRate` (the rate actually settled): the settled one is `realizedRate`, and
 * `fundingRate` only when `realizedRate` is empty. No interval field: derived from the spacing of
 * `fundingTime`s. Limit: 10 requests per 2 s, per IP and instrument.
 */
import type { RateLimit } from '../../../shared/venue-facts.js';
import type { FetchJson } from '../../feeds/adapter.js';
import { isRecord } from '../../feeds/adapter.js';
import type { VenueFundingHistory } from '../../funding/history-types.js';
import { decimal, inRange, remainingAfter, withIntervals, type RawSettlement } from '../../funding/history-points.js';

export const OKX_HISTORY_PATH = '/api/v5/public/funding-rate-history';
export const OKX_HISTORY_PAGE = 400;
export const OKX_HISTORY_LIMIT: RateLimit = { count: 10, windowMs: 2_000 };

export function parseOkxFundingHistory(body: unknown): RawSettlement[] {
  if (!isRecord(body)) throw new Error('okx funding history: not an object');
  if (body.code !== '0') throw new Error(`okx funding history: code ${String(body.code)} ${String(body.msg)}`);
  if (!Array.isArray(body.data)) throw new Error('okx funding history: data missing');
  const out: RawSettlement[] = [];
  for (const item of body.data) {
    if (!isRecord(item)) continue;
    const timeMs = decimal(item.fundingTime);
    const realized = decimal(item.realizedRate);
    const rate = Number.isFinite(realized) ? realized : decimal(item.fundingRate);
    if (Number.isFinite(timeMs) && timeMs > 0 && Number.isFinite(rate)) out.push({ timeMs, rate, intervalMs: null });
  }
  return out;
}

export const okxFundingHistory: VenueFundingHistory = {
  pageSize: OKX_HISTORY_PAGE,
  requestsPerSecond: OKX_HISTORY_LIMIT.count / (OKX_HISTORY_LIMIT.windowMs / 1000),
  async fetch(rest: string, symbol: string, fromMs: number, toMs: number, fetchJson: FetchJson) {
    // Exclusive bounds on the wire: one ms outside the inclusive range on each side.
    const url = `${rest}${OKX_HISTORY_PATH}?instId=${encodeURIComponent(symbol)}&before=${fromMs - 1}&after=${toMs + 1}&limit=${OKX_HISTORY_PAGE}`;
    const all = withIntervals(parseOkxFundingHistory(await fetchJson(url)));
    return { points: inRange(all, fromMs, toMs), remaining: remainingAfter(all, OKX_HISTORY_PAGE, fromMs, toMs, true) };
  },
};
