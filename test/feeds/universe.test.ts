/**
 * The scanned universe (issue 11 §2): which venue symbols the feeds subscribe with `market.instruments`
 * "all" or a list, `exclude` and `minVenues` (computeUniverse, pure), and the FeedManager keeping the
 * live sockets on it: new listings subscribed and delistings closed `instrument_delisted` without a
 * restart, a hanging venue delaying nobody, a failed refresh keeping the last good table, a malformed
 * instrument entry counted. The manager tests run the real simulator (127.0.0.1) and the real Engine;
 * what a venue "lists" is steered by wrapping its adapter's discover() (the simulator's instrument set
 * is fixed at start), so the sockets, parsers and subscriptions are the real ones.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { applyConfigPatch, type Config, DEFAULT_CONFIG } from '../../shared/config.js';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import type { Discovery, FetchJson, InstrumentMeta, InstrumentStatus, MetadataTable, VenueAdapter } from '../../server/feeds/adapter.js';
import { ADAPTERS } from '../../server/feeds/endpoints.js';
import { FeedManager, type FeedManagerOptions } from '../../server/feeds/manager.js';
import { computeUniverse } from '../../server/feeds/universe.js';
import { Engine } from '../../server/engine/index.js';
import { startSimulator, type Simulator } from '../../server/simulator/index.js';
import { sleep, waitFor } from './helpers.js';

// ---- computeUniverse (pure) ----

function meta(exchange: Exchange, symbol: string, base: string, quote = 'USDT', status?: InstrumentStatus): InstrumentMeta {
  return { exchange, symbol, key: `${base}-PERP`, base, quote, contractValue: 1, fundingIntervalMs: 8 * 3_600_000, nextFundingMs: 0, id: -1, ...(status ? { status } : {}) };
}
function tableOf(...ms: InstrumentMeta[]): MetadataTable {
  return new Map(ms.map((m) => [m.symbol, m]));
}

describe('computeUniverse', () => {
  const tables = new Map<Exchange, MetadataTable>([
    ['binance', tableOf(meta('binance', 'BTCUSDT', 'BTC'), meta('binance', 'BTCUSDC', 'BTC', 'USDC'), meta('binance', '1000PEPEUSDT', 'PEPE'), meta('binance', 'ONLYUSDT', 'ONLY'), meta('binance', 'NEWUSDT', 'NEW', 'USDT', 'prelaunch'))],
    ['bybit', tableOf(meta('bybit', 'BTCUSDT', 'BTC'), meta('bybit', '1000PEPEUSDT', 'PEPE'), meta('bybit', 'NEWUSDT', 'NEW'), meta('bybit', 'OLDUSDT', 'OLD', 'USDT', 'delisting'))],
    ['okx', tableOf(meta('okx', 'BTC-USDT-SWAP', 'BTC'), meta('okx', 'PEPE-USDT-SWAP', 'PEPE'), meta('okx', 'OLD-USDT-SWAP', 'OLD'))],
  ]);
  const all = { instruments: 'all' as const, exclude: [], minVenues: 2 };

  it('"all": every key trading on at least minVenues venues, with each venue\'s real symbols (both quotes where listed)', () => {
    const u = computeUniverse(tables, all);
    expect(u.symbols.get('binance')).toEqual(['BTCUSDC', 'BTCUSDT', '1000PEPEUSDT']);
    expect(u.symbols.get('bybit')).toEqual(['BTCUSDT', '1000PEPEUSDT']);
    expect(u.symbols.get('okx')).toEqual(['BTC-USDT-SWAP', 'PEPE-USDT-SWAP']);
    // ONLY is on one venue; NEW trades only on bybit (prelaunch on binance); OLD only on okx (delisting on bybit).
    const everything = [...u.symbols.values()].flat();
    for (const s of ['ONLYUSDT', 'NEWUSDT', 'OLDUSDT', 'OLD-USDT-SWAP']) expect(everything).not.toContain(s);
    expect(computeUniverse(tables, { ...all, minVenues: 3 }).symbols.get('bybit')).toEqual(['BTCUSDT', '1000PEPEUSDT']);
    expect(computeUniverse(tables, { ...all, minVenues: 1 }).symbols.get('bybit')).toEqual(['BTCUSDT', 'NEWUSDT', '1000PEPEUSDT']); // by key: BTC, NEW, PEPE
  });

  it('exclude by key drops it everywhere; venue:KEY drops that leg only (and the count behind minVenues)', () => {
    const byKey = computeUniverse(tables, { ...all, exclude: ['PEPE-PERP'] });
    expect([...byKey.symbols.values()].flat().filter((s) => s.includes('PEPE'))).toEqual([]);
    const leg = computeUniverse(tables, { ...all, exclude: ['okx:PEPE-PERP'] });
    expect(leg.symbols.get('okx')).toEqual(['BTC-USDT-SWAP']);
    expect(leg.symbols.get('bybit')).toContain('1000PEPEUSDT');
    const two = computeUniverse(tables, { ...all, exclude: ['okx:PEPE-PERP', 'bybit:PEPE-PERP'] });
    expect([...two.symbols.values()].flat().filter((s) => s.includes('PEPE'))).toEqual([]); // left on binance alone
  });

  it('an explicit list is subscribed where listed (minVenues is for "all"); keys a venue does not list are reported', () => {
    const u = computeUniverse(tables, { instruments: ['BTC-PERP', 'ONLY-PERP', 'ZZZ-PERP'], exclude: ['okx:BTC-PERP'], minVenues: 2 });
    expect(u.symbols.get('binance')).toEqual(['BTCUSDC', 'BTCUSDT', 'ONLYUSDT']);
    expect(u.symbols.get('okx')).toEqual([]);
    expect(u.unlisted.get('binance')).toEqual(['ZZZ-PERP']);
    expect(u.unlisted.get('okx')).toEqual(['ONLY-PERP', 'ZZZ-PERP']); // the excluded leg is not "unlisted"
  });
});

// ---- FeedManager over the simulator ----

const SIM_INSTRUMENTS = ['BTC-PERP', 'ETH-PERP', 'SOL-PERP'];
const FAST_BACKOFF = { initialMs: 50, maxMs: 400, factor: 2 };
const OPEN_ALL = { minSpreadBps: -10_000, minFundingDelta8h: -0.05, minConfidence: 0, minProfitBps: -10_000, hysteresisBps: 0 };

/** What each venue's discovery answers on top of the simulator's real response. */
interface Steer {
  /** Keys the venue does not list (removed from its table). */
  hidden: Set<string>;
  /** Keys listed with another status. */
  status: Map<string, InstrumentStatus>;
  /** Next discoveries fail. */
  failing: boolean;
  /** Discovery waits for this before answering. */
  gate: Promise<void> | null;
  calls: number;
  lastSkipped: Record<string, number> | null;
}

