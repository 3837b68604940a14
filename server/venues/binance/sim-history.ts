/**
 * The Binance twin's `GET /fapi/v1/fundingRate` (binance/history.ts has the documented behaviour): oldest
 * first from `startTime`, `limit` ≤ 1000 (default 100), `fundingRate` / `markPrice` strings and `fundingTime`
 * a number; unknown symbol HTTP 400 -1121; over 500 per 5 min HTTP 429 -1003.
 */
import type { Exchange } from '../../../shared/exchanges.js';
import { historyGuard, seededSettlements } from '../../simulator/funding-history.js';
import { priceString } from '../../simulator/market.js';
import { ok, query, type RestReply, type VenueContext } from '../../simulator/venue.js';
import { BINANCE_HISTORY_LIMIT, BINANCE_HISTORY_PAGE, BINANCE_HISTORY_PATH } from './history.js';

export function serveBinanceFundingHistory(exchange: Exchange, ctx: VenueContext, method: string, url: URL): RestReply | null {
  if (method !== 'GET' || url.pathname !== BINANCE_HISTORY_PATH) return null;
  const now = ctx.now();
  if (!historyGuard(ctx.model, exchange, BINANCE_HISTORY_LIMIT).allow(now)) {
    return ok({ code: -1003, msg: 'Too many requests; current limit of IP is 500 requests per 5 minutes.' }, 429);
  }
  const symbol = query(url, 'symbol');
  const pair = symbol ? ctx.model.findListed(exchange, symbol) : undefined;
  if (!pair) return ok({ code: -1121, msg: 'Invalid symbol.' }, 400);
  const limitRaw = query(url, 'limit');
  const limit = limitRaw === null ? 100 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > BINANCE_HISTORY_PAGE) return ok({ code: -1130, msg: "Data sent for parameter 'limit' is not valid." }, 400);
  const start = query(url, 'startTime');
  const end = query(url, 'endTime');
  const all = seededSettlements(ctx.model, pair, start === null ? 0 : Number(start), end === null ? now : Number(end), now);
  // Neither bound: the most recent ones; else from startTime on.
  const page = start === null ? all.slice(-limit) : all.slice(0, limit);
  return ok(page.map((s) => ({ symbol: pair.symbol, fundingTime: s.timeMs, fundingRate: s.rate.toFixed(8), markPrice: priceString(pair, pair.mid) })));
}
