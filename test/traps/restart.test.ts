/**
 * Trap: state lost on restart. A whole new process is modelled: a NEW Engine (empty market store) and
 * a new StrategyRunner restored from the same MemoryPersistence; the venues then send the same market
 * again. The restored position must have the same PnL, and no funding settlement is booked twice.
 */
import { describe, expect, it } from 'vitest';
import { MemoryPersistence } from '../../server/persistence/memory.js';
import { HOUR, Harness, T0 } from '../strategy/harness.js';

describe('trap: state lost on restart', () => {
  it('a position restored into a fresh engine and runner has the same PnL, fills and funding', async () => {
    const store = new MemoryPersistence();
    const a = new Harness({ persistence: store });
    a.funding('okx', 0.0001, 8 * HOUR, T0 + HOUR);
    a.funding('bybit', 0.0003, 8 * HOUR, T0 + HOUR);
    a.openStandard(); // long okx @100.00, short bybit @100.50, 10 BTC each
    a.quote('okx', 100.2, 100.3);
    a.advance(HOUR); // one settlement booked at T0 + 1 h
    a.advance(1000);
    const before = a.only();
    expect(before.fundingUsd).not.toBe(0);
    expect(before.unrealisedPnlUsd).not.toBe(0);
    const fillsBefore = a.runner.fills();
    const portfolioBefore = a.runner.portfolio();

    // "Process restart": nothing survives but the persistence.
    const b = new Harness({ persistence: store });
    b.t = a.t;
    await b.runner.restore();
    // Identical, except that the marks from before the stop are flagged stale until quotes arrive.
    expect(b.runner.positions()).toEqual(a.runner.positions().map((p) => ({ ...p, markStale: true })));
    // The venues resend the same market (quotes and the funding now pointing at the next settlement).
    b.funding('okx', 0.0001, 8 * HOUR, T0 + 9 * HOUR);
    b.funding('bybit', 0.0003, 8 * HOUR, T0 + 9 * HOUR);
    b.quote('okx', 100.2, 100.3);
    b.quote('bybit', 100.5, 100.6);
    b.step();
    const after = b.only();
    expect(after.state).toBe('open');
    expect(after.markStale).toBe(false);
    expect(after.unrealisedPnlUsd).toBeCloseTo(before.unrealisedPnlUsd, 12);
    expect(after.realisedPnlUsd).toBeCloseTo(before.realisedPnlUsd, 12);
    expect(after.fundingUsd).toBeCloseTo(before.fundingUsd, 12); // the 1 h settlement is not booked again
    expect(after.long.nextFundingMs).toBe(T0 + 9 * HOUR);
    expect(b.runner.fills()).toEqual(fillsBefore); // no re-trade
    const pf = b.runner.portfolio();
    expect(pf.realisedPnlUsd).toBeCloseTo(portfolioBefore.realisedPnlUsd, 12);
    expect(pf.unrealisedPnlUsd).toBeCloseTo(portfolioBefore.unrealisedPnlUsd, 12);
    expect(pf.equityUsd).toBeCloseTo(portfolioBefore.equityUsd, 9);
  });
});
