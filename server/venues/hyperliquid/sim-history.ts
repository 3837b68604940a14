/**
 * The Hyperliquid twin's `POST /info {"type":"fundingHistory"}` (hyperliquid/history.ts has the documented
 * behaviour): oldest first from `startTime`, at most 500, the rate and premium as strings, `time` a number
 * a few ms past the hour; a missing coin or startTime is the venue's 422 text; over the weight limit 429.
 */
import type { Exchange } from '../../../shared/exchanges.js';
import { historyGuard, seededSettlements } from '../../simulator/funding-history.js';
import { ok, type RestReply, type VenueContext } from '../../simulator/venue.js';
import { HL_HISTORY_LIMIT, HL_HISTORY_PAGE } from './history.js';

/** Hyperliquid stamps a settlement some milliseconds after the hour. */
const STAMP_LAG_MS = 48;

export function serveHyperliquidFundingHistory(exchange: Exchange, ctx: VenueContext, req: Record<string, unknown>): RestReply | null {
  if (req.type !== 'fundingHistory') return null;
  const now = ctx.now();
  if (typeof req.coin !== 'string' || typeof req.startTime !== 'number') return ok('Failed to deserialize the JSON body into the target type', 422);
  if (!historyGuard(ctx.model, exchange, HL_HISTORY_LIMIT).allow(now)) return ok(null, 429);
  const pair = ctx.model.findListed(exchange, req.coin);
  if (!pair) return ok([]);
  const end = typeof req.endTime === 'number' ? req.endTime : now;
  // The stamp is late: a settlement belongs to the range by its stamped time.
  const page = seededSettlements(ctx.model, pair, req.startTime - STAMP_LAG_MS, end - STAMP_LAG_MS, now)
    .slice(0, HL_HISTORY_PAGE)
    .map((s) => ({ coin: pair.symbol, fundingRate: String(Number(s.rate.toFixed(8))), premium: (s.rate - 0.0000125).toFixed(10), time: s.timeMs + STAMP_LAG_MS }));
  return ok(page.filter((p) => p.time >= (req.startTime as number) && p.time <= end));
}
