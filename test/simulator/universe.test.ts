import { afterEach, describe, expect, it, vi } from 'vitest';
import { EXCHANGES, venueFacts, type Exchange } from '../../shared/exchanges.js';
import { startSimulator, type Simulator } from '../../server/simulator/index.js';
import { MarketModel, type LifecycleEvent, type Pair } from '../../server/simulator/market.js';
import { generateUniverse } from '../../server/simulator/universe.js';
import { VENUES } from '../../server/venues/index.js';
import type { WsProbe } from './probe.js';
import { twinProbe } from '../venues/twin-probe.js';

const venuesOf = (listings: ReturnType<typeof generateUniverse>['listings']) => {
  const m = new Map<string, Set<Exchange>>();
  for (const l of listings) {
    if (!m.has(l.key)) m.set(l.key, new Set());
    m.get(l.key)!.add(l.exchange);
  }
  return m;
};

describe('generated universe', () => {
  it('has N coins with realistic overlap: the big ones everywhere, a tail on one to three venues', () => {
    const u = generateUniverse(300, 1);
    expect(u.coins).toHaveLength(300);
    expect(new Set(u.coins.map((c) => c.key)).size).toBe(300);
    const on = venuesOf(u.listings);
    expect(on.size).toBe(300);
    for (const c of u.coins.slice(0, 20)) expect(on.get(c.key)?.size).toBe(EXCHANGES.length);
    const hist: number[] = new Array<number>(EXCHANGES.length + 1).fill(0);
    for (const s of on.values()) hist[s.size]++;
    // Every overlap occurs, and a good share of the coins are not on every venue.
    for (const k of [1, 2, 3]) expect(hist[k]).toBeGreaterThan(20);
    expect(hist[EXCHANGES.length]).toBeLessThan(200);
    const usdt = (ex: Exchange) => u.listings.filter((l) => l.exchange === ex && l.settle === 'USDT').length;
    expect(usdt('okx')).toBeLessThan(usdt('bybit'));
    // Real-looking names, numeric-leading ones among them.
    const bases = u.coins.map((c) => c.base);
    expect(bases).toContain('1INCH');
    expect(bases.filter((b) => /^[2-9]/.test(b)).length).toBeGreaterThan(2);
  });

  it('is the same for the same seed and differs for another', () => {
    expect(generateUniverse(200, 7)).toEqual(generateUniverse(200, 7));
    const a = generateUniverse(200, 7).listings.map((l) => `${l.exchange}:${l.listedBase}:${l.settle}`);
    const b = generateUniverse(200, 8).listings.map((l) => `${l.exchange}:${l.listedBase}:${l.settle}`);
    expect(a).not.toEqual(b);
  });

  it('multiplies low-priced coins on Bybit and Binance only, and every venue symbol maps back to its key', () => {
    const u = generateUniverse(300, 1);
    for (const ex of EXCHANGES) {
      const want = twinProbe(ex).pepe;
      const leg = u.listings.find((l) => l.key === 'PEPE-PERP' && l.exchange === ex && l.settle === want.settle);
      expect(leg && VENUES[ex].symbols.nativeSymbol(leg.listedBase, leg.settle), ex).toBe(want.nativeSymbol);
    }
    // A million: `1M…` on Binance, `1000000…` on Bybit; Hyperliquid spells ×1000 only (`k…`), never more.
    const byMultiplier = (ex: Exchange, m: number) => u.listings.filter((l) => l.exchange === ex && l.multiplier === m);
    expect(byMultiplier('binance', 1_000_000).length + byMultiplier('bybit', 1_000_000).length).toBeGreaterThan(0);
    for (const l of byMultiplier('binance', 1_000_000)) expect(l.listedBase).toMatch(/^1M[A-Z]/);
    for (const l of byMultiplier('bybit', 1_000_000)) expect(l.listedBase).toMatch(/^1000000[A-Z]/);
    for (const l of u.listings.filter((x) => x.exchange === 'hyperliquid' && x.multiplier > 1)) {
      expect(l.multiplier).toBe(1000);
      expect(l.listedBase).toMatch(/^k[A-Z]/);
    }
    for (const l of u.listings) {
      if (VENUES[l.exchange].facts.listing.multipliedPrefix === null) expect(l.multiplier).toBe(1);
      const symbol = VENUES[l.exchange].symbols.nativeSymbol(l.listedBase, l.settle);
      expect(VENUES[l.exchange].symbols.keyOf(symbol), symbol).toBe(l.key);
    }
    expect(u.listings.filter((l) => l.multiplier > 1).length).toBeGreaterThan(10);
  });

  it('has USDC-settled legs in each venue spelling', () => {
    const u = generateUniverse(300, 1);
    const btcUsdc = u.listings.filter((l) => l.key === 'BTC-PERP' && l.settle === 'USDC');
    const symbols = btcUsdc.map((l) => VENUES[l.exchange].symbols.nativeSymbol(l.listedBase, l.settle)).sort();
    expect(symbols).toEqual(['BTC', 'BTC-USDC-SWAP', 'BTCPERP', 'BTCPERP', 'BTCUSDC', 'XBTUSDCM']);
    for (const ex of EXCHANGES) {
      const usdc = u.listings.filter((l) => l.exchange === ex && l.settle === 'USDC').length;
      const listing = VENUES[ex].facts.listing;
      if (listing.usdcChance > 0 || listing.onlySettle === 'USDC') expect(usdc, ex).toBeGreaterThan(2);
      else expect(usdc, ex).toBe(0);
    }
  });

  it('quotes a multiplied listing at the multiple of the bare one (1000PEPE = 1000 × PEPE within the basis)', () => {
    const m = new MarketModel({ seed: 2, exchanges: [...EXCHANGES], listings: generateUniverse(300, 2).listings, dislocationsPerMin: 0 });
    for (let i = 0; i < 50_000; i++) m.next(1 / 2000);
    const leg = (ex: Exchange) => m.byExchange[ex].find((p) => p.spec.key === 'PEPE-PERP' && p.settle === 'USDT') as Pair;
    const [bybit, binance, okx, kucoin] = [leg('bybit'), leg('binance'), leg('okx'), leg('kucoin')];
    expect(bybit.symbol).toBe('1000PEPEUSDT');
    expect(bybit.multiplier).toBe(1000);
    for (const multiplied of [bybit, binance]) {
      for (const bare of [okx, kucoin]) {
        const bps = ((multiplied.mid / (1000 * bare.mid)) - 1) * 1e4;
        expect(Math.abs(bps)).toBeLessThan(25);
      }
    }
    // Ticks and lots of the listed unit: the bare legs quote much finer prices.
    expect(bybit.spec.tickSize).toBeGreaterThan(okx.spec.tickSize * 100);
    expect(bybit.bidTicks).toBeLessThan(bybit.askTicks);
  });
});

