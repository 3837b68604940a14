/**
 * KuCoin open interest and 24 h volume from REST: the streams we read (tickerV2, instrument) carry neither,
 * so `GET /api/v1/contracts/active` (the list discovery reads) is read again every minute for them.
 * Fields ("Get All Symbols", kucoin.com/docs-new/rest/futures-trading/market-data/get-all-symbols, read
 * 2026-12-02): `openInterest` (string, in lots = contracts; × `multiplier` = base units), `turnoverOf24h`
 * (24 h turnover in the quote currency: USDT / USDC, taken as USD), `volumeOf24h` (24 h volume in base
 * units, not used), `markPrice` (number). Lots, not coins: the docs' own sample (XBTUSDTM, multiplier
 * 0.001, `openInterest` "5191275", mark 44514.03) is $231 M this way, and its `turnoverOf24h` ÷
 * (`volumeOf24h` × mark) is 0.95 (a quote-currency turnover of a base-unit volume). The body carries no
 * time: the figures are stamped with the request's. Cost: public weight 3 ("Get Symbols List",
 * kucoin.com/docs/rest/futures-trading/market-data/get-symbols-list) from the 2000-per-30 s public pool per
 * IP (docs-new/rate-limit) once a minute: 0.15 % of it.
 */
import { emitStats, isRecord, num, statOrNaN, type MetadataTable, type UpdateSink, type VenueRestStats } from '../../feeds/adapter.js';

export const KUCOIN_STATS_PATH = '/api/v1/contracts/active';

/** Emits OI (lots × multiplier × mark price, USD) and turnover for every known symbol of one contracts/active body. */
export function parseKucoinStats(body: unknown, meta: MetadataTable, sink: UpdateSink, nowMs: number): number {
  if (!isRecord(body) || body.code !== '200000' || !Array.isArray(body.data)) return -1;
  let n = 0;
  for (const c of body.data) {
    if (!isRecord(c) || typeof c.symbol !== 'string') continue;
    const m = meta.get(c.symbol);
    if (m === undefined) continue;
    // markPrice is per listed unit, lots × multiplier are listed units: the price multiplier cancels out.
    const oi = statOrNaN(num(c.openInterest) * m.contractValue * num(c.markPrice));
    const vol = statOrNaN(num(c.turnoverOf24h));
    if (oi !== oi && vol !== vol) continue;
    emitStats(sink, m, oi, vol, Number.NaN, nowMs);
    n++;
  }
  return n;
}

export const kucoinRestStats: VenueRestStats = {
  periodMs: 60_000,
  paths: [KUCOIN_STATS_PATH],
  parse: (_path, body, meta, sink, nowMs) => parseKucoinStats(body, meta, sink, nowMs),
};
