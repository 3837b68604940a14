import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { Persistence } from '../../server/persistence/persistence.js';
import { createPersistence } from '../../server/persistence/index.js';
import { MemoryPersistence } from '../../server/persistence/memory.js';
import { REDIS_URL, describeWith } from '../helpers/services.js';
import { HOUR, Harness, STD_QTY, T0 } from './harness.js';

/** Open a position, accrue one funding settlement, move the marks: the state a restart must keep. */
function tradedHarness(persistence: Persistence): Harness {
  const h = new Harness({ persistence });
  h.funding('okx', 0.0001, 8 * HOUR, T0 + HOUR);
  h.funding('bybit', 0.0003, 8 * HOUR, T0 + HOUR);
  h.openStandard();
  h.quote('okx', 100.2, 100.3);
  // funding (quantity STD_QTY = 9.950249): long −0.0001·(Q·100.2 = 997.014925) = −0.099701,
  // short +0.0003·(Q·100.6 = 1000.995025) = +0.300299 → +0.200597
  h.advance(HOUR);
  return h;
}

async function restartExact(h: Harness, persistence: Persistence): Promise<void> {
  const before = { positions: h.runner.positions(), fills: h.runner.fills(), portfolio: h.runner.portfolio(), state: h.runner.tradingState() };
  expect(before.positions[0].fundingUsd).toBeCloseTo(0.2005970149, 9);
  await h.restart(persistence);
  // Identical, except that the marks from before the stop are flagged stale until quotes re-mark them.
  expect(h.runner.positions()).toEqual(before.positions.map((p) => ({ ...p, markStale: true })));
  expect(h.runner.fills()).toEqual(before.fills);
  expect(h.runner.tradingState()).toBe(before.state);
  expect({ ...h.runner.portfolio(), tsMs: 0 }).toEqual({ ...before.portfolio, tsMs: 0, staleMarkPositions: 1 });
  // no second accrual for the settlement already booked, no new trades
  h.advance(1000);
  expect(h.only().markStale).toBe(false); // fresh quotes re-marked it
  expect(h.only().fundingUsd).toBeCloseTo(0.2005970149, 9);
  expect(h.runner.fills()).toHaveLength(2);
}

/** Feed down on bybit → closing; the okx leg is exited, the bybit leg waits. */
function midClose(h: Harness): void {
  h.engine.setExchangeDown('bybit', true);
  h.advance(100);
  expect(h.only()).toMatchObject({ state: 'closing', exitReason: 'feed_down' });
  expect(h.runner.fills().map((f) => f.id)).toEqual(['pos-1:entry:long', 'pos-1:entry:short', 'pos-1:exit:long:1']);
}

async function finishAfterRestart(h: Harness, persistence: Persistence): Promise<void> {
  await h.restart(persistence);
  expect(h.only()).toMatchObject({ state: 'closing', exitReason: 'feed_down' });
  h.advance(100); // bybit still down: nothing trades, the okx leg is NOT exited again
  expect(h.runner.fills()).toHaveLength(3);
  h.engine.setExchangeDown('bybit', false);
  h.advance(100);
  const p = h.only();
  expect(p.state).toBe('closed');
  expect(h.runner.fills().map((f) => f.id)).toEqual(['pos-1:entry:long', 'pos-1:entry:short', 'pos-1:exit:long:1', 'pos-1:exit:short:1']);
  // exits: long sold at 100.20 → +0.2·Q, short bought at 100.60 → −0.1·Q: +0.995025;
  // fees 0.997512 + Q·100.2·5 bps (0.498507) + Q·100.6·5 bps (0.500498) = 1.996517; funding 0.200597
  expect(p.realisedPnlUsd).toBeCloseTo(0.9950248756 - 1.9965174129 + 0.2005970149, 9);
  expect(h.runner.portfolio().realisedPnlUsd).toBeCloseTo(0.9950248756 - 1.9965174129 + 0.2005970149, 9);
}

