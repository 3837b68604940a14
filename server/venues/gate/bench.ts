/**
 * Gate frames for bench/ingest: `futures.book_ticker` (contracts as decimal strings, as our sockets receive
 * them with the `X-Gate-Size-Decimal: 1` header; the envelope's `id:null`/`error:null` as recorded) and, every 50th,
 * `futures.tickers` (funding). ccxt.pro's `gate` class routes both channels (`handleBidAsk`, `handleTicker`).
 */
import type { IngestFrameContext, VenueIngestBench } from '../bench-types.js';

export const ingestBench: VenueIngestBench = {
  ccxtId: 'gate',
  frames({ count, bases, symbol, t0, rnd, px, touch }: IngestFrameContext): string[] {
    return Array.from({ length: count }, (_, i) => {
      const base = bases[i % bases.length];
      const s = symbol(base);
      const ts = t0 + i * 2;
      const env = `"time":${Math.floor(ts / 1000)},"time_ms":${ts + 1}`;
      if (i % 50 === 49)
        return `{${env},"channel":"futures.tickers","event":"update","result":[{"contract":"${s}","last":"${px(base)}","change_percentage":"-0.4180","total_size":"91350211","volume_24h":"803940","volume_24h_base":"8039","volume_24h_quote":"612000000","volume_24h_settle":"612000000","mark_price":"${px(base)}","funding_rate":"0.0000${10 + (i % 80)}","funding_rate_indicative":"0.0000${10 + (i % 80)}","index_price":"${px(base)}","quanto_base_rate":"","low_24h":"${px(base)}","high_24h":"${px(base)}"}]}`;
      const [bid, ask] = touch(base);
      return `{${env},"id":null,"channel":"futures.book_ticker","event":"update","error":null,"result":{"t":${ts},"u":${92_000_000_000 + i},"s":"${s}","b":"${bid}","B":"${(Math.floor(rnd() * 90000) + 1) / 10}","a":"${ask}","A":"${(Math.floor(rnd() * 90000) + 1) / 10}"}}`;
    });
  },
};
