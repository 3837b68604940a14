/** Binance USD-M frames for bench/ingest: combined-stream `bookTicker` and, every 20th, `markPrice@1s`. */
import type { IngestFrameContext, VenueIngestBench } from '../bench-types.js';

export const ingestBench: VenueIngestBench = {
  ccxtId: 'binanceusdm',
  frames({ count, bases, symbol, t0, px, sz, touch }: IngestFrameContext): string[] {
    return Array.from({ length: count }, (_, i) => {
      const base = bases[i % bases.length];
      const s = symbol(base);
      const ts = t0 + i * 2;
      if (i % 20 === 19)
        return `{"stream":"${s.toLowerCase()}@markPrice@1s","data":{"e":"markPriceUpdate","E":${ts},"s":"${s}","p":"${px(base)}","P":"${px(base)}","i":"${px(base)}","r":"0.000${10 + (i % 80)}","T":1795622400000}}`;
      const [bid, ask] = touch(base);
      return `{"stream":"${s.toLowerCase()}@bookTicker","data":{"e":"bookTicker","u":${185130926750 + i},"s":"${s}","b":"${bid}","B":"${sz()}","a":"${ask}","A":"${sz()}","T":${ts},"E":${ts + 3}}}`;
    });
  },
};
