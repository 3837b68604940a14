/**
 * Trap: open/close churn at a threshold. An opportunity whose spread oscillates ±0.5 bp around
 * minSpreadBps for 1,000 updates opens once and stays open (hysteresis), and the real StrategyRunner
 * (MemoryPersistence) trades it once. Without hysteresis the same market flaps, so the test has teeth.
 */
import { describe, expect, it } from 'vitest';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import { Harness, testConfig } from '../strategy/harness.js';

/** 1,000 updates of Bybit's bid alternating 30.5 / 29.5 bps above OKX's ask (deep books, no funding). */
function oscillate(hysteresisBps: number): { events: OpportunityEvent[]; h: Harness } {
  const h = new Harness({ config: testConfig({ thresholds: { minSpreadBps: 30, minProfitBps: 0, hysteresisBps } }) });
  const sub = h.engine.bus.subscribe('churn');
  const events: OpportunityEvent[] = [];
  h.quote('okx', 99.9, 100.0);
  for (let i = 0; i < 1000; i++) {
    h.t += 50;
    h.quote('okx', 99.9, 100.0);
    const bid = i % 2 === 0 ? 100.305 : 100.295;
    h.quote('bybit', bid, bid + 0.1);
    h.step();
    events.push(...sub.popBatch(10_000).filter((e) => e.opportunity.longExchange === 'okx' && e.opportunity.shortExchange === 'bybit'));
  }
  return { events, h };
}

describe('trap: open/close churn at a threshold', () => {
  it('±0.5 bp around minSpreadBps over 1,000 updates: opened once, never closed, one position (hysteresis 2 bps)', () => {
    const { events, h } = oscillate(2);
    expect(events.filter((e) => e.kind === 'opened')).toHaveLength(1);
    expect(events.filter((e) => e.kind === 'closed')).toHaveLength(0);
    const spreads = events.map((e) => e.opportunity.spreadBps);
    expect(Math.min(...spreads)).toBeLessThan(30); // it really dipped under the open threshold
    expect(h.engine.opportunities()).toHaveLength(1);
    expect(h.runner.positions()).toHaveLength(1);
    expect(h.runner.fills()).toHaveLength(2); // one entry per leg, no exits, no re-entries
  });

  it('control: with hysteresis 0 the same market flaps on every update', () => {
    const { events } = oscillate(0);
    expect(events.filter((e) => e.kind === 'opened').length).toBeGreaterThanOrEqual(499);
    expect(events.filter((e) => e.kind === 'closed' && e.reason === 'spread_below_min').length).toBeGreaterThanOrEqual(499);
  });
});
