import { describe, expect, it } from 'vitest';
import { Engine } from '../../server/engine/engine.js';
import { OpportunityWatch } from '../../server/strategy/opportunity-watch.js';
import { BTC, ETH, testConfig } from './harness.js';

/** Two instruments on two venues; `cross(ids, bump)` makes (or moves) a bybit-over-okx spread. */
function setup() {
  const config = testConfig();
  const engine = new Engine({ config });
  const ids = {
    btcOkx: engine.registerInstrument('okx', 'BTC-USDT-SWAP', { base: 'BTC', quote: 'USDT' }),
    btcBybit: engine.registerInstrument('bybit', 'BTCUSDT', { base: 'BTC', quote: 'USDT' }),
    ethOkx: engine.registerInstrument('okx', 'ETH-USDT-SWAP', { base: 'ETH', quote: 'USDT' }),
    ethBybit: engine.registerInstrument('bybit', 'ETHUSDT', { base: 'ETH', quote: 'USDT' }),
  };
  const cross = (okx: number, bybit: number, px: number, bump = 0) => {
    engine.pushQuote(okx, px * 0.999, px, 1e4, 1e4, Date.now(), 0);
    engine.pushQuote(bybit, px * (1.005 + bump), px * (1.006 + bump), 1e4, 1e4, Date.now(), 0);
    engine.drain();
  };
  return { engine, ids, cross };
}

describe('OpportunityWatch.takeChanged', () => {
  it('returns only the opportunities opened or updated since the last call', () => {
    const { engine, ids, cross } = setup();
    const watch = new OpportunityWatch(engine, () => {});
    expect(watch.takeChanged()).toEqual([]); // nothing open at construction
    cross(ids.btcOkx, ids.btcBybit, 100);
    watch.consume(() => {});
    expect(watch.takeChanged().map((o) => o.instrument)).toEqual([BTC]);
    expect(watch.takeChanged()).toEqual([]); // taken
    cross(ids.ethOkx, ids.ethBybit, 10);
    watch.consume(() => {});
    expect(watch.takeChanged().map((o) => o.instrument)).toEqual([ETH]); // BTC did not change
    expect(watch.size).toBe(2);
    cross(ids.btcOkx, ids.btcBybit, 100, 0.002); // BTC's spread moves: an update
    watch.consume(() => {});
    const changed = watch.takeChanged();
    expect(changed.map((o) => o.instrument)).toEqual([BTC]);
    expect(changed[0].spreadBps).toBe(engine.opportunities().find((o) => o.instrument === BTC)?.spreadBps);
  });

  it('leaves out one that closed, and returns every open one after a resync', () => {
    const { engine, ids, cross } = setup();
    cross(ids.btcOkx, ids.btcBybit, 100); // open before the watch exists: picked up by its first resync
    const watch = new OpportunityWatch(engine, () => {});
    expect(watch.takeChanged().map((o) => o.instrument)).toEqual([BTC]);
    cross(ids.ethOkx, ids.ethBybit, 10);
    // ETH's spread closes before the watch takes its changes
    engine.pushQuote(ids.ethBybit, 9.99, 10, 1e4, 1e4, Date.now(), 0);
    engine.drain();
    watch.consume(() => {});
    expect(watch.takeChanged()).toEqual([]);
  });
});