function steered(ex: Exchange, steer: Steer): VenueAdapter {
  const real = ADAPTERS[ex];
  return {
    ...real,
    async discover(rest: string, fetchJson: FetchJson, nowMs: number): Promise<Discovery> {
      steer.calls++;
      if (steer.gate) await steer.gate;
      if (steer.failing) throw new Error(`${ex} instruments endpoint unavailable (test)`);
      const d = await real.discover(rest, fetchJson, nowMs);
      for (const [s, m] of d.table) {
        if (steer.hidden.has(m.key)) d.table.delete(s);
        else if (steer.status.has(m.key)) d.table.set(s, { ...m, status: steer.status.get(m.key)! });
      }
      steer.lastSkipped = { ...d.skipped };
      return d;
    },
  };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function config(patch: Record<string, unknown> = {}): Config {
  const r = applyConfigPatch(DEFAULT_CONFIG, { thresholds: OPEN_ALL, detector: { staleAfterMs: 60_000 }, ...patch });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

async function setup(opts: Partial<FeedManagerOptions> & { steer?: Partial<Record<Exchange, Partial<Steer>>>; start?: boolean } = {}) {
  const sim: Simulator = await startSimulator({ seed: 21, messagesPerSec: 600, instruments: SIM_INSTRUMENTS });
  cleanups.push(() => sim.close());
  const steers = Object.fromEntries(
    EXCHANGES.map((ex) => [ex, { hidden: new Set<string>(), status: new Map(), failing: false, gate: null, calls: 0, lastSkipped: null, ...opts.steer?.[ex] }]),
  ) as Record<Exchange, Steer>;
  const engine = new Engine({ config: config() });
  const events: OpportunityEvent[] = [];
  const sub = engine.bus.subscribe('universe-test');
  const pull = (): OpportunityEvent[] => {
    for (const e of sub.popBatch(1e9)) if (e.kind === 'closed') events.push(e); // only closures are kept
    return events;
  };
  const pump = setInterval(pull, 5);
  cleanups.push(() => clearInterval(pump));
  const fm = new FeedManager({
    engine,
    exchanges: [...EXCHANGES],
    instruments: 'all',
    endpoints: sim.endpoints,
    silenceMs: 3000,
    backoff: FAST_BACKOFF,
    adapters: Object.fromEntries(EXCHANGES.map((ex) => [ex, steered(ex, steers[ex])])),
    ...opts,
  });
  cleanups.push(() => fm.stop());
  if (opts.start !== false) await fm.start();
  return { sim, engine, fm, steers, events: pull };
}

const state = (fm: FeedManager, ex: Exchange) => fm.states().find((s) => s.exchange === ex)!;
const usable = (engine: Engine, key: string, ex: Exchange) => engine.quote(key, ex)?.usable === true;
const subscribedOn = (engine: Engine, key: string, ex: Exchange) => {
  const id = engine.instruments.idFor(key, ex);
  return id >= 0 && engine.isInstrumentListed(id);
};

/** The same steer on every venue but `except` (so the venue list can grow without touching the tests). */
const allBut = (except: readonly Exchange[], steer: () => Partial<Steer>): Partial<Record<Exchange, Partial<Steer>>> =>
  Object.fromEntries(EXCHANGES.filter((ex) => !except.includes(ex)).map((ex) => [ex, steer()]));

describe('FeedManager: the whole universe (simulator, real engine)', () => {
  it('"all" subscribes every instrument listed on >= 2 venues and not one listed on a single venue; discovery stats in FeedState', async () => {
    // SOL listed by bybit only.
    const { fm, engine } = await setup({ steer: allBut(['bybit'], () => ({ hidden: new Set(['SOL-PERP']) })) });
    await waitFor('all live', () => fm.states().every((s) => s.status === 'live'));
    await waitFor('BTC and ETH usable everywhere', () => EXCHANGES.every((ex) => usable(engine, 'BTC-PERP', ex) && usable(engine, 'ETH-PERP', ex)));
    expect(engine.instruments.idFor('SOL-PERP', 'bybit')).toBeLessThan(0); // never registered
    for (const s of fm.states()) {
      expect(s.discovery, s.exchange).toMatchObject({ subscribed: 2, failures: 0 });
      expect(s.discovery!.listed, s.exchange).toBe(s.exchange === 'bybit' ? 3 : 2);
      expect(s.discovery!.refreshedMs).toBeGreaterThan(0);
    }
  });

  it('a listing added to a venue appears subscribed on the live sockets after a refresh, without a restart', async () => {
    const { fm, engine, steers } = await setup({ steer: allBut(['bybit'], () => ({ hidden: new Set(['SOL-PERP']) })) });
    await waitFor('all live', () => fm.states().every((s) => s.status === 'live'));
    expect(state(fm, 'bybit').discovery!.subscribed).toBe(2);
    steers.okx.hidden.clear(); // okx lists SOL: now on two venues
    await fm.refreshDiscovery();
    await waitFor('SOL usable on bybit and okx', () => usable(engine, 'SOL-PERP', 'bybit') && usable(engine, 'SOL-PERP', 'okx'));
    expect(state(fm, 'bybit').discovery!.subscribed).toBe(3);
    expect(state(fm, 'okx').discovery!.subscribed).toBe(3);
    expect(state(fm, 'kucoin').discovery!.subscribed).toBe(2);
    for (const s of fm.states()) expect(s.reconnects, s.exchange).toBe(0);
  });

  it('the periodic refresh (discoveryRefreshMs) picks a listing up on its own', async () => {
    const { fm, engine, steers } = await setup({ discoveryRefreshMs: 300, steer: { okx: { hidden: new Set(['SOL-PERP']) }, kucoin: { hidden: new Set(['SOL-PERP']) }, binance: { hidden: new Set(['SOL-PERP']) } } });
    await waitFor('all live', () => fm.states().every((s) => s.status === 'live'));
    steers.binance.hidden.clear();
    await waitFor('SOL usable on binance', () => usable(engine, 'SOL-PERP', 'binance'));
    expect(steers.binance.calls).toBeGreaterThan(1);
  });

  it('a delisting closes its open opportunities with instrument_delisted and unsubscribes it; the rest carries on', async () => {
    const { fm, engine, steers, events } = await setup();
    await waitFor('all live', () => fm.states().every((s) => s.status === 'live'));
    await waitFor('BTC opportunities with okx open', () => engine.opportunities().some((o) => o.instrument === 'BTC-PERP' && (o.longExchange === 'okx' || o.shortExchange === 'okx')));
    steers.okx.status.set('BTC-PERP', 'delisting');
    await fm.refreshDiscovery();
    const closedOkxBtc = events().filter((e) => e.kind === 'closed' && e.opportunity.instrument === 'BTC-PERP' && (e.opportunity.longExchange === 'okx' || e.opportunity.shortExchange === 'okx'));
    expect(closedOkxBtc.length).toBeGreaterThan(0);
    for (const e of closedOkxBtc) expect(e.kind === 'closed' && e.reason).toBe('instrument_delisted');
    expect(engine.opportunities().filter((o) => o.instrument === 'BTC-PERP' && (o.longExchange === 'okx' || o.shortExchange === 'okx'))).toEqual([]);
    expect(subscribedOn(engine, 'BTC-PERP', 'okx')).toBe(false);
    expect(state(fm, 'okx').discovery!.subscribed).toBe(2);
    expect(engine.stats().detector.closed.instrument_delisted).toBe(closedOkxBtc.length);
    await sleep(300); // frames in flight and later ones: still unusable
    expect(usable(engine, 'BTC-PERP', 'okx')).toBe(false);
    expect(engine.opportunities().some((o) => o.instrument === 'BTC-PERP' && (o.longExchange === 'okx' || o.shortExchange === 'okx'))).toBe(false);
    // The other venues' BTC pairs and okx's other instruments carry on.
    expect(usable(engine, 'BTC-PERP', 'bybit') && usable(engine, 'ETH-PERP', 'okx')).toBe(true);
    // Listed again: subscribed and usable again.
    steers.okx.status.clear();
    await fm.refreshDiscovery();
    await waitFor('BTC usable on okx again', () => usable(engine, 'BTC-PERP', 'okx'));
  });

  it('one venue whose discovery hangs does not delay the others; it joins when it answers', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { fm, engine } = await setup({ start: false, steer: { kucoin: { gate } } });
    const started = fm.start(); // resolves only when every venue is done
    cleanups.push(() => release());
    await waitFor('three venues live', () => (['bybit', 'okx', 'binance'] as const).every((ex) => state(fm, ex).status === 'live'));
    await waitFor('BTC usable on three venues', () => (['bybit', 'okx', 'binance'] as const).every((ex) => usable(engine, 'BTC-PERP', ex)));
    expect(state(fm, 'kucoin')).toMatchObject({ metadata: 'loading', connections: 0 });
    release();
    await started;
    await waitFor('kucoin live', () => state(fm, 'kucoin').status === 'live' && usable(engine, 'BTC-PERP', 'kucoin'));
  });

  it('a late venue brings instruments over minVenues: they are subscribed on the others too', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const onlyOn = (keep: string) => ({ hidden: new Set(SIM_INSTRUMENTS.filter((k) => k !== keep && k !== 'BTC-PERP')) });
    // SOL on bybit and (late) kucoin only; ETH nowhere else.
    const { fm, engine } = await setup({ start: false, steer: { ...allBut([], () => onlyOn('BTC-PERP')), bybit: onlyOn('SOL-PERP'), kucoin: { ...onlyOn('SOL-PERP'), gate } } });
    void fm.start();
    cleanups.push(() => release());
    await waitFor('BTC on the three', () => (['bybit', 'okx', 'binance'] as const).every((ex) => usable(engine, 'BTC-PERP', ex)));
    expect(subscribedOn(engine, 'SOL-PERP', 'bybit')).toBe(false); // one venue so far
    release();
    await waitFor('SOL on bybit and kucoin', () => usable(engine, 'SOL-PERP', 'bybit') && usable(engine, 'SOL-PERP', 'kucoin'));
  });

  it('a failed discovery is retried with backoff while the others proceed; a failed refresh keeps the last good table', async () => {
    const { fm, engine, steers } = await setup({ steer: { binance: { failing: true } } });
    await waitFor('three live', () => (['bybit', 'okx', 'kucoin'] as const).every((ex) => state(fm, ex).status === 'live'));
    await waitFor('binance retried', () => steers.binance.calls >= 3);
    expect(state(fm, 'binance')).toMatchObject({ metadata: 'failed', status: 'backoff' });
    expect(state(fm, 'binance').lastError?.message).toContain('unavailable');
    steers.binance.failing = false;
    await waitFor('binance live', () => state(fm, 'binance').status === 'live' && usable(engine, 'ETH-PERP', 'binance'));
    // A refresh that fails changes nothing subscribed.
    steers.okx.failing = true;
    await fm.refreshDiscovery();
    expect(state(fm, 'okx')).toMatchObject({ status: 'live', metadata: 'loaded', discovery: { subscribed: 3 } });
    expect(state(fm, 'okx').discovery!.failures).toBeGreaterThanOrEqual(1); // its backoff retries may have run meanwhile
    expect(subscribedOn(engine, 'BTC-PERP', 'okx')).toBe(true);
    steers.okx.failing = false;
    await waitFor('okx refresh retried', () => state(fm, 'okx').discovery!.failures === 0);
  });

  it('exclude by key and by venue:key on a running manager (config_changed), and legacy keys in a list', async () => {
    const { fm, engine, events } = await setup();
    await waitFor('all live', () => fm.states().every((s) => s.status === 'live'));
    await waitFor('ETH opportunities open', () => engine.opportunities().some((o) => o.instrument === 'ETH-PERP'));
    await fm.reconfigure({ exchanges: [...EXCHANGES], instruments: 'all', exclude: ['ETH-PERP', 'okx:BTC-PERP'] });
    for (const ex of EXCHANGES) {
      expect(subscribedOn(engine, 'ETH-PERP', ex), ex).toBe(false);
      expect(subscribedOn(engine, 'BTC-PERP', ex), ex).toBe(ex !== 'okx');
    }
    expect(engine.opportunities().filter((o) => o.instrument === 'ETH-PERP')).toEqual([]);
    const reasons = new Set(events().filter((e) => e.kind === 'closed' && e.opportunity.instrument === 'ETH-PERP').map((e) => (e.kind === 'closed' ? e.reason : '')));
    expect([...reasons]).toEqual(['config_changed']);
    expect(state(fm, 'okx').discovery!.subscribed).toBe(1);
    // A first-release list: BTC-USDT-PERP is BTC-PERP.
    await fm.reconfigure({ exchanges: [...EXCHANGES], instruments: ['BTC-USDT-PERP'], exclude: [] });
    await waitFor('BTC everywhere', () => EXCHANGES.every((ex) => usable(engine, 'BTC-PERP', ex)));
    for (const s of fm.states()) expect(s.discovery!.subscribed, s.exchange).toBe(1);
  });

  it('a malformed instrument entry in a venue response is counted, not fatal to the venue', async () => {
    // Bybit's documented response shape (result.list); one entry without a symbol, one not an object.
    const fetchJson: FetchJson = async (url, init) => {
      const res = await fetch(url, { method: init?.method ?? 'GET' });
      const body = (await res.json()) as { result?: { list?: unknown[] } };
      if (url.includes('/v5/market/instruments-info') && Array.isArray(body.result?.list)) body.result.list.push({ status: 'Trading', baseCoin: 'BAD' }, 42);
      return body;
    };
    const { fm, engine, steers } = await setup({ fetchJson });
    await waitFor('bybit live', () => state(fm, 'bybit').status === 'live' && usable(engine, 'BTC-PERP', 'bybit'));
    expect(state(fm, 'bybit').discovery!.subscribed).toBe(3);
    // What the adapter counted is what the feed state shows.
    expect(state(fm, 'bybit').discovery!.skipped).toEqual(steers.bybit.lastSkipped);
  });
});
