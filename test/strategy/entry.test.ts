import { describe, expect, it } from 'vitest';
import { PaperExecutor } from '../../server/strategy/execution.js';
import { BTC, ETH, HOUR, Harness, STD_QTY, T0, testConfig } from './harness.js';

const Q = STD_QTY;

describe('entry: paper fills', () => {
  it('fills both legs at ask (buy) / bid (sell) with the taker fee and records latency', () => {
    const h = new Harness();
    h.openStandard();
    const p = h.only();
    expect(p.state).toBe('open');
    expect(p.opportunityId).toBe(`${BTC}|okx|bybit`);
    expect(p.transitions.map((t) => `${t.from}->${t.to}`)).toEqual(['null->opening', 'opening->open']);
    // quantity = 1000 / max(100.00 long ask, 100.50 short bid) = 9.950248756… BTC on both legs
    expect(Q).toBeCloseTo(9.950248756, 9);
    expect(p.long).toMatchObject({ exchange: 'okx', side: 'long', quantity: Q, entryPrice: 100 });
    expect(p.short).toMatchObject({ exchange: 'bybit', side: 'short', quantity: Q, entryPrice: 100.5 });
    const [buy, sell] = h.runner.fills();
    // long: Q·100.00 = 995.0249 notional, fee 5 bps = 0.497512
    // the harness µs clock ticks 250 per read: decision, long fill (+250), short fill (+500)
    expect(buy).toMatchObject({ side: 'buy', purpose: 'entry', exchange: 'okx', price: 100, quantity: Q, latencyUs: 250 });
    expect(buy.notionalUsd).toBeCloseTo(995.0248756, 6);
    expect(buy.feeUsd).toBeCloseTo(0.4975124378, 9);
    // short: Q·100.50 = 1000 notional (the configured notional, not more), fee 5 bps = 0.50
    expect(sell).toMatchObject({ side: 'sell', purpose: 'entry', exchange: 'bybit', price: 100.5, quantity: Q, latencyUs: 500 });
    expect(sell.notionalUsd).toBeCloseTo(1000, 9);
    expect(sell.feeUsd).toBeCloseTo(0.5, 12);
    expect(buy.decisionMs).toBe(T0);
    expect(buy.fillMs).toBe(T0);
    // fees 0.997512 booked as realised (negative); entry spread (100.50 − 100)/100 = 50 bps
    expect(p.feesUsd).toBeCloseTo(0.9975124378, 9);
    expect(p.realisedPnlUsd).toBeCloseTo(-0.9975124378, 9);
    expect(p.entrySpreadBps).toBeCloseTo(50, 9);
    // margin 995.0249/5 = 199.005 and 1000/5 = 200; liq long 100·0.805 = 80.5, short 100.5·1.195 = 120.0975
    expect(p.long.marginUsd).toBeCloseTo(199.0049751, 6);
    expect(p.short.marginUsd).toBeCloseTo(200, 9);
    expect(p.long.liquidationPrice).toBeCloseTo(80.5, 9);
    expect(p.short.liquidationPrice).toBeCloseTo(120.0975, 9);
    const kinds = h.seen.map((e) => e.kind);
    expect(kinds.slice(0, 4)).toEqual(['position_opened', 'fill', 'fill', 'position_updated']);
    // marked at once: long at bid 99.90 → −0.1·Q, short at ask 100.60 → −0.1·Q: −1.990050
    expect(p.unrealisedPnlUsd).toBeCloseTo(-1.9900497512, 9);
  });

  it('walks past the touch size at the impacted price (same assumption as the detector)', () => {
    const h = new Harness();
    // Q = 9.950248756 (sized on the short bid 100.50)
    // okx ask size 4: 4 @ 100 + 5.950248756 @ 100·1.0005 = 100.05 → 995.322388 notional, VWAP 100.029900
    // bybit bid size 2.5: 2.5 @ 100.5 + 7.450248756 @ 100.5·0.9995 = 100.44975 → 999.625625 notional, VWAP 100.462375
    h.quote('okx', 99.9, 100.0, 1000, 4);
    h.quote('bybit', 100.5, 100.6, 2.5, 1000);
    h.step();
    const [buy, sell] = h.runner.fills();
    expect(buy.notionalUsd).toBeCloseTo(4 * 100 + (Q - 4) * 100.05, 9);
    expect(buy.notionalUsd).toBeCloseTo(995.3223881, 6);
    expect(buy.price).toBeCloseTo(100.0299, 6);
    expect(buy.feeUsd).toBeCloseTo(995.3223881 * 0.0005, 9);
    expect(sell.notionalUsd).toBeCloseTo(2.5 * 100.5 + (Q - 2.5) * 100.44975, 9);
    expect(sell.price).toBeCloseTo(100.4623753, 6);
    expect(sell.feeUsd).toBeCloseTo(sell.notionalUsd * 0.0005, 12);
    expect(h.only().long.entryPrice).toBeCloseTo(100.0299, 6);
  });

  it('marks to market at bid (long) and ask (short) and reflects it in the portfolio', () => {
    const h = new Harness();
    h.openStandard();
    h.quote('okx', 100.2, 100.3);
    h.quote('bybit', 100.4, 100.45);
    h.step();
    const p = h.only();
    // long (100.20 − 100.00)·Q = 1.990050; short (100.50 − 100.45)·Q = 0.497512
    expect(p.long.markPrice).toBe(100.2);
    expect(p.short.markPrice).toBe(100.45);
    expect(p.long.unrealisedPnlUsd).toBeCloseTo(1.9900497512, 9);
    expect(p.short.unrealisedPnlUsd).toBeCloseTo(0.4975124378, 9);
    expect(p.unrealisedPnlUsd).toBeCloseTo(2.4875621891, 9);
    // close-side spread (100.45 − 100.20)/100.20 = 24.9501 bps
    expect(p.currentSpreadBps).toBeCloseTo(24.95010, 4);
    const pf = h.runner.portfolio();
    // equity 100000 − 0.997512 + 2.487562 = 100001.490050; reserved 199.004975 + 200 = 399.004975
    expect(pf.equityUsd).toBeCloseTo(100_001.4900497512, 6);
    expect(pf.reservedMarginUsd).toBeCloseTo(399.0049751244, 6);
    expect(pf.availableCapitalUsd).toBeCloseTo(100_001.4900497512 - 399.0049751244, 6);
    expect(pf.feesPaidUsd).toBeCloseTo(0.9975124378, 9);
    expect(pf.exposureByInstrument).toEqual({ [BTC]: 1000 });
    expect(pf.exposureByExchange).toEqual({ okx: 1000, bybit: 1000 });
    expect(pf.grossExposureUsd).toBe(2000);
    expect(pf.dailyPnlUsd).toBeCloseTo(1.4900497512, 9);
    expect(pf.openPositions).toBe(1);
  });

  it('takes one position per instrument and records the others as rejections', () => {
    const h = new Harness();
    h.quote('okx', 99.9, 100.0);
    h.quote('bybit', 100.5, 100.6);
    h.quote('binance', 100.7, 100.8); // a second pair on BTC: okx→binance
    h.step();
    expect(h.runner.positions()).toHaveLength(1);
    const busy = h.runner.rejections().filter((r) => r.reason === 'instrument_busy');
    expect(busy.length).toBeGreaterThan(0);
    expect(h.seen.some((e) => e.kind === 'rejection' && e.rejection.reason === 'instrument_busy')).toBe(true);
  });
});

