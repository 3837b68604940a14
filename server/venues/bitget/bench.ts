/**
 * Bitget frames for bench/ingest: v3 `ticker` pushes (base-coin sizes, funding fields in every record, the
 * rate changing every 50th frame as a live rate moves slowly; a snapshot
 * per symbol first, then updates). ccxt.pro's bitget handler reads the same v3 shape (`topic`/`symbol`).
 */
import type { IngestFrameContext, VenueIngestBench } from '../bench-types.js';

export const ingestBench: VenueIngestBench = {
  ccxtId: 'bitget',
  frames({ count, bases, symbol, t0, px, sz, touch }: IngestFrameContext): string[] {
    return Array.from({ length: count }, (_, i) => {
      const base = bases[i % bases.length];
      const sym = symbol(base);
      const action = i < bases.length ? 'snapshot' : 'update';
      const [bid, ask] = touch(base);
      return (
        `{"action":"${action}","arg":{"instType":"usdt-futures","topic":"ticker","symbol":"${sym}"},"data":[{"highPrice24h":"${px(base)}","lowPrice24h":"${px(base)}",` +
        `"openPrice24h":"${px(base)}","lastPrice":"${px(base)}","turnover24h":"2914473798.93323","volume24h":"37764.7894","bid1Price":"${bid}","ask1Price":"${ask}",` +
        `"bid1Size":"${sz()}","ask1Size":"${sz()}","price24hPcnt":"-0.013","indexPrice":"${px(base)}","markPrice":"${px(base)}","fundingRate":"0.0000${10 + (Math.floor(i / 50) % 80)}",` +
        `"openInterest":"29539.3825","deliveryTime":"","deliveryStartTime":"","deliveryStatus":"","nextFundingTime":"1795622400000"}],"ts":${t0 + i * 2}}`
      );
    });
  },
};
