/**
 * Gate futures funding history: `GET /api/v4/futures/usdt/funding_rate?contract=&from=&to=&limit=`
 * (https://www.gate.com/docs/developers/apiv4/en/#funding-rate-history, read 2026-12-02): `from` / `to` and
 * the reply's `t` in SECONDS (a number), `r` the rate as a string; newest first; `limit` ≤ 1000 (default
 * 100). No interval field: derived from spacing. Limit: public endpoints 200 requests per 10 s per
 * endpoint per IP (https://www.gate.com/docs/developers/apiv4/en/#frequency-limit-rule, read 2026-12-02).
 */
import type { RateLimit } from '../../../shared/venue-facts.js';
import type { FetchJson } from '../../feeds/adapter.js';
import { isRecord } from '../../feeds/adapter.js';
import type { VenueFundingHistory } from '../../funding/history-types.js';
import { decimal, inRange, remainingAfter, withIntervals, type RawSettlement } from '../../funding/history-points.js';

export const GATE_HISTORY_PATH = '/api/v4/futures/usdt/funding_rate';
export const GATE_HISTORY_PAGE = 1000;
export const GATE_HISTORY_LIMIT: RateLimit = { count: 200, windowMs: 10_000 };

export function parseGateFundingHistory(body: unknown): RawSettlement[] {
  if (isRecord(body) && typeof body.label === 'string') throw new Error(`gate funding history: ${body.label} ${String(body.message)}`);
  if (!Array.isArray(body)) throw new Error('gate funding history: not an array');
  const out: RawSettlement[] = [];
  for (const item of body) {
    if (!isRecord(item)) continue;
    const seconds = decimal(item.t);
    const rate = decimal(item.r);
    if (Number.isFinite(seconds) && seconds > 0 && Number.isFinite(rate)) out.push({ timeMs: seconds * 1000, rate, intervalMs: null });
  }
  return out;
}

export const gateFundingHistory: VenueFundingHistory = {
  pageSize: GATE_HISTORY_PAGE,
  requestsPerSecond: GATE_HISTORY_LIMIT.count / (GATE_HISTORY_LIMIT.windowMs / 1000),
  async fetch(rest: string, symbol: string, fromMs: number, toMs: number, fetchJson: FetchJson) {
    // Whole seconds on the wire, covering the ms range.
    const from = Math.ceil(fromMs / 1000);
    const to = Math.floor(toMs / 1000);
    if (to < from) return { points: [], remaining: null };
    const url = `${rest}${GATE_HISTORY_PATH}?contract=${encodeURIComponent(symbol)}&from=${from}&to=${to}&limit=${GATE_HISTORY_PAGE}`;
    const all = withIntervals(parseGateFundingHistory(await fetchJson(url)));
    return { points: inRange(all, fromMs, toMs), remaining: remainingAfter(all, GATE_HISTORY_PAGE, fromMs, toMs, true, 1000) };
  },
};
