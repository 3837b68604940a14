/** Bybit frames for bench/ingest: linear tickers, a snapshot per symbol, then deltas (bid/ask always, other fields half the time). */
import type { IngestFrameContext, VenueIngestBench } from '../bench-types.js';

export const ingestBench: VenueIngestBench = {
  ccxtId: 'bybit',
  frames({ count, bases, symbol, t0, rnd, px, sz, touch }: IngestFrameContext): string[] {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const base = bases[i % bases.length];
      const sym = symbol(base);
      const ts = t0 + i * 2;
      const [bid, ask] = touch(base);
      if (i < bases.length || i % 500 < bases.length) {
        out.push(
          `{"topic":"tickers.${sym}","type":"snapshot","data":{"symbol":"${sym}","tickDirection":"ZeroMinusTick","price24hPcnt":"0.023333","lastPrice":"${px(base)}","prevPrice24h":"${px(base)}","highPrice24h":"${px(base)}","lowPrice24h":"${px(base)}","prevPrice1h":"${px(base)}","markPrice":"${px(base)}","indexPrice":"${px(base)}","openInterest":"52774.528","openInterestValue":"1506861070.82","turnover24h":"4273027716.4294","volume24h":"151185.5160","nextFundingTime":"1795622400000","fundingRate":"0.0001","bid1Price":"${bid}","bid1Size":"${sz()}","ask1Price":"${ask}","ask1Size":"${sz()}","preOpenPrice":"","preQty":"","curPreListingPhase":"","fundingIntervalHour":"8","fundingCap":"0.005","basisRate":"","deliveryTime":"0","basis":""},"cs":${50193544280 + i},"ts":${ts}}`,
        );
      } else if (rnd() < 0.5) {
        out.push(`{"topic":"tickers.${sym}","type":"delta","data":{"symbol":"${sym}","bid1Price":"${bid}","bid1Size":"${sz()}","ask1Price":"${ask}","ask1Size":"${sz()}"},"cs":${50193544280 + i},"ts":${ts}}`);
      } else {
        out.push(
          `{"topic":"tickers.${sym}","type":"delta","data":{"symbol":"${sym}","price24hPcnt":"0.023362","lastPrice":"${px(base)}","markPrice":"${px(base)}","indexPrice":"${px(base)}","openInterest":"52774.611","openInterestValue":"1506863370.11","turnover24h":"4273030716.4294","volume24h":"151185.6160","fundingRate":"0.0001","bid1Price":"${bid}","bid1Size":"${sz()}","ask1Price":"${ask}","ask1Size":"${sz()}"},"cs":${50193544280 + i},"ts":${ts}}`,
        );
      }
    }
    return out;
  },
};
