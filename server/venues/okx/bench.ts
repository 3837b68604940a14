/** OKX frames for bench/ingest: `tickers` (contracts) and, every 50th, `funding-rate`. */
import type { IngestFrameContext, VenueIngestBench } from '../bench-types.js';

export const ingestBench: VenueIngestBench = {
  ccxtId: 'okx',
  frames({ count, bases, symbol, t0, rnd, px, touch }: IngestFrameContext): string[] {
    return Array.from({ length: count }, (_, i) => {
      const base = bases[i % bases.length];
      const inst = symbol(base);
      const ts = t0 + i * 2;
      if (i % 50 === 49)
        return `{"arg":{"channel":"funding-rate","instId":"${inst}"},"data":[{"formulaType":"withRate","fundingRate":"0.0000${10 + (i % 80)}","fundingTime":"1795622400000","impactValue":"10000.0000000000000000","instId":"${inst}","instType":"SWAP","interestRate":"0.0001000000000000","maxFundingRate":"0.00375","method":"current_period","minFundingRate":"-0.00375","nextFundingRate":"","nextFundingTime":"1795651200000","premium":"-0.0008949500017283","prevFundingTime":"1795593600000","settFundingRate":"-0.0001996513270201","settState":"settled","ts":"${ts}"}]}`;
      const [bid, ask] = touch(base);
      return `{"arg":{"channel":"tickers","instId":"${inst}"},"data":[{"instType":"SWAP","instId":"${inst}","last":"${px(base)}","lastSz":"1","askPx":"${ask}","askSz":"${Math.floor(rnd() * 900) + 1}","bidPx":"${bid}","bidSz":"${Math.floor(rnd() * 900) + 1}","open24h":"${px(base)}","high24h":"${px(base)}","low24h":"${px(base)}","sodUtc0":"${px(base)}","sodUtc8":"${px(base)}","volCcy24h":"803940","vol24h":"803940","ts":"${ts}"}]}`;
    });
  },
};