describe('entry rules and hygiene', () => {
  it('rejects below the minimum projected profit and confidence', () => {
    // spread 50 bps − fees 20 bps − slippage 0 = 30 bps projected
    const h = new Harness({ config: testConfig({ strategy: { minProfitBps: 31 } }) });
    h.openStandard();
    expect(h.runner.positions()).toHaveLength(0);
    expect(h.runner.rejections()[0]).toMatchObject({ reason: 'profit_below_min', opportunityId: `${BTC}|okx|bybit` });
    const c = new Harness({ config: testConfig({ strategy: { minConfidence: 90 } }) });
    c.openStandard(); // confidence: spread 50 bps → 50 + base 20 = 70
    expect(c.runner.rejections()[0].reason).toBe('confidence_below_min');
  });

  it('waits until the opportunity has lived long enough, recording the rejection once', () => {
    const h = new Harness({ config: testConfig({ strategy: { minOpportunityAgeMs: 500 } }) });
    h.openStandard();
    h.advance(100);
    h.advance(100);
    expect(h.runner.positions()).toHaveLength(0);
    expect(h.runner.rejections().map((r) => r.reason)).toEqual(['too_young']); // recorded once, not per pass
    expect(h.runner.rejectionCounts()).toEqual({ too_young: 3 }); // but counted per pass (T0, +100, +200)
    h.advance(300); // lived 500 ms
    expect(h.only().state).toBe('open');
    expect(h.only().openedMs).toBe(T0 + 500);
  });

  it('or has seen enough updates', () => {
    const h = new Harness({ config: testConfig({ strategy: { minOpportunityAgeMs: 60_000, minOpportunityUpdates: 3 } }) });
    h.openStandard(); // the detector counts the open as update 1
    h.quote('bybit', 100.51, 100.6); // update 2
    h.step();
    expect(h.runner.positions()).toHaveLength(0);
    h.quote('bybit', 100.52, 100.6); // update 3
    h.step();
    expect(h.only().short.entryPrice).toBe(100.52);
  });

  it('rejects quotes older than maxQuoteAgeMs', () => {
    const h = new Harness({ config: testConfig({ strategy: { maxQuoteAgeMs: 1000, minOpportunityAgeMs: 1500 } }) });
    h.openStandard();
    h.advance(1500, { refresh: false }); // old enough, but both quotes are 1500 ms old
    expect(h.runner.positions()).toHaveLength(0);
    expect(h.runner.rejections()[0]).toMatchObject({ reason: 'quote_too_old' });
  });

  it('cools an instrument down after an exit', () => {
    const h = new Harness();
    h.openStandard();
    const first = h.runner.closePosition(h.only().id);
    expect(first.state).toBe('closed');
    h.advance(10_000);
    expect(h.runner.positions().filter((p) => p.state !== 'closed')).toHaveLength(0);
    expect(h.runner.rejections()[0]).toMatchObject({ reason: 'cooldown' });
    h.advance(20_000); // 30 s after the exit
    expect(h.runner.positions().filter((p) => p.state === 'open')).toHaveLength(1);
  });
});

