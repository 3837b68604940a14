/**
 * Traps: unit bugs (seconds vs ms, contracts vs coins), slippage ignored, fees eating an edge the
 * screen promised. Real OKX/KuCoin/Bybit/Binance parsers on fixture frames (re-stamped), the real
 * Engine, and the real StrategyRunner with MemoryPersistence (test/strategy/harness.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Opportunity, OpportunityEvent } from '../../shared/opportunity.js';
import { BinanceParser } from '../../server/venues/binance/adapter.js';
import { BybitParser } from '../../server/venues/bybit/adapter.js';
import { KucoinParser } from '../../server/venues/kucoin/adapter.js';
import { OkxParser } from '../../server/venues/okx/adapter.js';
import { table } from '../feeds/helpers.js';
import { BTC, Harness, testConfig } from '../strategy/harness.js';
import { feed, frame } from './wire.js';

/** OKX BTC-USDT-SWAP (ctVal 0.01 BTC) and KuCoin XBTUSDTM (multiplier 0.001 BTC) on the harness engine. */
function venues(h: Harness) {
  const okxMeta = table('okx', [{ symbol: 'BTC-USDT-SWAP', base: 'BTC', contractValue: 0.01 }]);
  okxMeta.get('BTC-USDT-SWAP')!.id = h.id(BTC, 'okx');
  const kuMeta = table('kucoin', [{ symbol: 'XBTUSDTM', base: 'BTC', contractValue: 0.001 }]);
  kuMeta.get('XBTUSDTM')!.id = h.id(BTC, 'kucoin');
  return { okx: new OkxParser(okxMeta), kucoin: new KucoinParser(kuMeta) };
}

const okxTicker = (t: number, bid: string, ask: string, bidSz: string, askSz: string, ts: string = String(t)) =>
  frame('okx', 'tickers.json', (m) => {
    m.arg.instId = 'BTC-USDT-SWAP';
    Object.assign(m.data[0], { instId: 'BTC-USDT-SWAP', bidPx: bid, askPx: ask, bidSz, askSz, ts });
  });
// tickerV2 ts is in nanoseconds (as on the wire).
const kucoinTicker = (t: number, bid: string, ask: string, bidSize: number, askSize: number) =>
  frame('kucoin', 'tickerV2-xbt.json', (m) => Object.assign(m.data, { bestBidPrice: bid, bestAskPrice: ask, bestBidSize: bidSize, bestAskSize: askSize, ts: t * 1e6 }));

describe('trap: contracts vs coins, and slippage', () => {
  it('OKX ctVal and KuCoin multiplier sizes reach the detector slippage and the paper fill in BASE units', () => {
    const h = new Harness(); // impact 5 bps, notional 1000 USD, fees okx 5 / kucoin 6
    const { okx, kucoin } = venues(h);
    // Long OKX at 100 with 300 contracts = 3 BTC at the touch; short KuCoin at 100.6 with 4000 contracts = 4 BTC.
    expect(feed(h.engine, okx, okxTicker(h.t, '99.9', '100', '500', '300'))).toBe('data');
    expect(feed(h.engine, kucoin, kucoinTicker(h.t, '100.6', '100.7', 4000, 900))).toBe('data');
    expect(h.engine.quote(BTC, 'okx')).toMatchObject({ bidSize: 5, askSize: 3 });
    expect(h.engine.quote(BTC, 'kucoin')).toMatchObject({ bidSize: 4, askSize: 0.9 });

    const opp = h.engine.opportunities().find((o) => o.longExchange === 'okx' && o.shortExchange === 'kucoin') as Opportunity;
    expect(opp).toMatchObject({ longAskSize: 3, shortBidSize: 4 });
    // Entry of 10 BTC long beyond 3 BTC: 5 bps × 7/10 = 3.5; short 1000/100.6 BTC beyond 4: 5 × (q − 4)/q; ×2 for the exit.
    const q = 1000 / 100.6;
    const slip = 2 * (3.5 + (5 * (q - 4)) / q);
    expect(opp.slippageBps).toBeCloseTo(slip, 9); // contracts read as coins would give 0
    expect(opp.feesBps).toBe(2 * (5 + 6));
    expect(opp.projectedProfitBps).toBeCloseTo(opp.spreadBps + opp.expectedFundingBps - 22 - slip, 9);

    h.step(); // the strategy takes it: quantities in BTC, the long fill walks past the 3 BTC touch at the impact
    const p = h.only();
    // The position is sized on the higher entry price, the short bid 100.6: q = 9.940358 BTC on both legs.
    expect(p.long.quantity).toBeCloseTo(q, 12);
    expect(p.short.quantity).toBeCloseTo(q, 12);
    expect(p.long.entryPrice).toBeCloseTo((3 * 100 + (q - 3) * 100 * 1.0005) / q, 9); // 3.49 bps above the ask
    expect(p.long.entryPrice).toBeCloseTo(100.0349100, 6);
    expect(p.short.entryPrice).toBeLessThan(100.6); // the sell walks down past the 4 BTC touch
  });
});

