/**
 * The Bitget twin's `GET /api/v2/mix/market/history-fund-rate` (bitget/history.ts has the documented
 * behaviour): paged by `pageNo` from the newest, `pageSize` ≤ 100 (default 20), every value a string;
 * unknown symbol 40034; over 20 per second HTTP 429 with code 429.
 */
import type { Exchange } from '../../../shared/exchanges.js';
import { historyGuard, seededSettlements } from '../../simulator/funding-history.js';
import { ok, query, type RestReply, type VenueContext } from '../../simulator/venue.js';
import { BITGET_HISTORY_LIMIT, BITGET_HISTORY_PAGE, BITGET_HISTORY_PATH } from './history.js';

export function serveBitgetFundingHistory(exchange: Exchange, ctx: VenueContext, method: string, url: URL): RestReply | null {
  if (method !== 'GET' || url.pathname !== BITGET_HISTORY_PATH) return null;
  const now = ctx.now();
  const reply = (code: string, msg: string, data: unknown, status = 200) => ok({ code, msg, requestTime: now, data }, status);
  if (!historyGuard(ctx.model, exchange, BITGET_HISTORY_LIMIT).allow(now)) return reply('429', 'Too Many Requests', null, 429);
  const productType = (query(url, 'productType') ?? '').toLowerCase();
  if (productType !== 'usdt-futures' && productType !== 'usdc-futures') return reply('40034', 'Parameter productType does not exist', null, 400);
  const symbol = query(url, 'symbol');
  const pair = symbol ? ctx.model.findListed(exchange, symbol) : undefined;
  if (!pair || pair.settle.toLowerCase() !== productType.slice(0, 4)) return reply('40034', 'Parameter symbol does not exist', null, 400);
  const size = Number(query(url, 'pageSize') ?? 20);
  const pageNo = Number(query(url, 'pageNo') ?? 1);
  if (!Number.isInteger(size) || size < 1 || size > BITGET_HISTORY_PAGE || !Number.isInteger(pageNo) || pageNo < 1) return reply('40019', 'Parameter pageSize or pageNo error', null, 400);
  const newestFirst = seededSettlements(ctx.model, pair, 0, now, now).reverse();
  const page = newestFirst.slice((pageNo - 1) * size, pageNo * size);
  return reply('00000', 'success', page.map((s) => ({ symbol: pair.symbol, fundingRate: String(Number(s.rate.toFixed(8))), fundingTime: String(s.timeMs) })));
}
