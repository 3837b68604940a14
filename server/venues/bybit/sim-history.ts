/**
 * The Bybit twin's `GET /v5/market/funding/history` (bybit/history.ts has the documented behaviour): the
 * seeded history of a listed linear symbol, newest first, every value a string, `limit` 1..200; only
 * `startTime` is a params error; over the per-IP limit the venue's 10006 reply with HTTP 403.
 */
import type { Exchange } from '../../../shared/exchanges.js';
import { historyGuard, seededSettlements } from '../../simulator/funding-history.js';
import { ok, query, type RestReply, type VenueContext } from '../../simulator/venue.js';
import { BYBIT_HISTORY_LIMIT, BYBIT_HISTORY_PAGE, BYBIT_HISTORY_PATH } from './history.js';

export function serveBybitFundingHistory(exchange: Exchange, ctx: VenueContext, method: string, url: URL): RestReply | null {
  if (method !== 'GET' || url.pathname !== BYBIT_HISTORY_PATH) return null;
  const now = ctx.now();
  const envelope = (result: unknown, retCode = 0, retMsg = 'OK', status = 200) => ok({ retCode, retMsg, result, retExtInfo: {}, time: now }, status);
  if (!historyGuard(ctx.model, exchange, BYBIT_HISTORY_LIMIT).allow(now)) return envelope({}, 10006, 'Too many visits!', 403);
  if (query(url, 'category') !== 'linear') return envelope({}, 10001, 'params error: category only support linear here');
  const symbol = query(url, 'symbol');
  const pair = symbol ? ctx.model.findListed(exchange, symbol) : undefined;
  if (!pair) return envelope({}, 10001, 'params error: symbol invalid');
  const start = query(url, 'startTime');
  const end = query(url, 'endTime');
  if (start !== null && end === null) return envelope({}, 10001, 'params error: endTime is required when startTime is passed');
  const limitRaw = query(url, 'limit');
  const limit = limitRaw === null ? BYBIT_HISTORY_PAGE : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > BYBIT_HISTORY_PAGE) return envelope({}, 10001, 'params error: limit must be in [1, 200]');
  const toMs = end === null ? now : Number(end);
  const fromMs = start === null ? 0 : Number(start);
  if (!Number.isFinite(toMs) || !Number.isFinite(fromMs)) return envelope({}, 10001, 'params error: invalid time');
  const page = seededSettlements(ctx.model, pair, fromMs, toMs, now).slice(-limit).reverse();
  return envelope({
    category: 'linear',
    list: page.map((s) => ({ symbol: pair.symbol, fundingRate: String(Number(s.rate.toFixed(8))), fundingRateTimestamp: String(s.timeMs) })),
  });
}
