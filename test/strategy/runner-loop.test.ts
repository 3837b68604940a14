import { describe, expect, it } from 'vitest';
import { Engine } from '../../server/engine/engine.js';
import { MemoryPersistence } from '../../server/persistence/memory.js';
import { StrategyRunner } from '../../server/strategy/runner.js';
import { BTC, ETH, Harness, testConfig } from './harness.js';

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('runner loop', () => {
  it('start() trades on bus wake and runs exits on its timer; stop() stops it', async () => {
    const config = testConfig({ exits: { maxHoldingMs: 200 } });
    const engine = new Engine({ config });
    const okx = engine.registerInstrument('okx', 'BTC-USDT-SWAP', { base: 'BTC', quote: 'USDT' });
    const bybit = engine.registerInstrument('bybit', 'BTCUSDT', { base: 'BTC', quote: 'USDT' });
    const runner = new StrategyRunner({ engine, config, persistence: new MemoryPersistence(), stepIntervalMs: 20 });
    runner.start();
    try {
      engine.pushQuote(okx, 99.9, 100, 1000, 1000, Date.now(), 0);
      engine.pushQuote(bybit, 100.5, 100.6, 1000, 1000, Date.now(), 0);
      engine.drain();
      await until(() => runner.positions().length === 1);
      const opened = runner.positions()[0];
      expect(opened.state).toBe('open');
      // no further bus events: the timer's passes close it after 200 ms (quotes kept fresh meanwhile)
      const keepFresh = setInterval(() => {
        engine.pushQuote(okx, 99.9, 100, 1000, 1000, Date.now(), 0);
        engine.pushQuote(bybit, 100.5, 100.6, 1000, 1000, Date.now(), 0);
        engine.drain();
      }, 50);
      await until(() => runner.positions()[0].state === 'closed').finally(() => clearInterval(keepFresh));
      expect(runner.positions()[0].exitReason).toBe('max_holding_time');
    } finally {
      runner.stop();
    }
    const steps = runner.portfolio().tsMs;
    await new Promise((r) => setTimeout(r, 80));
    expect(runner.portfolio().tsMs).toBe(steps); // stopped: no more passes
  });

  it('resynchronises from the engine\'s open set after falling behind the bus', () => {
    const h = new Harness();
    // a tiny bus: the runner will miss events
    const engine = new Engine({ config: h.config, now: h.now, busCapacity: 2 });
    const ids = {
      btcOkx: engine.registerInstrument('okx', 'BTC-USDT-SWAP', { base: 'BTC', quote: 'USDT' }),
      btcBybit: engine.registerInstrument('bybit', 'BTCUSDT', { base: 'BTC', quote: 'USDT' }),
      ethOkx: engine.registerInstrument('okx', 'ETH-USDT-SWAP', { base: 'ETH', quote: 'USDT' }),
      ethBybit: engine.registerInstrument('bybit', 'ETHUSDT', { base: 'ETH', quote: 'USDT' }),
    };
    const runner = new StrategyRunner({ engine, config: h.config, persistence: new MemoryPersistence(), now: h.now });
    engine.pushQuote(ids.btcOkx, 99.9, 100, 1000, 1000, h.t, 0);
    engine.pushQuote(ids.btcBybit, 100.5, 100.6, 1000, 1000, h.t, 0);
    engine.pushQuote(ids.ethOkx, 9.99, 10, 1e4, 1e4, h.t, 0);
    engine.pushQuote(ids.ethBybit, 10.05, 10.06, 1e4, 1e4, h.t, 0);
    for (let i = 1; i <= 5; i++) engine.pushQuote(ids.ethBybit, 10.05 + i * 0.001, 10.06 + i * 0.001, 1e4, 1e4, h.t, 0);
    engine.drain();
    runner.step(h.t);
    expect(runner.missedOpportunityEvents()).toBeGreaterThan(0);
    expect(runner.positions().map((p) => p.instrument).sort()).toEqual([BTC, ETH]);
  });

  it('emits every transition, fill and rejection on its events ring', () => {
    const h = new Harness();
    h.openStandard();
    h.runner.closePosition(h.only().id);
    h.step();
    const kinds = h.seen.map((e) => e.kind);
    expect(kinds.filter((k) => k === 'position_opened')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'fill')).toHaveLength(4);
    expect(kinds.filter((k) => k === 'position_closed')).toHaveLength(1);
    expect(kinds).toContain('portfolio');
    const transitions = h.seen.flatMap((e) => (e.kind.startsWith('position_') && 'position' in e ? [e.position.state] : []));
    expect(transitions).toEqual(expect.arrayContaining(['opening', 'open', 'closing', 'closed']));
  });
});
