/**
 * Entry sizing: the quantity is the configured notional at the HIGHER of the two entry prices
 * (max(long ask, short bid)), so neither leg's notional exceeds the configured one; it is then checked
 * against the instrument's consensus mid: an entry whose quantity × a reference price exceeds the
 * notional by more than strategy.notionalTolerancePct (default 2 %) is refused with a recorded reason.
 */
import { describe, expect, it } from 'vitest';
import { BTC, ETH, HOUR, Harness, STD_QTY, T0, testConfig } from './harness.js';

/**
 * kucoin and binance quote BTC at `bid`/`bid + 0.01` with a funding rate that makes every pair shorting
 * them unprofitable (−5 % per 1 h = −0.4 per 8 h < minFundingDelta8h −0.05): they move the consensus mid
 * without forming opportunities of their own, so the okx → bybit pair is the only candidate.
 */
function consensusVenues(h: Harness, bid: number): void {
  for (const ex of ['kucoin', 'binance'] as const) {
    h.funding(ex, -0.05, HOUR, T0 + HOUR);
    h.quote(ex, bid, bid + 0.01);
  }
}

describe('entry sizing against both legs', () => {
  it('sizes on the higher price: a short bid above the long ask keeps both legs within the configured notional', () => {
    const h = new Harness();
    // long okx ask 100, short bybit bid 103: quantity 1000 / 103 = 9.708738 BTC
    // (sized on the long ask it would be 10 BTC, 10 × 103 = 1030 USD on the short leg)
    h.quote('okx', 99.9, 100.0);
    h.quote('bybit', 103, 103.1);
    h.step();
    const p = h.only();
    expect(p).toMatchObject({ state: 'open', long: { exchange: 'okx' }, short: { exchange: 'bybit' } });
    expect(p.long.quantity).toBeCloseTo(9.7087378641, 9);
    expect(p.short.quantity).toBe(p.long.quantity);
    const [buy, sell] = h.runner.fills();
    expect(buy).toMatchObject({ side: 'buy', exchange: 'okx', price: 100 });
    expect(sell).toMatchObject({ side: 'sell', exchange: 'bybit', price: 103 });
    expect(buy.notionalUsd).toBeCloseTo(970.8737864, 6);
    expect(sell.notionalUsd).toBeCloseTo(1000, 9);
    const configured = h.config.strategy.notionalUsd;
    for (const f of [buy, sell]) expect(f.notionalUsd).toBeLessThanOrEqual(configured + 1e-9);
    expect(h.runner.rejections()).toEqual([]);
  });

  it('accepts an entry within the tolerance (the standard 50 bps pair)', () => {
    const h = new Harness();
    // Q = 1000 / 100.50: Q × 100.50 = 1000, Q × consensus median(99.95, 100.55) = 100.25 → 997.51 ≤ 1020
    h.openStandard();
    expect(h.only()).toMatchObject({ state: 'open', long: { quantity: STD_QTY } });
  });

  it('the tolerance follows config.strategy.notionalTolerancePct', () => {
    // consensus median(99.95, 100.55, 102.005, 102.005) = 101.2775 → Q × 101.2775 = 1007.74:
    // within 2 % (1020), beyond 0.5 % (1005)
    const loose = new Harness();
    consensusVenues(loose, 102);
    loose.openStandard();
    expect(loose.only()).toMatchObject({ state: 'open', opportunityId: `${BTC}|okx|bybit` });
    const strict = new Harness({ config: testConfig({ strategy: { notionalTolerancePct: 0.5 } }) });
    consensusVenues(strict, 102);
    strict.openStandard();
    expect(strict.runner.positions()).toEqual([]);
    expect(strict.runner.rejections()[0]).toMatchObject({ reason: 'notional_exceeded', opportunityId: `${BTC}|okx|bybit` });
    expect(strict.runner.rejections()[0].detail).toContain('worth 1007.74 at the consensus mid 101.2775 > 1000.00 + 0.5 %');
  });

  it('refuses when the consensus mid of the other venues says the quantity is too large', () => {
    const h = new Harness({ config: testConfig({ thresholds: { maxSpreadBps: 10_000 }, detector: { quarantineBandPct: 50 } }) });
    // both legs agree with each other but sit far below kucoin and binance: consensus mid
    // median(99.95, 100.55, 110.005, 110.005) = 105.2775 → Q × 105.2775 = 1047.54 > 1020
    consensusVenues(h, 110);
    h.quote('okx', 99.9, 100.0);
    h.quote('bybit', 100.5, 100.6);
    h.step();
    expect(h.engine.opportunities().map((o) => o.id)).toEqual([`${BTC}|okx|bybit`]);
    expect(h.runner.positions()).toEqual([]);
    expect(h.runner.rejections()[0]).toMatchObject({ reason: 'notional_exceeded', opportunityId: `${BTC}|okx|bybit` });
    expect(h.runner.rejections()[0].detail).toContain('worth 1047.54 at the consensus mid 105.2775');
  });

  it('the reported fault: a wrong long price ($141.99 for ETH) cannot buy 7 ETH against a $1000 notional', () => {
    // The engine's own protections relaxed, so only the strategy stands between the price and an order.
    const h = new Harness({ config: testConfig({ thresholds: { maxSpreadBps: 1_000_000 }, detector: { quarantineBandPct: 100 } }) });
    // (bybit first: okx's 141.945 mid is then within 100 % of bybit's 3050.25, so the band lets it in)
    h.quote('bybit', 3050, 3050.5, 1000, 1000, ETH);
    h.quote('okx', 141.9, 141.99, 1000, 1000, ETH);
    expect(h.engine.quote(ETH, 'okx')?.quarantine).toBe(null);
    expect(h.engine.opportunities().map((o) => o.id)).toEqual([`${ETH}|okx|bybit`]);
    h.step();
    // Sized on the higher price (the short bid 3050): 1000 / 3050 = 0.327869 ETH, not 1000 / 141.99 = 7.04.
    // Neither leg exceeds the notional: long 0.327869 × 141.99 = 46.55 USD, short 0.327869 × 3050 = 1000 USD.
    // (The quarantine and thresholds.maxSpreadBps, switched off here, are what keep this pair from opening.)
    const p = h.only();
    expect(p.long.quantity).toBeCloseTo(0.3278688525, 9);
    const notionals = h.runner.fills().map((f) => [f.side, f.exchange, Math.round(f.notionalUsd * 100) / 100]);
    expect(notionals).toEqual([
      ['buy', 'okx', 46.55],
      ['sell', 'bybit', 1000],
    ]);
  });
});
