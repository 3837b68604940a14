/**
 * Binance USDⓈ-M 24 h volume from REST: the streams we read (bookTicker, markPrice) carry no volume or open
 * interest. `GET /fapi/v1/ticker/24hr` without a symbol answers every symbol at once (weight 40;
 * developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/24hr-Ticker-Price-Change-Statistics,
 * read 2026-12-02): `quoteVolume` (string, 24 h traded value in the quote asset, USDT / USDC, taken as
 * USD) and `closeTime` (epoch ms, the window's end). Read once a minute: 40 of the 2400 request weight per
 * minute per IP (1.7 %).
 * Open interest is NOT read: Binance publishes it per symbol only (`/fapi/v1/openInterest?symbol=`,
 * weight 1), i.e. one request per subscribed symbol per round, hundreds a minute for the whole universe;
 * a Binance leg's open interest stays unknown (a non-zero `market.minOpenInterestUsd` keeps it closed).
 */
import { emitStats, isEpochMs, isRecord, num, statOrNaN, type MetadataTable, type UpdateSink, type VenueRestStats } from '../../feeds/adapter.js';

export const BINANCE_STATS_PATH = '/fapi/v1/ticker/24hr';
/** Request weight of one all-symbols read (the docs' figure). */
export const BINANCE_STATS_WEIGHT = 40;

/** Emits the 24 h quote volume of every known symbol of one ticker/24hr body (an array). */
export function parseBinanceStats(body: unknown, meta: MetadataTable, sink: UpdateSink, nowMs: number): number {
  if (!Array.isArray(body)) return -1;
  let n = 0;
  for (const t of body) {
    if (!isRecord(t) || typeof t.symbol !== 'string') continue;
    const m = meta.get(t.symbol);
    if (m === undefined) continue;
    const vol = statOrNaN(num(t.quoteVolume));
    if (vol !== vol) continue;
    const close = num(t.closeTime);
    emitStats(sink, m, Number.NaN, vol, Number.NaN, isEpochMs(close) ? close : nowMs);
    n++;
  }
  return n;
}

export const binanceRestStats: VenueRestStats = {
  periodMs: 60_000,
  paths: [BINANCE_STATS_PATH],
  parse: (_path, body, meta, sink, nowMs) => parseBinanceStats(body, meta, sink, nowMs),
};
