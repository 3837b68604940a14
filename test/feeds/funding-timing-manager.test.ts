/**
 * Funding timing is live data in the FeedManager (issue 12): a discovery refresh that finds a changed
 * interval or next settlement for an already-subscribed symbol pushes it to the engine with the venue's
 * current rate, and a venue with `refreshAfterSettlement` is re-read a few seconds after its earliest
 * next settlement (injected clock and timers, a fake REST-only adapter: no sockets, no network).
 */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import type { Discovery, InstrumentMeta, MetadataTable, VenueAdapter, VenueParser } from '../../server/feeds/adapter.js';
import { FeedManager, type FeedEngine, type FeedTimers } from '../../server/feeds/manager.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 11, 1, 7, 0, 0);

interface Pushed {
  id: number;
  rate: number;
  intervalMs: number;
  nextFundingMs: number;
}

class FakeEngine implements FeedEngine {
  funding: Pushed[] = [];
  private ids = 0;
  registerInstrument(): number {
    return this.ids++;
  }
  pushQuote(): boolean {
    return true;
  }
  pushFunding(id: number, rate: number, intervalMs: number, nextFundingMs: number): boolean {
    this.funding.push({ id, rate, intervalMs, nextFundingMs });
    return true;
  }
  drain(): number {
    return 0;
  }
  setExchangeDown(): void {}
}

class FakeTimers implements FeedTimers {
  pending: Array<{ at: number; run: () => void; handle: number }> = [];
  private seq = 0;
  constructor(private readonly clock: { now: number }) {}
  setTimeout(run: () => void, delayMs: number): unknown {
    const handle = ++this.seq;
    this.pending.push({ at: this.clock.now + delayMs, run, handle });
    return handle;
  }
  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p.handle !== handle);
  }
  /** Advances the clock to the earliest pending timer and runs it. */
  fireNext(): number {
    this.pending.sort((a, b) => a.at - b.at);
    const t = this.pending.shift();
    if (!t) throw new Error('no timer pending');
    this.clock.now = t.at;
    t.run();
    return t.at;
  }
}

/** What the fake venue's REST says now, per symbol: rate, interval, next settlement. */
type Listing = Record<string, { rate: number; intervalMs: number; nextFundingMs: number; assumed?: boolean }>;

function fakeAdapter(exchange: Exchange, listing: () => Listing, clock: { now: number }, refreshAfterSettlement: boolean): VenueAdapter & { discoveries: number } {
  const parser: VenueParser = { parse: () => 'ignored', reset: () => {}, errors: {} };
  const a = {
    exchange,
    discoveries: 0,
    refreshAfterSettlement,
    async discover(): Promise<Discovery> {
      a.discoveries++;
      const table: MetadataTable = new Map();
      for (const [base, f] of Object.entries(listing())) {
        const m: InstrumentMeta = {
          exchange,
          symbol: `${base}_USDT`,
          key: `${base}-PERP`,
          base,
          quote: 'USDT',
          contractValue: 1,
          fundingIntervalMs: f.intervalMs,
          // As the venue modules mark an interval the venue did not give: the seed reports it unknown (0).
          ...(f.assumed ? { fundingIntervalAssumed: true } : {}),
          nextFundingMs: f.nextFundingMs,
          seedFunding: { rate: f.rate, intervalMs: f.assumed ? 0 : f.intervalMs, nextFundingMs: f.nextFundingMs, predicted: false, tsMs: clock.now },
          id: -1,
          status: 'trading',
        };
        // As a venue module does with an entry not updated since a settlement (next time passed): no seed.
        if (f.nextFundingMs <= clock.now) delete m.seedFunding;
        table.set(m.symbol, m);
      }
      return { table, skipped: {} };
    },
    async loadMetadata(): Promise<MetadataTable> {
      return new Map();
    },
    async plan() {
      return []; // REST only in this test: no sockets
    },
    createParser: () => parser,
  };
  return a;
}

