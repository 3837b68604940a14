/**
 * The KuCoin twin's `GET /api/v1/contract/funding-rates` (kucoin/history.ts has the documented behaviour):
 * `from` and `to` required (ms), at most 100 settlements newest first, the rate and `timepoint` as JSON
 * numbers; missing parameters 400100; over the public pool HTTP 429 with code 429000.
 */
import type { Exchange } from '../../../shared/exchanges.js';
import { historyGuard, seededSettlements } from '../../simulator/funding-history.js';
import { ok, query, type RestReply, type VenueContext } from '../../simulator/venue.js';
import { KUCOIN_HISTORY_LIMIT, KUCOIN_HISTORY_PAGE, KUCOIN_HISTORY_PATH } from './history.js';

export function serveKucoinFundingHistory(exchange: Exchange, ctx: VenueContext, method: string, url: URL): RestReply | null {
  if (method !== 'GET' || url.pathname !== KUCOIN_HISTORY_PATH) return null;
  const now = ctx.now();
  if (!historyGuard(ctx.model, exchange, KUCOIN_HISTORY_LIMIT).allow(now)) return ok({ code: '429000', msg: 'Too Many Requests' }, 429);
  const symbol = query(url, 'symbol');
  const from = Number(query(url, 'from'));
  const to = Number(query(url, 'to'));
  if (!symbol || !Number.isFinite(from) || !Number.isFinite(to) || query(url, 'from') === null || query(url, 'to') === null) {
    return ok({ code: '400100', msg: 'Param validation error: symbol, from and to are required' }, 400);
  }
  const pair = ctx.model.findListed(exchange, symbol);
  if (!pair) return ok({ code: '200000', data: [] });
  const page = seededSettlements(ctx.model, pair, from, to, now).slice(-KUCOIN_HISTORY_PAGE).reverse();
  return ok({ code: '200000', data: page.map((s) => ({ symbol: pair.symbol, fundingRate: Number(s.rate.toFixed(6)), timepoint: s.timeMs })) });
}