describe('risk limits', () => {
  function twoInstruments(h: Harness): void {
    h.quote('okx', 99.9, 100.0);
    h.quote('bybit', 100.5, 100.6);
    h.quote('okx', 9.99, 10.0, 10_000, 10_000, ETH);
    h.quote('bybit', 10.05, 10.06, 10_000, 10_000, ETH);
    h.step();
  }

  it('max open positions', () => {
    const h = new Harness({ config: testConfig({ risk: { maxOpenPositions: 1 } }) });
    twoInstruments(h);
    expect(h.runner.positions()).toHaveLength(1);
    expect(h.runner.rejections()[0]).toMatchObject({ reason: 'max_open_positions', instrument: ETH, detail: '1 open, max 1' });
  });

  // Risk limits SHRINK a new position to the room they leave (issue 14: size = min(notional, capacity,
  // risk limits)); below MIN_ENTRY_SHARE (10 %) of strategy.notionalUsd the entry is rejected instead.
  it('max notional per instrument: sized to the limit', () => {
    // One live position per instrument, so this limit bites when a position's notional exceeds it: config
    // validation forbids that, so apply it the way a hot change without validation would.
    const g = new Harness();
    g.runner.setConfig({ ...g.config, strategy: { ...g.config.strategy, notionalUsd: 900 }, risk: { ...g.config.risk, maxNotionalPerInstrumentUsd: 800 } });
    g.openStandard();
    // 800 USD at the short bid 100.50 = 7.960199 BTC per leg
    expect(g.only()).toMatchObject({ state: 'open', notionalUsd: 800 });
    expect(g.only().short.quantity).toBeCloseTo(800 / 100.5, 9);
    expect(g.runner.rejections()).toHaveLength(0);
  });

  it('max notional per exchange: sized to the room left, rejected below the minimum entry', () => {
    // BTC takes 1000 on okx and bybit; ETH has 1500 − 1000 = 500 left on okx → 500 per leg
    const h = new Harness({ config: testConfig({ risk: { maxNotionalPerExchangeUsd: 1500 } }) });
    twoInstruments(h);
    expect(h.runner.positions().map((p) => [p.instrument, p.notionalUsd])).toEqual([
      [BTC, 1000],
      [ETH, 500],
    ]);
    expect(h.runner.positions()[1].long.quantity).toBeCloseTo(500 / 10.05, 9);
    // 1050: 50 left < 10 % of 1000
    const g = new Harness({ config: testConfig({ risk: { maxNotionalPerExchangeUsd: 1050 } }) });
    twoInstruments(g);
    expect(g.runner.positions()).toHaveLength(1);
    expect(g.runner.rejections()[0]).toMatchObject({ reason: 'max_notional_exchange', detail: 'okx has 1000.00 of 1050.00: 50.00 left < minimum entry 100.00' });
  });

  it('max total exposure: half the gross room per leg', () => {
    // gross 2000 after BTC; 3000 leaves 1000 → ETH at 500 per leg
    const h = new Harness({ config: testConfig({ risk: { maxTotalExposureUsd: 3000 } }) });
    twoInstruments(h);
    expect(h.runner.positions().map((p) => p.notionalUsd)).toEqual([1000, 500]);
    const g = new Harness({ config: testConfig({ risk: { maxTotalExposureUsd: 2100 } }) });
    twoInstruments(g);
    expect(g.runner.rejections()[0]).toMatchObject({ reason: 'max_total_exposure', detail: 'gross exposure 2000.00 of 2100.00: 50.00 left < minimum entry 100.00' });
  });

  it('daily loss limit (today realised + open unrealised), reset at the UTC day boundary', () => {
    const h = new Harness({ config: testConfig({ risk: { dailyLossLimitUsd: 2.9 } }) });
    h.openStandard();
    // today: fees −0.997512; marks long 99.90 → −0.1·Q, short 100.60 → −0.1·Q (−1.990050): −2.987562 ≤ −2.9
    h.quote('okx', 9.99, 10.0, 10_000, 10_000, ETH);
    h.quote('bybit', 10.05, 10.06, 10_000, 10_000, ETH);
    h.step();
    expect(h.runner.portfolio().dailyPnlUsd).toBeCloseTo(-2.9875621891, 9);
    expect(h.runner.positions()).toHaveLength(1);
    expect(h.runner.rejections()[0]).toMatchObject({ reason: 'daily_loss_limit', instrument: ETH, detail: 'daily PnL -2.99 reached the limit -2.90' });
    // 14 h later it is the next UTC day: yesterday's fees drop out, −1.990050 unrealised > −2.9 → ETH is taken
    h.advance(14 * HOUR);
    // today: BTC marks −1.990050; ETH 1000/10.05 = 99.502488 @ 10.00 / 10.05 marked at 9.99 / 10.06 → −1.990050,
    // ETH fees (995.024876 + 1000)·5 bps = 0.997512 → −4.977612
    expect(h.runner.portfolio().dailyPnlUsd).toBeCloseTo(-4.9776119403, 9);
    expect(h.runner.positions().map((p) => p.instrument)).toEqual([BTC, ETH]);
  });

  it('insufficient capital: sized to the margin available', () => {
    // 300 capital at 5x covers 1500 of notional: 750 per leg (margin 2 · 750 / 5 = 300)
    const h = new Harness({ config: testConfig({ strategy: { startingCapitalUsd: 300 } }) });
    h.openStandard();
    expect(h.only()).toMatchObject({ state: 'open', notionalUsd: 750 });
    const g = new Harness({ config: testConfig({ strategy: { startingCapitalUsd: 15 } }) });
    g.openStandard();
    expect(g.runner.rejections()[0]).toMatchObject({ reason: 'insufficient_capital', detail: '15.00 margin available at 5x: 37.50 left < minimum entry 100.00' });
  });
});

