/**
 * The depth feed against the simulator's twins over real sockets on 127.0.0.1: only candidates are
 * subscribed (within the cap), their books reach the engine consistent with the twin's top of book,
 * releasing them unsubscribes and drops the books, and injected faults (a lost delta, a wrong checksum, a
 * reset, a dropped connection) are counted and resynced.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, applyConfigPatch, type Config } from '../../shared/config.js';
import type { Exchange } from '../../shared/exchanges.js';
import { Engine } from '../../server/engine/engine.js';
import { FeedManager } from '../../server/feeds/manager.js';
import { DepthManager } from '../../server/feeds/depth-manager.js';
import { startSimulator, type Simulator } from '../../server/simulator/index.js';
import { bidPrice, askPrice } from '../../server/simulator/market.js';
import { waitFor } from '../feeds/helpers.js';

const VENUES: Exchange[] = ['bybit', 'okx', 'binance'];
const INSTRUMENTS = ['BTC-PERP', 'ETH-PERP', 'SOL-PERP'];

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function config(depth: Partial<Config['depth']>): Config {
  // Every instrument with two quoting venues qualifies (a distance of 10,000 bps): the cap decides.
  const r = applyConfigPatch(DEFAULT_CONFIG, { depth: { candidateDistanceBps: 10_000, cooldownMs: 0, ...depth } });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

async function setup(depth: Partial<Config['depth']>) {
  const sim: Simulator = await startSimulator({ seed: 7, messagesPerSec: 300, instruments: INSTRUMENTS, exchanges: VENUES, dislocationsPerMin: 0 });
  cleanups.push(() => sim.close());
  const engine = new Engine({ config: config(depth) });
  const feeds = new FeedManager({ engine, exchanges: VENUES, instruments: INSTRUMENTS, endpoints: sim.endpoints, silenceMs: 5000 });
  cleanups.push(() => feeds.stop());
  await feeds.start();
  await waitFor('quote feeds live', () => feeds.states().every((s) => s.status === 'live'), 15_000);
  const quoteTopics = sim.stats().subscriptions;
  const depthManager = new DepthManager({ engine, host: feeds, intervalMs: 100_000 });
  cleanups.push(() => depthManager.stop());
  const depthTopics = (ex: Exchange) => sim.stats().subscriptions[ex] - quoteTopics[ex];
  const feedOf = (ex: Exchange) => depthManager.feed(ex);
  return { sim, engine, feeds, depthManager, depthTopics, feedOf };
}

describe('depth feed against the twins', () => {
  it('subscribes the candidates only, books match the twin touch, release unsubscribes and drops them', { timeout: 60_000 }, async () => {
    const s = await setup({ maxInstruments: 1 });
    // Let the quotes of every instrument arrive, so the selection sees them.
    await waitFor('quotes of every instrument', () => INSTRUMENTS.every((k) => VENUES.every((ex) => s.engine.quote(k, ex)?.usable === true)), 15_000);
    await s.depthManager.refresh();
    expect(s.depthManager.status().candidates).toBe(1);
    for (const ex of VENUES) {
      await waitFor(`${ex} depth subscribed`, () => s.depthTopics(ex) === 1, 10_000);
      await waitFor(`${ex} book in sync`, () => s.feedOf(ex)?.status().books === 1, 10_000);
    }
    const symbolOf = (ex: Exchange) => s.feedOf(ex)!.subscribed[0]!;
    // The held book's top is the twin's touch (once the feed has caught up with the model).
    for (const ex of VENUES) {
      const id = s.engine.instruments.id(ex, symbolOf(ex));
      const pair = s.sim.model.findListed(ex, symbolOf(ex))!;
      await waitFor(`${ex} book top = twin touch`, () => {
        const b = s.engine.depth.get(id);
        return b !== undefined && Math.abs(b.bids.prices[0]! / bidPrice(pair) - 1) < 1e-12 && Math.abs(b.asks.prices[0]! / askPrice(pair) - 1) < 1e-12;
      }, 10_000);
      const b = s.engine.depth.get(id)!;
      expect(b.bids.length).toBe(20); // config depth.levels
      for (let i = 1; i < b.bids.length; i++) expect(b.bids.prices[i]!).toBeLessThan(b.bids.prices[i - 1]!);
      for (let i = 1; i < b.asks.length; i++) expect(b.asks.prices[i]!).toBeGreaterThan(b.asks.prices[i - 1]!);
    }
    // Release: depth off → every depth topic unsubscribed, books gone from the engine.
    const ids = VENUES.map((ex) => s.engine.instruments.id(ex, symbolOf(ex)));
    s.engine.setConfig(config({ enabled: false }));
    await s.depthManager.refresh();
    for (const ex of VENUES) await waitFor(`${ex} depth unsubscribed`, () => s.depthTopics(ex) === 0, 10_000);
    for (const id of ids) expect(s.engine.depth.get(id)).toBeUndefined();
    expect(s.engine.depthStats().dropped.released).toBe(3);
  });

  it('counts and resyncs injected faults: a lost delta (gap), a wrong checksum, a reset, a dropped socket', { timeout: 60_000 }, async () => {
    const s = await setup({ maxInstruments: 3 });
    await waitFor('quotes of every instrument', () => INSTRUMENTS.every((k) => VENUES.every((ex) => s.engine.quote(k, ex)?.usable === true)), 15_000);
    await s.depthManager.refresh();
    for (const ex of VENUES) await waitFor(`${ex} books in sync`, () => s.feedOf(ex)?.status().books === 3, 15_000);
    for (const ex of VENUES) for (const sym of s.feedOf(ex)!.subscribed) expect(s.sim.injectDepthFault(ex, sym, 'gap')).toBe(true);
    for (const ex of VENUES) {
      await waitFor(`${ex} gaps counted`, () => s.feedOf(ex)!.status().gaps === 3, 15_000);
      await waitFor(`${ex} books back in sync`, () => s.feedOf(ex)!.status().books === 3, 15_000);
    }
    expect(s.feedOf('binance')!.status().restSnapshots).toBeGreaterThanOrEqual(6); // 3 at start, 3 after the gaps

    const okxSym = s.feedOf('okx')!.subscribed[0]!;
    s.sim.injectDepthFault('okx', okxSym, 'checksum');
    await waitFor('okx checksum failure counted', () => s.feedOf('okx')!.status().checksumFailures === 1, 15_000);
    await waitFor('okx book back in sync', () => s.feedOf('okx')!.status().books === 3, 15_000);

    const bybitSym = s.feedOf('bybit')!.subscribed[0]!;
    s.sim.injectDepthFault('bybit', bybitSym, 'reset');
    await waitFor('bybit reset counted', () => s.feedOf('bybit')!.status().resyncs === 4, 15_000); // 3 gaps + 1 reset
    expect(s.feedOf('bybit')!.status().books).toBe(3); // a reset's snapshot is used at once

    const before = s.feedOf('okx')!.status().resyncs;
    s.sim.dropConnections('okx');
    await waitFor('okx books dropped on disconnect', () => s.feedOf('okx')!.status().resyncs >= before + 3, 15_000);
    await waitFor('okx books back after reconnect', () => s.feedOf('okx')!.status().books === 3, 15_000);
    const st = s.depthManager.status();
    expect(st.venues.map((v) => v.exchange).sort()).toEqual([...VENUES].sort());
    for (const v of st.venues) expect(v.messages).toBeGreaterThan(0);
  });
});
