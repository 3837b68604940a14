/**
 * KuCoin futures frames for bench/ingest: `tickerV2` (lots, ns timestamps) and, every 50th, predicted `funding.rate`.
 *
 * ccxt.pro (4.5.x, `js/src/pro/kucoin.js`, which `kucoinfutures` extends) handles `tickerV2` but has no handler
 * for `/contract/instrument` `funding.rate`: it watches funding on the unified account's `funding-fee` push
 * (`watchFundingRate` → `handleUtaFundingRate`). `ccxtFrames` gives ccxt each funding frame as that push for
 * the same symbol and rate (the shape in that handler's own comment: `T`, `P`, `d:{s, fr, ft, nt, gl, fc, ff}`),
 * the tickers unchanged: one ccxt frame per frame of ours, the same information.
 */
import type { IngestFrameContext, VenueIngestBench } from '../bench-types.js';

const EIGHT_HOURS_MS = 8 * 3_600_000;

export const ingestBench: VenueIngestBench = {
  ccxtId: 'kucoinfutures',
  frames({ count, bases, symbol, t0, rnd, touch }: IngestFrameContext): string[] {
    return Array.from({ length: count }, (_, i) => {
      const base = bases[i % bases.length];
      const sym = symbol(base);
      const ts = t0 + i * 2;
      if (i % 50 === 49) return `{"topic":"/contract/instrument:${sym}","type":"message","subject":"funding.rate","data":{"granularity":60000,"fundingRate":0.000${10 + (i % 80)},"timestamp":${ts}}}`;
      const [bid, ask] = touch(base);
      return `{"topic":"/contractMarket/tickerV2:${sym}","type":"message","subject":"tickerV2","sn":${1702237470700 + i},"data":{"symbol":"${sym}","sequence":${1702237470700 + i},"bestBidSize":${Math.floor(rnd() * 900) + 1},"bestBidPrice":"${bid}","bestAskPrice":"${ask}","bestAskSize":${Math.floor(rnd() * 900) + 1},"ts":${ts}${String(Math.floor(rnd() * 1e6)).padStart(6, '0')}}}`;
    });
  },
  ccxtFrames(ours: readonly string[]) {
    const frames = ours.map((raw, i) => {
      const msg = JSON.parse(raw) as { topic: string; subject: string; data: { fundingRate: number; timestamp: number } };
      if (msg.subject !== 'funding.rate') return raw;
      const sym = msg.topic.slice(msg.topic.indexOf(':') + 1);
      const ft = Math.floor(msg.data.timestamp / EIGHT_HOURS_MS) * EIGHT_HOURS_MS;
      const d = { s: sym, fr: String(msg.data.fundingRate), ft, nt: ft + EIGHT_HOURS_MS, gl: EIGHT_HOURS_MS, fc: '0.00375', ff: '-0.00375' };
      return JSON.stringify({ T: 'funding-fee', P: `${1_782_831_961_172 + i}694254`, d });
    });
    return {
      updates: ours.length,
      sets: [{ label: '', frames, note: 'tickerV2 as is (handleBidAsk); each funding.rate as the unified funding-fee push ccxt watches funding on (handleUtaFundingRate): one frame each, the same information' }],
    };
  },
};
