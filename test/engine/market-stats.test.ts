/**
 * Issue 13 §5: open interest and 24 h volume per leg in the engine: the stats record through the pipeline,
 * the market store (NaN = not published; a figure missing from a record keeps the last one), the
 * opportunity's long/short figures, and market.minOpenInterestUsd / minVolume24hUsd keeping pairs with a leg
 * below them (or unknown) from opening.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, applyConfigPatch } from '../../shared/config.js';
import type { Exchange } from '../../shared/exchanges.js';
import { MarketPipeline } from '../../server/engine/index.js';
import { btcOnFourVenues, engineConfig } from './btc-four-venues.js';

const T0 = 1_700_000_000_000;
const BIG = 1_000_000;

describe('stats records', () => {
  it('round-trip through the ring as a third record kind (64 bytes, like the others)', () => {
    const p = new MarketPipeline(4);
    expect(p.pushStats(7, 1.5e9, Number.NaN, T0, 42)).toBe(true);
    expect(p.pushStats(8, Number.NaN, Number.NaN, T0, 43, 91_234.5)).toBe(true); // the funding reference price rides in slot 3
    const got: unknown[] = [];
    p.consume(10, { onQuote: () => got.push('quote'), onFunding: () => got.push('funding'), onStats: (...args) => got.push(args) });
    expect(got).toEqual([
      [7, 1.5e9, Number.NaN, T0, 42, Number.NaN],
      [8, Number.NaN, Number.NaN, T0, 43, 91_234.5],
    ]);
  });

  it('the store keeps the last figure a record did not carry; negative or infinite figures are not published ones', () => {
    const { engine, ids } = btcOnFourVenues(engineConfig(), T0);
    const push = (oi: number, vol: number) => {
      engine.pushStats(ids.okx, oi, vol, T0, 1);
      engine.drain();
      return engine.marketStats('BTC-PERP', 'okx');
    };
    expect(push(Number.NaN, Number.NaN)).toEqual({ openInterestUsd: null, volume24hUsd: null });
    expect(push(2e8, Number.NaN)).toEqual({ openInterestUsd: 2e8, volume24hUsd: null });
    expect(push(Number.NaN, 9e8)).toEqual({ openInterestUsd: 2e8, volume24hUsd: 9e8 });
    expect(push(-1, Number.POSITIVE_INFINITY)).toEqual({ openInterestUsd: 2e8, volume24hUsd: 9e8 });
  });

  it('funding reference price: kept out and counted when not positive, off the book beyond the quarantine band, or mis-stamped', () => {
    const { engine, ids } = btcOnFourVenues(engineConfig(), T0);
    const band = engineConfig().detector.quarantineBandPct; // 5 %
    expect(band).toBe(5);
    engine.pushQuote(ids.okx, 100, 100.2, BIG, BIG, T0, 1); // mid 100.1
    engine.drain();
    const price = (p: number, ts = T0, oi = Number.NaN) => {
      engine.pushStats(ids.okx, oi, Number.NaN, ts, 1, p);
      engine.drain();
      return engine.quote('BTC-PERP', 'okx')!.fundingPrice;
    };
    const rejected = () => engine.stats().rejected;
    expect(price(Number.NaN)).toBeNull(); // not published: nothing counted
    expect(rejected().funding_price_invalid).toBe(0);
    expect(price(105.1)).toBe(105.1); // 4.995 % above 100.1: within 5 %
    expect(price(105.2, T0, 3e8)).toBe(105.1); // 5.09 % above: held out; the open interest in the same record still counts
    expect(engine.marketStats('BTC-PERP', 'okx')!.openInterestUsd).toBe(3e8);
    expect(price(95.0)).toBe(105.1); // 5.09 % below
    expect(price(0)).toBe(105.1);
    expect(price(-100.1)).toBe(105.1);
    expect(price(Number.POSITIVE_INFINITY)).toBe(105.1);
    expect(rejected().funding_price_invalid).toBe(5);
    expect(price(100.05, T0 / 1000)).toBe(105.1); // exchange time in seconds
    expect(rejected().timestamp_invalid).toBe(1);
    expect(price(100.05)).toBe(100.05);
  });
});

describe('market.minOpenInterestUsd / minVolume24hUsd', () => {
  const run = (market: { minOpenInterestUsd?: number; minVolume24hUsd?: number }, stats: Partial<Record<Exchange, [number, number]>>) => {
    const cfg = engineConfig();
    cfg.market = { ...cfg.market, ...market };
    const { clock, engine, ids, events } = btcOnFourVenues(cfg, T0);
    for (const [ex, [oi, vol]] of Object.entries(stats) as Array<[Exchange, [number, number]]>) engine.pushStats(ids[ex], oi, vol, clock.t, 1);
    engine.pushQuote(ids.okx, 99.99, 100, BIG, BIG, clock.t, 1);
    engine.pushQuote(ids.bybit, 100.3, 100.31, BIG, BIG, clock.t, 1);
    engine.drain();
    return events();
  };

  it('defaults are off (0) and a bad value is refused naming the field', () => {
    expect([DEFAULT_CONFIG.market.minOpenInterestUsd, DEFAULT_CONFIG.market.minVolume24hUsd]).toEqual([0, 0]);
    const bad = applyConfigPatch(DEFAULT_CONFIG, { market: { minVolume24hUsd: -5 } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors[0].field).toBe('market.minVolume24hUsd');
  });

  it('the opportunity carries each leg\'s figures (null = not published)', () => {
    const [ev] = run({}, { okx: [3e8, Number.NaN], bybit: [2e9, 5e9] });
    expect(ev.opportunity).toMatchObject({ longOpenInterestUsd: 3e8, shortOpenInterestUsd: 2e9, longVolume24hUsd: null, shortVolume24hUsd: 5e9 });
  });

  it('a pair opens only when both legs reach the minimums; an unknown figure does not', () => {
    expect(run({ minOpenInterestUsd: 1e8 }, { okx: [3e8, 0], bybit: [2e9, 0] })).toHaveLength(1);
    expect(run({ minOpenInterestUsd: 5e8 }, { okx: [3e8, 0], bybit: [2e9, 0] })).toEqual([]);
    expect(run({ minVolume24hUsd: 1e9 }, { okx: [3e8, Number.NaN], bybit: [2e9, 5e9] })).toEqual([]);
    expect(run({ minVolume24hUsd: 1e9 }, { okx: [3e8, 1e9], bybit: [2e9, 5e9] })).toHaveLength(1);
    expect(run({ minOpenInterestUsd: 1 }, {})).toEqual([]);
  });
});
