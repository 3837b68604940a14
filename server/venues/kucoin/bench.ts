/** KuCoin futures frames for bench/ingest: `tickerV2` (lots, ns timestamps) and, every 50th, predicted `funding.rate`. */
import type { IngestFrameContext, VenueIngestBench } from '../bench-types.js';

export const ingestBench: VenueIngestBench = {
  ccxtId: 'kucoinfutures',
  frames({ count, bases, symbol, t0, rnd, px, sz }: IngestFrameContext): string[] {
    return Array.from({ length: count }, (_, i) => {
      const base = bases[i % bases.length];
      const sym = symbol(base);
      const ts = t0 + i * 2;
      if (i % 50 === 49) return `{"topic":"/contract/instrument:${sym}","type":"message","subject":"funding.rate","data":{"granularity":60000,"fundingRate":0.000${10 + (i % 80)},"timestamp":${ts}}}`;
      return `{"topic":"/contractMarket/tickerV2:${sym}","type":"message","subject":"tickerV2","sn":${1702237470700 + i},"data":{"symbol":"${sym}","sequence":${1702237470700 + i},"bestBidSize":${Math.floor(rnd() * 900) + 1},"bestBidPrice":"${px(base)}","bestAskPrice":"${px(base)}","bestAskSize":${Math.floor(rnd() * 900) + 1},"ts":${ts}${String(Math.floor(rnd() * 1e6)).padStart(6, '0')}}}`;
    });
  },
};
