/**
 * The OKX twin's `GET /api/v5/public/funding-rate-history` (okx/history.ts has the documented behaviour):
 * newest first, `before` / `after` exclusive, `limit` ≤ 400, every value a string, `realizedRate` the
 * settled rate; unknown instrument 51001; over the limit HTTP 429 with code 50011.
 */
import type { Exchange } from '../../../shared/exchanges.js';
import { historyGuard, seededSettlements } from '../../simulator/funding-history.js';
import { ok, query, type RestReply, type VenueContext } from '../../simulator/venue.js';
import { OKX_HISTORY_LIMIT, OKX_HISTORY_PAGE, OKX_HISTORY_PATH } from './history.js';

export function serveOkxFundingHistory(exchange: Exchange, ctx: VenueContext, method: string, url: URL): RestReply | null {
  if (method !== 'GET' || url.pathname !== OKX_HISTORY_PATH) return null;
  const now = ctx.now();
  if (!historyGuard(ctx.model, exchange, OKX_HISTORY_LIMIT).allow(now)) return ok({ code: '50011', msg: 'Too Many Requests', data: [] }, 429);
  const instId = query(url, 'instId');
  if (!instId) return ok({ code: '50014', msg: 'Parameter instId can not be empty', data: [] }, 400);
  const pair = ctx.model.findListed(exchange, instId);
  if (!pair) return ok({ code: '51001', msg: "Instrument ID doesn't exist", data: [] }, 200);
  const limitRaw = query(url, 'limit');
  const limit = limitRaw === null ? OKX_HISTORY_PAGE : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > OKX_HISTORY_PAGE) return ok({ code: '51000', msg: 'Parameter limit error', data: [] }, 400);
  const before = query(url, 'before');
  const after = query(url, 'after');
  const fromMs = before === null ? 0 : Number(before) + 1;
  const toMs = after === null ? now : Number(after) - 1;
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) return ok({ code: '51000', msg: 'Parameter before or after error', data: [] }, 400);
  const page = seededSettlements(ctx.model, pair, fromMs, toMs, now).slice(-limit).reverse();
  return ok({
    code: '0',
    msg: '',
    data: page.map((s) => {
      const rate = String(Number(s.rate.toFixed(8)));
      return { formulaType: 'withRate', fundingRate: rate, fundingTime: String(s.timeMs), instId: pair.symbol, instType: 'SWAP', method: 'current_period', realizedRate: rate };
    }),
  });
}
