/**
 * FeedManager.reconfigure against the real simulator with the real Engine: instruments added and removed
 * on live sockets (no reconnect), an instrument a venue does not list reported, venues disabled and
 * re-enabled; and the feed-side latency stages recorded once frames flow.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { applyConfigPatch, type Config, DEFAULT_CONFIG } from '../../shared/config.js';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import { Engine } from '../../server/engine/index.js';
import { VENUES, defaultSymbolOfKey as nativeSymbol } from '../../server/venues/index.js';
import { FeedManager, createFetchJson } from '../../server/feeds/index.js';
import { bybitAdapter } from '../../server/venues/bybit/adapter.js';
import { startSimulator, type Simulator } from '../../server/simulator/index.js';
import { sleep, waitFor } from './helpers.js';

/** The simulator fixes its instruments at start: give it a superset of what the tests configure. */
const SIM_INSTRUMENTS = ['BTC-PERP', 'ETH-PERP', 'SOL-PERP'];
const NOT_LISTED = 'ZZZ-PERP';
const FAST_BACKOFF = { initialMs: 50, maxMs: 400, factor: 2 };

function config(market: { exchanges: Exchange[]; instruments: string[] }): Config {
  const r = applyConfigPatch(DEFAULT_CONFIG, { market });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(market: { exchanges: Exchange[]; instruments: string[] }): Promise<{ sim: Simulator; engine: Engine; fm: FeedManager }> {
  const sim = await startSimulator({ seed: 11, messagesPerSec: 600, instruments: SIM_INSTRUMENTS });
  cleanups.push(() => sim.close());
  const engine = new Engine({ config: config(market) });
  const fm = new FeedManager({ engine, exchanges: market.exchanges, instruments: market.instruments, endpoints: sim.endpoints, silenceMs: 3000, backoff: FAST_BACKOFF });
  cleanups.push(() => fm.stop());
  await fm.start();
  return { sim, engine, fm };
}

const state = (fm: FeedManager, ex: Exchange) => fm.states().find((s) => s.exchange === ex);
const usable = (engine: Engine, key: string, ex: Exchange) => engine.quote(key, ex)?.usable === true;

describe('FeedManager.reconfigure (simulator, real engine)', () => {
  it('adds and removes instruments on the live sockets of every venue, and reports an unlisted one', async () => {
    const { sim, fm, engine } = await setup({ exchanges: [...EXCHANGES], instruments: ['BTC-PERP'] });
    // Topics the adapter plans for these keys (per symbol, plus any channel a venue shares across symbols).
    const planned = async (ex: Exchange, keys: string[]) =>
      (await VENUES[ex].adapter.plan(sim.endpoints[ex], keys.map((k) => nativeSymbol(ex, k)), createFetchJson(), {})).reduce((n, p) => n + p.topicCount, 0);
    await waitFor('all live', () => fm.states().every((s) => s.status === 'live'));
    await waitFor('BTC everywhere', () => EXCHANGES.every((ex) => usable(engine, 'BTC-PERP', ex)));
    const subsBefore = Object.fromEntries(fm.states().map((s) => [s.exchange, s.subscriptions]));
    expect(engine.instruments.idFor('ETH-PERP', 'okx')).toBeLessThan(0);

    await fm.reconfigure({ exchanges: [...EXCHANGES], instruments: ['BTC-PERP', 'ETH-PERP', NOT_LISTED] });
    await waitFor('ETH everywhere', () => EXCHANGES.every((ex) => usable(engine, 'ETH-PERP', ex)));
    for (const s of fm.states()) {
      expect(s.status).toBe('live');
      expect(s.reconnects).toBe(0); // changed in place: no socket was re-made
      expect(s.subscriptions).toBe(await planned(s.exchange, ['BTC-PERP', 'ETH-PERP']));
      expect(s.subscriptions).toBeGreaterThan(subsBefore[s.exchange]!);
      expect(s.unlisted).toEqual([NOT_LISTED]); // a key: a venue that does not list it has no symbol for it
      expect(s.errors).toEqual({}); // acks of the changes are understood
    }
    expect(engine.instruments.idFor(NOT_LISTED, 'bybit')).toBeLessThan(0); // never guessed

    // Remove BTC: its quotes stop arriving; ETH carries on.
    const ethOnly = Object.fromEntries(await Promise.all(EXCHANGES.map(async (ex) => [ex, await planned(ex, ['ETH-PERP'])] as const)));
    await fm.reconfigure({ exchanges: [...EXCHANGES], instruments: ['ETH-PERP'] });
    // Unsubscribes processed by every venue (the simulator's own count of topics), then BTC frames already on
    // the wire read: no BTC quote for 300 ms (if BTC kept coming, the checks below fail). Only then is the
    // "no more BTC" baseline taken.
    await waitFor('unsubscribes processed', () => EXCHANGES.every((ex) => sim.stats().subscriptions[ex] === ethOnly[ex]));
    const btcNow = () => EXCHANGES.map((ex) => engine.quote('BTC-PERP', ex)!.receivedMs).join();
    const settling = Date.now();
    for (let last = btcNow(), since = Date.now(); Date.now() - since < 300 && Date.now() - settling < 5000; ) {
      await sleep(20);
      const now = btcNow();
      if (now !== last) [last, since] = [now, Date.now()];
    }
    const btcAt = Object.fromEntries(EXCHANGES.map((ex) => [ex, engine.quote('BTC-PERP', ex)!.receivedMs]));
    const ethAt = Object.fromEntries(EXCHANGES.map((ex) => [ex, engine.quote('ETH-PERP', ex)!.receivedMs]));
    await sleep(1500);
    for (const ex of EXCHANGES) {
      expect(engine.quote('BTC-PERP', ex)!.receivedMs, ex).toBe(btcAt[ex]);
      expect(state(fm, ex)!.subscriptions).toBe(subsBefore[ex]);
      expect(state(fm, ex)!.unlisted).toBeUndefined();
      expect(state(fm, ex)!.reconnects).toBe(0);
      expect(state(fm, ex)!.errors).toEqual({});
    }
    // Binance's markPrice stream is 1 s: check quotes where they tick often.
    for (const ex of EXCHANGES) expect(engine.quote('ETH-PERP', ex)!.receivedMs, ex).toBeGreaterThan(ethAt[ex]!);

    // And back: a removed instrument can be added again (fresh snapshot, Bybit merge base rebuilt).
    await fm.reconfigure({ exchanges: [...EXCHANGES], instruments: ['ETH-PERP', 'BTC-PERP'] });
    await waitFor('BTC back', () => EXCHANGES.every((ex) => engine.quote('BTC-PERP', ex)!.receivedMs > btcAt[ex]!));
    for (const s of fm.states()) expect(s.errors).toEqual({});
  });

  it('disables a venue (sockets closed, quotes forgotten, opportunities closed) and enables it again', async () => {
    const market = { exchanges: [...EXCHANGES], instruments: ['BTC-PERP', 'ETH-PERP'] };
    const { fm, engine, sim } = await setup(market);
    const closed: string[] = [];
    const sub = engine.bus.subscribe('test');
    cleanups.push(() => sub.close());
    await waitFor('all live', () => fm.states().every((s) => s.status === 'live'));
    await waitFor('okx quotes', () => usable(engine, 'BTC-PERP', 'okx'));
    expect(sim.stats().connections.okx).toBeGreaterThan(0);

    const without = { exchanges: EXCHANGES.filter((e) => e !== 'okx'), instruments: market.instruments };
    engine.setConfig(config(without)); // the order server/app.ts uses: engine first, then feeds
    await fm.reconfigure(without);
    expect(fm.states().map((s) => s.exchange)).not.toContain('okx');
    expect(usable(engine, 'BTC-PERP', 'okx')).toBe(false);
    await waitFor('simulator sees okx gone', () => sim.stats().connections.okx === 0);
    for (const e of sub.popBatch(100_000)) if (e.kind === 'closed') closed.push(`${e.opportunity.longExchange}/${e.opportunity.shortExchange}:${e.reason}`);
    expect(engine.opportunities().some((o) => o.longExchange === 'okx' || o.shortExchange === 'okx')).toBe(false);
    for (const c of closed.filter((c) => c.includes('okx'))) expect(c.endsWith(':config_changed')).toBe(true);
    const sentAfter = sim.stats().sent.okx;
    await sleep(300);
    expect(sim.stats().sent.okx).toBe(sentAfter);
    expect(fm.states().every((s) => s.status === 'live')).toBe(true);

    engine.setConfig(config(market));
    await fm.reconfigure(market);
    await waitFor('okx live again', () => state(fm, 'okx')?.status === 'live');
    await waitFor('okx quotes again', () => usable(engine, 'BTC-PERP', 'okx') && usable(engine, 'ETH-PERP', 'okx'));
    expect(sim.stats().connections.okx).toBeGreaterThan(0);
  });

  it('re-makes the sockets when the venue cannot change them in place', async () => {
    const sim = await startSimulator({ seed: 13, messagesPerSec: 300, instruments: SIM_INSTRUMENTS });
    cleanups.push(() => sim.close());
    const market = { exchanges: ['bybit'] as Exchange[], instruments: ['BTC-PERP'] };
    const engine = new Engine({ config: config(market) });
    // The same adapter without in-place changes (as for a socket layout that has to split).
    const fm = new FeedManager({ engine, ...market, endpoints: sim.endpoints, backoff: FAST_BACKOFF, adapters: { bybit: { ...bybitAdapter, liveChange: undefined } } });
    cleanups.push(() => fm.stop());
    await fm.start();
    await waitFor('BTC', () => usable(engine, 'BTC-PERP', 'bybit'));
    await fm.reconfigure({ exchanges: ['bybit'], instruments: ['BTC-PERP', 'ETH-PERP'] });
    await waitFor('ETH', () => usable(engine, 'ETH-PERP', 'bybit'));
    await waitFor('one socket again', () => sim.stats().connections.bybit === 1);
    expect(state(fm, 'bybit')).toMatchObject({ status: 'live', subscriptions: 2, connections: 1, errors: {} });
  });

  it('a change made before start() is what start() connects', async () => {
    const sim = await startSimulator({ seed: 12, messagesPerSec: 300, instruments: SIM_INSTRUMENTS });
    cleanups.push(() => sim.close());
    const engine = new Engine({ config: config({ exchanges: ['bybit'], instruments: ['BTC-PERP'] }) });
    const fm = new FeedManager({ engine, exchanges: ['bybit'], instruments: ['BTC-PERP'], endpoints: sim.endpoints, backoff: FAST_BACKOFF });
    cleanups.push(() => fm.stop());
    engine.setConfig(config({ exchanges: ['binance'], instruments: ['SOL-PERP'] }));
    await fm.reconfigure({ exchanges: ['binance'], instruments: ['SOL-PERP'] });
    await fm.start();
    await waitFor('binance SOL', () => usable(engine, 'SOL-PERP', 'binance'));
    expect(fm.states().map((s) => s.exchange)).toEqual(['binance']);
    expect(sim.stats().connections.bybit).toBe(0);
  });

  it('records receive_to_parsed and parsed_to_pipeline once frames flow', async () => {
    const { fm, engine } = await setup({ exchanges: ['bybit', 'binance'], instruments: ['BTC-PERP'] });
    const before = fm.latency();
    expect(before.receive_to_parsed?.count).toBe(0);
    await waitFor('frames', () => (fm.latency().parsed_to_pipeline?.count ?? 0) >= 50);
    const l = fm.latency();
    for (const stage of ['receive_to_parsed', 'parsed_to_pipeline'] as const) {
      const s = l[stage]!;
      expect(s.count, stage).toBeGreaterThanOrEqual(50);
      expect(s.p50Us, stage).toBeGreaterThan(0);
      expect(s.p99Us, stage).toBeGreaterThanOrEqual(s.p50Us);
      expect(s.p99Us, stage).toBeLessThan(60e6);
    }
    // One sample per data frame: never more than the records the engine processed.
    expect(l.receive_to_parsed!.count).toBeLessThanOrEqual(engine.stats().updates);
    fm.resetLatency();
    expect(fm.latency().receive_to_parsed!.count).toBeLessThan(l.receive_to_parsed!.count);
  });
});