const churnModel = (seed: number) =>
  new MarketModel({
    seed,
    exchanges: [...EXCHANGES],
    listings: generateUniverse(80, seed).listings,
    churn: { everySec: 2, noticeSec: 1 },
    dislocationsPerMin: 20,
  });

const runFor = (m: MarketModel, seconds: number, dt = 1 / 1000) => {
  for (let t = 0; t < seconds; t += dt) m.next(dt);
};

describe('listings and delistings', () => {
  it('follow the same schedule for the same seed', () => {
    const a = churnModel(11);
    const b = churnModel(11);
    runFor(a, 30);
    runFor(b, 30);
    const kinds = (m: MarketModel) => m.lifecycle.map((e: LifecycleEvent) => `${e.kind}:${e.exchange}:${e.symbol}:${e.t.toFixed(3)}`);
    expect(kinds(a)).toEqual(kinds(b));
    expect(a.lifecycle.filter((e) => e.kind === 'listed').length).toBeGreaterThanOrEqual(5);
    expect(a.lifecycle.filter((e) => e.kind === 'delisted').length).toBeGreaterThanOrEqual(5);
    const c = churnModel(12);
    runFor(c, 30);
    expect(kinds(c)).not.toEqual(kinds(a));
  });

  it('hold back pairs until listed, show a delisting pair for its notice, then drop it; only live pairs quote', () => {
    const m = churnModel(3);
    const pendingAtStart = m.pairs.filter((p) => p.status === 'pending');
    expect(pendingAtStart.length).toBeGreaterThan(0);
    const seqBefore = new Map<Pair, number>();
    const wrong: string[] = [];
    for (let i = 0; i < 40_000; i++) {
      const p = m.next(1 / 1000);
      if (p && p.status !== 'live') wrong.push(`quoted ${p.status} ${p.symbol}`);
      if (i % 100 === 0) {
        for (const ex of EXCHANGES) for (const q of m.listed(ex)) if (q.status !== 'live' && q.status !== 'delisting') wrong.push(`listed ${q.status} ${q.symbol}`);
      }
      if (i === 20_000) for (const q of m.pairs) seqBefore.set(q, q.seq);
    }
    expect(wrong).toEqual([]);
    const delisted = m.lifecycle.find((e) => e.kind === 'delisted') as LifecycleEvent;
    const notice = m.lifecycle.find((e) => e.kind === 'delisting' && e.symbol === delisted.symbol && e.exchange === delisted.exchange) as LifecycleEvent;
    expect(delisted.t - notice.t).toBeCloseTo(1, 1);
    const listedEvent = m.lifecycle.find((e) => e.kind === 'listed') as LifecycleEvent;
    expect(pendingAtStart.some((p) => p.symbol === listedEvent.symbol && p.exchange === listedEvent.exchange)).toBe(true);
    // A pair that is delisted now got no update after it left.
    for (const p of m.pairs.filter((q) => q.status === 'delisted' && q.statusSince < 20)) expect(p.seq).toBe(seqBefore.get(p));
  });
});

let sim: Simulator | null = null;
const probes: WsProbe[] = [];
afterEach(async () => {
  for (const p of probes.splice(0)) p.close();
  await sim?.close();
  sim = null;
});