describe('trading state (kill switch)', () => {
  it('reducing rejects entries, halted rejects entries; both are events', () => {
    const h = new Harness();
    h.runner.setTradingState('reducing', { reason: 'operator' });
    h.openStandard();
    expect(h.runner.positions()).toHaveLength(0);
    expect(h.runner.rejections()[0].reason).toBe('trading_reducing');
    h.runner.setTradingState('halted', { reason: 'kill switch' });
    h.advance(100);
    expect(h.runner.rejections()[0].reason).toBe('trading_halted');
    expect(h.runner.tradingState()).toBe('halted');
    expect(h.seen.filter((e) => e.kind === 'trading_state').map((e) => (e.kind === 'trading_state' ? [e.state, e.reason] : null))).toEqual([
      ['reducing', 'operator'],
      ['halted', 'kill switch'],
    ]);
    expect(h.runner.portfolio().tradingState).toBe('halted');
  });

  it('halted with closeAll closes every open position with kill_switch', () => {
    const h = new Harness();
    h.quote('okx', 99.9, 100.0);
    h.quote('bybit', 100.5, 100.6);
    h.quote('okx', 9.99, 10.0, 10_000, 10_000, ETH);
    h.quote('bybit', 10.05, 10.06, 10_000, 10_000, ETH);
    h.step();
    expect(h.runner.positions().filter((p) => p.state === 'open')).toHaveLength(2);
    h.runner.setTradingState('halted', { closeAll: true, reason: 'panic' });
    const ps = h.runner.positions();
    expect(ps.map((p) => [p.state, p.exitReason])).toEqual([
      ['closed', 'kill_switch'],
      ['closed', 'kill_switch'],
    ]);
    // BTC exit: sell long Q @ 99.90 (bid), buy short Q @ 100.60 (ask): −0.1·Q − 0.1·Q = −1.990050 price PnL
    const btc = ps.find((p) => p.instrument === BTC);
    const exits = h.runner.fills().filter((f) => f.positionId === btc?.id && f.purpose === 'exit');
    expect(exits.map((f) => [f.side, f.price])).toEqual([
      ['sell', 99.9],
      ['buy', 100.6],
    ]);
    // fees: entry Q·(100 + 100.5)·5 bps = 0.997512 + exit Q·(99.9 + 100.6)·5 bps = 0.997512 → 1.995025
    expect(btc?.feesUsd).toBeCloseTo(1.9950248756, 9);
    expect(btc?.realisedPnlUsd).toBeCloseTo(-1.9900497512 - 1.9950248756, 9);
    h.advance(60_000);
    expect(h.runner.positions().filter((p) => p.state !== 'closed')).toHaveLength(0); // halted: no new entries
  });
});

describe('executor injection', () => {
  it('uses a provided executor', () => {
    const h = new Harness({ executor: (x) => new PaperExecutor({ quote: (i, e) => x.engine.quote(i, e), config: () => x.config, now: x.now, nowUs: () => 0 }) });
    h.openStandard();
    expect(h.only().state).toBe('open');
    expect(HOUR).toBe(3_600_000);
  });
});
