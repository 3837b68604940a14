/**
 * Entry sizing: the quantity comes from the configured notional and is checked against BOTH legs'
 * prices and the instrument's consensus mid; an entry whose quantity × a reference price exceeds the
 * notional by more than strategy.notionalTolerancePct (default 2 %) is refused with a recorded reason.
 */
import { describe, expect, it } from 'vitest';
import { BTC, ETH, Harness, testConfig } from './harness.js';

describe('entry sizing against both legs', () => {
  it('refuses an entry whose short leg would exceed the notional by more than the tolerance', () => {
    const h = new Harness();
    // long okx ask 100 → 10 BTC; short bybit bid 103 → 10 × 103 = 1030 USD > 1000 × 1.02
    h.quote('okx', 99.9, 100.0);
    h.quote('bybit', 103, 103.1);
    h.step();
    expect(h.runner.positions()).toEqual([]);
    expect(h.runner.fills()).toEqual([]);
    const r = h.runner.rejections()[0];
    expect(r).toMatchObject({ reason: 'notional_exceeded', opportunityId: `${BTC}|okx|bybit` });
    expect(r.detail).toContain('1030.00');
    expect(h.runner.rejectionCounts().notional_exceeded).toBe(1);
  });

  it('accepts an entry within the tolerance (the standard 50 bps pair)', () => {
    const h = new Harness();
    h.openStandard(); // 10 × 100.50 = 1005 ≤ 1020
    expect(h.only().state).toBe('open');
  });

  it('the tolerance follows config.strategy.notionalTolerancePct', () => {
    const h = new Harness({ config: testConfig({ strategy: { notionalTolerancePct: 0.2 } }) });
    h.openStandard(); // 1005 > 1000 × 1.002
    expect(h.runner.positions()).toEqual([]);
    expect(h.runner.rejections()[0].reason).toBe('notional_exceeded');
  });

  it('refuses when the consensus mid of the other venues says the quantity is too large', () => {
    const h = new Harness({ config: testConfig({ thresholds: { maxSpreadBps: 10_000 }, detector: { quarantineBandPct: 50 } }) });
    // both legs agree with each other but sit far below kucoin and binance: consensus mid
    // median(99.95, 100.55, 110.005, 110.005) = 105.2775 → 10 × 105.2775 = 1052.78 > 1020
    h.quote('kucoin', 110, 110.01);
    h.quote('binance', 110, 110.01);
    h.quote('okx', 99.9, 100.0);
    h.quote('bybit', 100.5, 100.6);
    h.step();
    expect(h.runner.positions().filter((p) => p.long.exchange === 'okx' && p.short.exchange === 'bybit')).toEqual([]);
    expect(h.runner.rejections().some((r) => r.opportunityId === `${BTC}|okx|bybit` && r.reason === 'notional_exceeded')).toBe(true);
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
    expect(h.runner.positions()).toEqual([]);
    expect(h.runner.rejections()[0]).toMatchObject({ reason: 'notional_exceeded', instrument: ETH });
  });
});
