/**
 * Hyperliquid frames for bench/ingest: `bbo` pushes (two-sided), and every 50th frame an `assetCtxs` push
 * of the dex (positional contexts; with the bench's metadata, which has no universe positions, they are
 * classified and skipped, as on a replay without recorded metadata).
 *
 * ccxt.pro's hyperliquid class is named for the comparison, but its `handleMessage` has no handler for
 * `bbo` or `assetCtxs` (only l2Book, trades, allMids, activeAssetCtx, …; checked in node_modules/ccxt
 * 4.5.x `js/src/pro/hyperliquid.js`): the bench then reports the ccxt figure as not measured
 * ("handler resolved nothing") instead of comparing different channels.
 */
import type { IngestFrameContext, VenueIngestBench } from '../bench-types.js';

export const ingestBench: VenueIngestBench = {
  ccxtId: 'hyperliquid',
  frames({ count, bases, symbol, t0, rnd, px, sz }: IngestFrameContext): string[] {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const base = bases[i % bases.length];
      const ts = t0 + i * 2;
      if (i % 50 === 49) {
        const ctxs = bases.map(
          (b) =>
            `{"funding":"0.0000125","openInterest":"1234.5","prevDayPx":"${px(b)}","dayNtlVlm":"100000000.0","premium":"0.0001","oraclePx":"${px(b)}","markPx":"${px(b)}","midPx":"${px(b)}","impactPxs":["${px(b)}","${px(b)}"],"dayBaseVlm":"5000.0"}`,
        );
        out.push(`{"channel":"assetCtxs","data":{"dex":"","ctxs":[${ctxs.join(',')}]}}`);
        continue;
      }
      const bid = px(base);
      const ask = px(base);
      const [lo, hi] = Number(bid) <= Number(ask) ? [bid, ask] : [ask, bid];
      out.push(`{"channel":"bbo","data":{"coin":"${symbol(base)}","time":${ts},"bbo":[{"px":"${lo}","sz":"${sz()}","n":${1 + Math.floor(rnd() * 9)}},{"px":"${hi}","sz":"${sz()}","n":${1 + Math.floor(rnd() * 9)}}]}}`);
    }
    return out;
  },
};
