/**
 * Bitget funding history: `GET /api/v2/mix/market/history-fund-rate?symbol=&productType=&pageSize=&pageNo=`
 * (https://www.bitget.com/api-doc/contract/market/Get-History-Funding-Rate, read 2026-12-02): no time
 * parameters, PAGED by number from the newest (`pageNo` 1); `pageSize` ≤ 100 (default 20); every value a
 * string (`fundingRate`, `fundingTime` ms). No interval field: derived from spacing. Limit: 20 requests per
 * second per IP.
 *
 * A range is read from page 1 down: a page wholly newer than the range answers no points and the same
 * range as `remaining`, and the page number for the next call is kept per (symbol, range end) here. A
 * resumed range without a kept page number starts again at page 1 (settlements do not move, so the pages
 * read are the same ones).
 */
import type { RateLimit } from '../../../shared/venue-facts.js';
import type { FetchJson } from '../../feeds/adapter.js';
import { isRecord } from '../../feeds/adapter.js';
import type { VenueFundingHistory } from '../../funding/history-types.js';
import { decimal, inRange, withIntervals, type RawSettlement } from '../../funding/history-points.js';
import { parseNative } from './symbols.js';

export const BITGET_HISTORY_PATH = '/api/v2/mix/market/history-fund-rate';
export const BITGET_HISTORY_PAGE = 100;
export const BITGET_HISTORY_LIMIT: RateLimit = { count: 20, windowMs: 1_000 };

export function parseBitgetFundingHistory(body: unknown): RawSettlement[] {
  if (!isRecord(body)) throw new Error('bitget funding history: not an object');
  if (body.code !== '00000') throw new Error(`bitget funding history: code ${String(body.code)} ${String(body.msg)}`);
  if (!Array.isArray(body.data)) throw new Error('bitget funding history: data missing');
  const out: RawSettlement[] = [];
  for (const item of body.data) {
    if (!isRecord(item)) continue;
    const timeMs = decimal(item.fundingTime);
    const rate = decimal(item.fundingRate);
    if (Number.isFinite(timeMs) && timeMs > 0 && Number.isFinite(rate)) out.push({ timeMs, rate, intervalMs: null });
  }
  return out;
}

/** Next page number per `${symbol}|${toMs}` of a range being read (entries removed once used). */
const nextPage = new Map<string, number>();

export const bitgetFundingHistory: VenueFundingHistory = {
  pageSize: BITGET_HISTORY_PAGE,
  requestsPerSecond: BITGET_HISTORY_LIMIT.count / (BITGET_HISTORY_LIMIT.windowMs / 1000),
  async fetch(rest: string, symbol: string, fromMs: number, toMs: number, fetchJson: FetchJson) {
    const key = `${symbol}|${toMs}`;
    const pageNo = nextPage.get(key) ?? 1;
    nextPage.delete(key);
    const productType = parseNative(symbol)?.quote === 'USDC' ? 'usdc-futures' : 'usdt-futures';
    const url = `${rest}${BITGET_HISTORY_PATH}?symbol=${encodeURIComponent(symbol)}&productType=${productType}&pageSize=${BITGET_HISTORY_PAGE}&pageNo=${pageNo}`;
    const all = withIntervals(parseBitgetFundingHistory(await fetchJson(url)));
    const points = inRange(all, fromMs, toMs);
    if (all.length < BITGET_HISTORY_PAGE) return { points, remaining: null }; // the last page
    const oldest = all[0]!.timeMs;
    if (oldest <= fromMs) return { points, remaining: null };
    // More pages: the range still open below this page's oldest (or the whole range when the page was all newer).
    const remaining = { fromMs, toMs: Math.min(toMs, oldest - 1) };
    nextPage.set(`${symbol}|${remaining.toMs}`, pageNo + 1);
    if (nextPage.size > 10_000) nextPage.delete(nextPage.keys().next().value as string);
    return { points, remaining };
  },
};
