/**
 * The Gate twin's `GET /api/v4/futures/usdt/funding_rate` (gate/history.ts has the documented behaviour):
 * `from` / `to` and `t` in SECONDS, newest first, `limit` ≤ 1000 (default 100), `r` a string; unknown
 * contract 400 INVALID_PARAM_VALUE; over 200 per 10 s HTTP 429 TOO_MANY_REQUESTS.
 */
import type { Exchange } from '../../../shared/exchanges.js';
import { historyGuard, seededSettlements } from '../../simulator/funding-history.js';
import { ok, query, type RestReply, type VenueContext } from '../../simulator/venue.js';
import { GATE_HISTORY_LIMIT, GATE_HISTORY_PAGE, GATE_HISTORY_PATH } from './history.js';

export function serveGateFundingHistory(exchange: Exchange, ctx: VenueContext, method: string, url: URL): RestReply | null {
  if (method !== 'GET' || url.pathname !== GATE_HISTORY_PATH) return null;
  const now = ctx.now();
  if (!historyGuard(ctx.model, exchange, GATE_HISTORY_LIMIT).allow(now)) return ok({ label: 'TOO_MANY_REQUESTS', message: 'Request Rate limit Exceeded' }, 429);
  const contract = query(url, 'contract');
  const pair = contract ? ctx.model.findListed(exchange, contract) : undefined;
  if (!pair) return ok({ label: 'INVALID_PARAM_VALUE', message: `invalid contract ${contract ?? ''}` }, 400);
  const limitRaw = query(url, 'limit');
  const limit = limitRaw === null ? 100 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > GATE_HISTORY_PAGE) return ok({ label: 'INVALID_PARAM_VALUE', message: 'limit must be in [1, 1000]' }, 400);
  const from = query(url, 'from');
  const to = query(url, 'to');
  const fromMs = from === null ? 0 : Number(from) * 1000;
  const toMs = to === null ? now : Number(to) * 1000;
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) return ok({ label: 'INVALID_PARAM_VALUE', message: 'invalid from or to' }, 400);
  const page = seededSettlements(ctx.model, pair, fromMs, toMs, now).slice(-limit).reverse();
  return ok(page.map((s) => ({ t: Math.floor(s.timeMs / 1000), r: String(Number(s.rate.toFixed(8))) })));
}