function setup(refreshAfterSettlement: boolean, listing: Listing) {
  const clock = { now: T0 };
  const timers = new FakeTimers(clock);
  const engine = new FakeEngine();
  let current = listing;
  const adapter = fakeAdapter('okx', () => current, clock, refreshAfterSettlement);
  const fm = new FeedManager({
    engine,
    exchanges: ['okx'],
    instruments: 'all',
    minVenues: 1,
    endpoints: { okx: { ws: 'ws://127.0.0.1:1', rest: 'http://127.0.0.1:1' } } as never,
    adapters: { okx: adapter },
    now: () => clock.now,
    timers,
    random: () => 0.5,
    settlementRefreshDelayMs: 3000,
    settlementRefreshJitterMs: 2000,
    discoveryRefreshMs: 3_600_000,
  });
  return { clock, timers, engine, adapter, fm, set: (l: Listing) => (current = l) };
}

describe('FeedManager: funding timing from discovery refreshes', () => {
  it('a refresh that changes a subscribed symbol\'s interval pushes the venue\'s current rate with the new interval', async () => {
    const s = setup(false, { BTC: { rate: 0.0001, intervalMs: 8 * H, nextFundingMs: T0 + H }, ETH: { rate: 0.0002, intervalMs: 8 * H, nextFundingMs: T0 + H } });
    await s.fm.start();
    expect(s.engine.funding.map((f) => f.intervalMs)).toEqual([8 * H, 8 * H]); // the REST seeds at registration
    s.engine.funding.length = 0;
    // The venue moves ETH to 1 h at its cap (new rate, new next time); BTC is unchanged.
    s.set({ BTC: { rate: 0.0001, intervalMs: 8 * H, nextFundingMs: T0 + H }, ETH: { rate: 0.02, intervalMs: H, nextFundingMs: T0 + H } });
    await s.fm.refreshDiscovery();
    expect(s.engine.funding).toEqual([{ id: 1, rate: 0.02, intervalMs: H, nextFundingMs: T0 + H }]);
    // The live metadata the parsers read carries it too.
    expect(s.fm.metadata().okx!.get('ETH_USDT')!.fundingIntervalMs).toBe(H);
    // Nothing changed: nothing pushed.
    s.engine.funding.length = 0;
    await s.fm.refreshDiscovery();
    expect(s.engine.funding).toEqual([]);
    await s.fm.stop();
  });

  it('refreshAfterSettlement: re-reads the venue a few seconds (jittered) after the earliest next settlement, and the new timing reaches the engine', async () => {
    const s = setup(true, { BTC: { rate: 0.0001, intervalMs: 8 * H, nextFundingMs: T0 + 2 * H }, ETH: { rate: 0.0075, intervalMs: 4 * H, nextFundingMs: T0 + H } });
    await s.fm.start();
    expect(s.adapter.discoveries).toBe(1);
    // One timer: ETH settles first (T0 + 1 h), refresh at +3 s + 0.5 × 2 s jitter.
    expect(s.timers.pending.map((p) => p.at)).toEqual([T0 + H + 4000]);
    s.engine.funding.length = 0;
    // At the settlement the rate was at its cap: the venue goes hourly.
    s.set({ BTC: { rate: 0.0001, intervalMs: 8 * H, nextFundingMs: T0 + 2 * H }, ETH: { rate: 0.0075, intervalMs: H, nextFundingMs: T0 + 2 * H } });
    expect(s.timers.fireNext()).toBe(T0 + H + 4000);
    await vi_flush();
    expect(s.adapter.discoveries).toBe(2);
    expect(s.engine.funding).toEqual([{ id: 1, rate: 0.0075, intervalMs: H, nextFundingMs: T0 + 2 * H }]);
    // Armed for the next settlement (both at T0 + 2 h), once.
    expect(s.timers.pending.map((p) => p.at)).toEqual([T0 + 2 * H + 4000]);
    await s.fm.stop();
    expect(s.timers.pending).toEqual([]);
  });

  it('a post-settlement refresh that still shows the settled time is retried a few times, then left to the periodic refresh', async () => {
    const s = setup(true, { ETH: { rate: 0.0001, intervalMs: 8 * H, nextFundingMs: T0 + H } });
    await s.fm.start();
    s.timers.fireNext(); // the venue has not rolled its next time yet
    await vi_flush();
    expect(s.adapter.discoveries).toBe(2);
    expect(s.timers.pending).toHaveLength(1);
    s.set({ ETH: { rate: 0.0001, intervalMs: 8 * H, nextFundingMs: T0 + 9 * H } });
    s.timers.fireNext();
    await vi_flush();
    expect(s.adapter.discoveries).toBe(3);
    expect(s.engine.funding.at(-1)).toEqual({ id: 0, rate: 0.0001, intervalMs: 8 * H, nextFundingMs: T0 + 9 * H });
    expect(s.timers.pending.map((p) => p.at)).toEqual([T0 + 9 * H + 4000]);
    await s.fm.stop();
  });

  it('REST still showing the passed settlement is retried even when a later one is known, and its passed time is never pushed', async () => {
    const s = setup(true, { ETH: { rate: 0.0001, intervalMs: 8 * H, nextFundingMs: T0 + H }, BTC: { rate: 0.0002, intervalMs: 8 * H, nextFundingMs: T0 + 3 * H } });
    await s.fm.start();
    s.engine.funding.length = 0;
    // After ETH's settlement the venue already shows its new interval, but not yet its new next time.
    s.set({ ETH: { rate: 0.0001, intervalMs: H, nextFundingMs: T0 + H }, BTC: { rate: 0.0002, intervalMs: 8 * H, nextFundingMs: T0 + 3 * H } });
    expect(s.timers.fireNext()).toBe(T0 + H + 4000);
    await vi_flush();
    expect(s.adapter.discoveries).toBe(2);
    expect(s.engine.funding).toEqual([]); // a passed next time is not pushed
    // BTC's later settlement is known, yet the stale read is looked at again (15 s), not left to the periodic refresh.
    expect(s.timers.pending.map((p) => p.at)).toEqual([T0 + H + 4000 + 15_000]);
    s.set({ ETH: { rate: 0.0001, intervalMs: H, nextFundingMs: T0 + 2 * H }, BTC: { rate: 0.0002, intervalMs: 8 * H, nextFundingMs: T0 + 3 * H } });
    s.timers.fireNext();
    await vi_flush();
    expect(s.adapter.discoveries).toBe(3);
    const eth = s.fm.metadata().okx!.get('ETH_USDT')!.id;
    expect(s.engine.funding).toEqual([{ id: eth, rate: 0.0001, intervalMs: H, nextFundingMs: T0 + 2 * H }]);
    expect(s.timers.pending.map((p) => p.at)).toEqual([T0 + 2 * H + 4000]); // armed for the next settlement, once
    await s.fm.stop();
  });

  it('an assumed interval reaches the engine as unknown (0); a refresh that carries it (even the same 8 h) makes it known', async () => {
    const s = setup(false, { ETH: { rate: 0.0001, intervalMs: 8 * H, nextFundingMs: T0 + H, assumed: true } });
    await s.fm.start();
    expect(s.engine.funding).toEqual([{ id: 0, rate: 0.0001, intervalMs: 0, nextFundingMs: T0 + H }]);
    s.engine.funding.length = 0;
    await s.fm.refreshDiscovery(); // still assumed: nothing new
    expect(s.engine.funding).toEqual([]);
    s.set({ ETH: { rate: 0.0001, intervalMs: 8 * H, nextFundingMs: T0 + H } });
    await s.fm.refreshDiscovery();
    expect(s.engine.funding).toEqual([{ id: 0, rate: 0.0001, intervalMs: 8 * H, nextFundingMs: T0 + H }]);
    expect(s.fm.metadata().okx!.get('ETH_USDT')!.fundingIntervalAssumed).toBeUndefined();
    await s.fm.stop();
  });

  it('a venue without refreshAfterSettlement arms no settlement timer', async () => {
    const s = setup(false, { ETH: { rate: 0.0001, intervalMs: 8 * H, nextFundingMs: T0 + H } });
    await s.fm.start();
    expect(s.timers.pending).toEqual([]);
    await s.fm.stop();
  });
});

/** Lets the refresh's promise chain (discover → enqueue → resync) settle. */
async function vi_flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}