describe('restore (memory persistence)', () => {
  it('rebuilds positions, fills and portfolio exactly', async () => {
    const store = new MemoryPersistence();
    await restartExact(tradedHarness(store), store);
  });

  it('finishes a position found closing after a restart once, without re-trading', async () => {
    const store = new MemoryPersistence();
    const h = tradedHarness(store);
    midClose(h);
    await finishAfterRestart(h, store);
  });

  it('unwinds a position found opening (restart between the two entry fills)', async () => {
    // The state a crash leaves after the long fill was recorded and before the short one was.
    const run = new Harness();
    run.openStandard();
    const done = run.only();
    const [longFill] = run.runner.fills();
    const store = new MemoryPersistence();
    store.savePosition({
      ...done,
      state: 'opening',
      short: { ...done.short, quantity: 0, entryPrice: 0, feesUsd: 0 },
      transitions: done.transitions.slice(0, 1),
      feesUsd: longFill.feeUsd,
      realisedPnlUsd: -longFill.feeUsd,
    });
    store.saveFill(longFill);
    const h = new Harness({ persistence: store });
    h.quote('okx', 99.9, 100.0);
    h.quote('bybit', 100.5, 100.6);
    await h.restart(store);
    expect(h.only()).toMatchObject({ state: 'closing', exitReason: 'leg_failed' });
    h.step();
    const p = h.only();
    expect(p.state).toBe('closed');
    expect(p.transitions.map((t) => t.to)).toEqual(['opening', 'closing', 'closed']);
    expect(h.runner.fills().map((f) => [f.purpose, f.side, f.exchange, f.quantity])).toEqual([
      ['entry', 'buy', 'okx', STD_QTY],
      ['unwind', 'sell', 'okx', STD_QTY],
    ]);
    // the short leg never traded
    expect(h.runner.fills().some((f) => f.exchange === 'bybit')).toBe(false);
  });

  it('keeps trading state and cooldowns across a restart', async () => {
    const store = new MemoryPersistence();
    const h = new Harness({ persistence: store });
    h.openStandard();
    h.runner.closePosition(h.only().id);
    h.runner.setTradingState('reducing', { reason: 'test' });
    await h.restart(store);
    expect(h.runner.tradingState()).toBe('reducing');
    h.runner.setTradingState('active');
    h.advance(1000);
    expect(h.runner.rejections()[0].reason).toBe('cooldown');
    expect(h.runner.positions().map((p) => p.state)).toEqual(['closed']);
  });
});

describeWith(['redis'], 'restore from the real Redis', () => {
  const prefixes: string[] = [];
  const opened: Persistence[] = [];
  const unique = (name: string) => {
    const p = `perpscan-test:strategy:${name}:${process.pid}:${Date.now().toString(36)}:`;
    prefixes.push(p);
    return p;
  };
  async function redisStore(prefix: string): Promise<Persistence> {
    const p = createPersistence({ redisUrl: REDIS_URL, prefix });
    opened.push(p);
    await p.open();
    return p;
  }

  afterAll(async () => {
    await Promise.all(opened.map((p) => p.close()));
    const r = new Redis(REDIS_URL);
    for (const prefix of prefixes) {
      const keys = await r.keys(`${prefix}*`);
      if (keys.length > 0) await r.del(...keys);
    }
    r.disconnect();
  });

  it('restores positions, fills and portfolio exactly through a new Redis connection', async () => {
    const prefix = unique('exact');
    const first = await redisStore(prefix);
    const h = tradedHarness(first);
    await first.flush();
    await restartExact(h, await redisStore(prefix));
  });

  it('finishes a closing position once after a restart', async () => {
    const prefix = unique('closing');
    const first = await redisStore(prefix);
    const h = tradedHarness(first);
    midClose(h);
    await first.flush();
    await finishAfterRestart(h, await redisStore(prefix));
  });
});

describe('restore of first-release keys', () => {
  it('renames a persisted BTC-USDT-PERP position (and its opportunity id) to the per-underlying key', async () => {
    const { rebuildBooks } = await import('../../server/strategy/restore.js');
    const h = tradedHarness(new MemoryPersistence());
    const current = h.only();
    const legacyKey = current.instrument.replace(/-PERP$/, '-USDT-PERP');
    const legacy = structuredClone({ ...current, instrument: legacyKey, opportunityId: current.opportunityId.replace(current.instrument, legacyKey) });
    const { books } = rebuildBooks([legacy], h.runner.fills());
    expect(books[0].p.instrument).toBe(current.instrument);
    expect(books[0].p.opportunityId).toBe(current.opportunityId);
  });
});