/** Venue REST list of a running simulator: symbol → the venue's status words for it. */
const restList = (s: Simulator, ex: Exchange): Promise<Map<string, string>> => twinProbe(ex).restList(s.endpoints[ex].rest);

/** Subscribes one symbol's quote stream; resolves 'data' or 'error' (or 'silent' for a venue that never errors). */
async function subscribeQuotes(s: Simulator, ex: Exchange, symbol: string): Promise<'data' | 'error' | 'silent'> {
  const { probe, isData, isError } = await twinProbe(ex).openQuotes(s.endpoints[ex], symbol);
  probes.push(probe);
  try {
    return await probe.until(() => (probe.jsons(isError).length > 0 ? 'error' : probe.jsons(isData).length > 0 ? 'data' : undefined), 1500, `${ex} ${symbol}`);
  } catch {
    return 'silent';
  }
}

describe('a running universe', () => {
  it('serves hundreds of instruments per venue over REST, Bybit in cursor pages', async () => {
    sim = await startSimulator({ seed: 1, universe: 300, churn: false, messagesPerSec: 500 });
    const total = EXCHANGES.reduce((n, ex) => n + sim!.stats().listed[ex], 0);
    expect(total).toBeGreaterThan(600);
    for (const ex of EXCHANGES) {
      const list = await restList(sim, ex);
      expect(list.size, ex).toBe(sim.stats().listed[ex]);
      expect([...list.values()].every((v) => v === twinProbe(ex).liveStatus), ex).toBe(true);
    }
    expect(await subscribeQuotes(sim, 'bybit' as Exchange, '1000PEPEUSDT')).toBe('data');
  });

  it('adds a configured instrument the universe lacks, on every venue, and never delists it', async () => {
    sim = await startSimulator({ seed: 2, universe: 40, instruments: ['ZZTOP-PERP', 'BTC-PERP'], churn: { everySec: 0.05, noticeSec: 0.05, pendingShare: 0.5 }, messagesPerSec: 5000 });
    await new Promise((r) => setTimeout(r, 1500));
    // ~30 events in those 1.5 s at 20/s; a stalled process may have made fewer so far: they keep coming.
    await vi.waitFor(() => expect(sim!.stats().lifecycleEvents).toBeGreaterThan(10), { timeout: 10_000, interval: 50 });
    for (const ex of EXCHANGES) {
      expect(sim.model.live(ex).filter((p) => p.spec.key === 'ZZTOP-PERP').map((p) => p.settle)).toEqual([venueFacts(ex).listing.onlySettle ?? 'USDT']);
      expect(sim.model.live(ex).some((p) => p.spec.key === 'BTC-PERP')).toBe(true);
    }
    expect(sim.model.lifecycle.some((e) => e.key === 'ZZTOP-PERP' || e.key === 'BTC-PERP')).toBe(false);
  });

  it('lists and delists symbols during the run, in REST and WS', async () => {
    sim = await startSimulator({ seed: 4, universe: 60, churn: { everySec: 0.4, noticeSec: 1.2 }, messagesPerSec: 2000, tickMs: 10 });
    const s = sim;
    const m = s.model;
    const wait = async <T>(f: () => T | undefined, ms: number): Promise<T> => {
      const end = Date.now() + ms;
      for (;;) {
        const v = f();
        if (v !== undefined) return v;
        if (Date.now() > end) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    // A listing: the new symbol is in REST and streams quotes.
    const listed = await wait(() => m.lifecycle.find((e) => e.kind === 'listed' && m.findListed(e.exchange, e.symbol)?.status === 'live'), 5000);
    expect((await restList(s, listed.exchange)).get(listed.symbol)).toBe(twinProbe(listed.exchange).liveStatus);
    // Lots of pairs share the message rate: the new one must be picked within the window.
    expect(await subscribeQuotes(s, listed.exchange, listed.symbol)).toBe('data');

    // A delisting: first the venue's delisting status, then gone from REST, and WS does not know it.
    const notice = await wait(() => m.lifecycle.find((e) => e.kind === 'delisting' && m.findListed(e.exchange, e.symbol)?.status === 'delisting'), 5000);
    expect((await restList(s, notice.exchange)).get(notice.symbol)).toBe(twinProbe(notice.exchange).delistingStatus);
    await wait(() => m.lifecycle.find((e) => e.kind === 'delisted' && e.symbol === notice.symbol && e.exchange === notice.exchange), 5000);
    // Gone from the list, or kept with the venue's delisted words (twin-probe.ts says which).
    expect((await restList(s, notice.exchange)).get(notice.symbol)).toBe(twinProbe(notice.exchange).delistedStatus);
    const gone = await subscribeQuotes(s, notice.exchange, notice.symbol);
    // Most venues reject an unknown symbol; some accept any stream name and send nothing.
    expect(gone).toBe(twinProbe(notice.exchange).unknownSymbol);
  }, 20_000);
});