describe('trap: seconds instead of milliseconds', () => {
  it('a seconds (or µs) timestamp is rejected by the adapter; one that slips past is rejected by the engine', () => {
    const h = new Harness();
    const { okx } = venues(h);
    const secs = String(Math.floor(h.t / 1000));
    expect(feed(h.engine, okx, okxTicker(h.t, '99.9', '100', '5', '5', secs))).toBe('rejected');
    expect(feed(h.engine, okx, okxTicker(h.t, '99.9', '100', '5', '5', `${h.t}000`))).toBe('rejected');
    expect(okx.errors.bad_timestamp).toBe(2);

    const bybitMeta = table('bybit', [{ symbol: 'BTCUSDT', base: 'BTC' }]);
    bybitMeta.get('BTCUSDT')!.id = h.id(BTC, 'bybit');
    const bybit = new BybitParser(bybitMeta);
    expect(feed(h.engine, bybit, frame('bybit', 'snapshot.json', (m) => (m.ts = Math.floor(h.t / 1000))))).toBe('rejected');
    const binanceMeta = table('binance', [{ symbol: 'BTCUSDT', base: 'BTC' }]);
    binanceMeta.get('BTCUSDT')!.id = h.id(BTC, 'binance');
    const binance = new BinanceParser(binanceMeta);
    expect(feed(h.engine, binance, frame('binance', 'markPrice.json', (m) => Object.assign(m.data, { E: h.t, T: Math.floor(h.t / 1000) + 3600 })))).toBe('rejected');
    expect(h.engine.quote(BTC, 'okx')!.usable).toBe(false); // nothing reached the store
    expect(h.engine.quote(BTC, 'bybit')!.usable).toBe(false);
    expect(h.engine.quote(BTC, 'binance')!.nextFundingMs).toBe(0);

    // A producer that bypasses the adapters' checks: the engine's sanity bounds still refuse it.
    const before = h.engine.stats().rejected;
    h.engine.pushQuote(h.id(BTC, 'okx'), 99.9, 100, 5, 5, Math.floor(h.t / 1000), 0);
    h.engine.pushFunding(h.id(BTC, 'okx'), 0.0001, 8 * 3_600_000, Math.floor(h.t / 1000) + 3600, false, h.t, 0);
    h.engine.pushFunding(h.id(BTC, 'okx'), 0.0001, 8, h.t + 3_600_000, false, h.t, 0); // interval in hours, not ms
    h.engine.drain();
    const after = h.engine.stats().rejected;
    expect(after.timestamp_invalid - before.timestamp_invalid).toBe(1);
    expect(after.funding_time_invalid - before.funding_time_invalid).toBe(1);
    expect(after.funding_interval_out_of_bounds - before.funding_interval_out_of_bounds).toBe(1);
    expect(h.engine.quote(BTC, 'okx')).toMatchObject({ usable: false, fundingRate: 0, nextFundingMs: 0 });
    expect(h.engine.opportunities()).toEqual([]);
  });
});

describe('trap: fees eating the edge the screen promised', () => {
  it('no spread below round-trip taker fees + slippage is ever shown as profitable, and none is traded', () => {
    // Thresholds that let even losing pairs be shown (minProfitBps −50): the screen must show them as losses.
    const h = new Harness({ config: testConfig({ thresholds: { minSpreadBps: 0, minProfitBps: -50, hysteresisBps: 0 } }) });
    const events: OpportunityEvent[] = [];
    const sub = h.engine.bus.subscribe('fees-test');
    const { okx, kucoin } = venues(h);
    // Round trip okx+kucoin = 2 × (5 + 6) = 22 bps; deep books (no slippage). Spreads 0 … 21.9 bps in 0.1 steps.
    for (let i = 0; i < 220; i++) {
      h.t += 10;
      const shortBid = (100 * (1 + i / 1e5)).toFixed(6);
      feed(h.engine, okx, okxTicker(h.t, '99.9', '100', '100000', '100000'));
      feed(h.engine, kucoin, kucoinTicker(h.t, shortBid, (Number(shortBid) + 0.1).toFixed(6), 1e7, 1e7));
      h.step();
      events.push(...sub.popBatch(1000));
    }
    const shown = events.filter((e) => e.kind !== 'closed' && e.opportunity.longExchange === 'okx' && e.opportunity.shortExchange === 'kucoin');
    expect(shown.length).toBeGreaterThan(0);
    for (const e of shown) {
      const o = e.opportunity;
      expect(o.spreadBps).toBeLessThan(22);
      expect(o.feesBps).toBe(22);
      expect(o.projectedProfitBps).toBeCloseTo(o.spreadBps + o.expectedFundingBps - o.feesBps - o.slippageBps, 9);
      expect(o.projectedProfitBps).toBeLessThan(0);
      expect(o.projectedProfitUsd).toBeLessThan(0);
    }
    expect(h.runner.positions()).toEqual([]); // the strategy (minProfitBps 5) never trades it
    expect(h.runner.rejectionCounts().profit_below_min).toBeGreaterThan(0);

    // With the default thresholds (minProfitBps ≥ 0) the same market opens nothing at all.
    const strict = new Harness({ config: testConfig({ thresholds: { minSpreadBps: 0, minProfitBps: 0 } }) });
    const v = venues(strict);
    for (let i = 0; i < 220; i++) {
      strict.t += 10;
      const shortBid = (100 * (1 + i / 1e5)).toFixed(6);
      feed(strict.engine, v.okx, okxTicker(strict.t, '99.9', '100', '100000', '100000'));
      feed(strict.engine, v.kucoin, kucoinTicker(strict.t, shortBid, (Number(shortBid) + 0.1).toFixed(6), 1e7, 1e7));
    }
    expect(strict.engine.stats().detector.opened).toBe(0);
  });
});
