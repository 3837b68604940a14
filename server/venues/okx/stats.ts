/**
 * OKX open interest from REST: the `tickers` channel we read carries the 24 h volume but no open interest
 * (the `open-interest` channel is not subscribed). `GET /api/v5/public/open-interest?instType=SWAP` answers
 * every swap at once (okx.com/docs-v5/en/#public-data-rest-api-get-open-interest, read 2026-12-02):
 * `{code:"0", data:[{instType, instId, oi (contracts), oiCcy (base coin), oiUsd (USD), ts (epoch ms text)}]}`;
 * `oiUsd` is used as is. Limit 20 requests per 2 s per IP; read once a minute.
 */
import { emitStats, isEpochMs, isRecord, num, statOrNaN, type MetadataTable, type UpdateSink, type VenueRestStats } from '../../feeds/adapter.js';

export const OKX_STATS_PATH = '/api/v5/public/open-interest?instType=SWAP';

/** Emits the open interest (USD) of every known swap of one open-interest body. */
export function parseOkxStats(body: unknown, meta: MetadataTable, sink: UpdateSink, nowMs: number): number {
  if (!isRecord(body) || body.code !== '0' || !Array.isArray(body.data)) return -1;
  let n = 0;
  for (const r of body.data) {
    if (!isRecord(r) || typeof r.instId !== 'string') continue;
    const m = meta.get(r.instId);
    if (m === undefined) continue;
    const oi = statOrNaN(num(r.oiUsd));
    if (oi !== oi) continue;
    const ts = num(r.ts);
    emitStats(sink, m, oi, Number.NaN, Number.NaN, isEpochMs(ts) ? ts : nowMs);
    n++;
  }
  return n;
}

export const okxRestStats: VenueRestStats = {
  periodMs: 60_000,
  paths: [OKX_STATS_PATH],
  parse: (_path, body, meta, sink, nowMs) => parseOkxStats(body, meta, sink, nowMs),
};
