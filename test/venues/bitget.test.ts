/**
 * Bitget specifics beyond the table-driven protocol suite: discovery over the REST fixtures (status words,
 * skips, the live interval from current-fund-rate), the pre-scaled funding rate and interval changes
 * through a real Engine (fixtures, and the twin changing an interval mid-run over sockets through the real
 * FeedManager), open interest and volume from both ticker shapes, and the whole-universe plan accepted
 * by the twin without a limit violation.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyConfigPatch, DEFAULT_CONFIG } from '../../shared/config.js';
import type { ConnectionPlan, Discovery, FetchJson, InstrumentStatus, UpdateSink } from '../../server/feeds/adapter.js';
import { FeedConnection } from '../../server/feeds/connection.js';
import { FeedManager } from '../../server/feeds/manager.js';
import { createFetchJson } from '../../server/feeds/metadata.js';
import { ConnectPacer } from '../../server/feeds/rate-limiter.js';
import { Engine } from '../../server/engine/engine.js';
import { rate8h } from '../../server/engine/scoring.js';
import { startSimulator, type Simulator } from '../../server/simulator/index.js';
import { BITGET_TOPICS_PER_SOCKET, bitgetAdapter } from '../../server/venues/bitget/adapter.js';
import { facts } from '../../server/venues/bitget/facts.js';
import { CollectingSink, table, waitFor } from '../feeds/helpers.js';
import { feed, register } from '../traps/wire.js';

const H = 3_600_000;
const dir = new URL('../fixtures/bitget/', import.meta.url);
const load = (name: string): unknown => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));
const text = (name: string): string => readFileSync(new URL(name, dir), 'utf8').trim();

/** The REST fixtures by path; `fail` names paths that answer with an error. */
function rest(fail: (u: URL) => boolean = () => false): FetchJson {
  return async (raw) => {
    const u = new URL(raw);
    if (fail(u)) throw new Error(`HTTP 503 for ${raw}`);
    if (u.pathname === '/api/v3/market/instruments') return load(u.searchParams.get('category') === 'USDC-FUTURES' ? 'rest-instruments-usdc.json' : 'rest-instruments-usdt.json');
    if (u.pathname === '/api/v2/mix/market/current-fund-rate') return load(u.searchParams.get('productType') === 'usdc-futures' ? 'rest-current-fund-rate-usdc.json' : 'rest-current-fund-rate-usdt.json');
    throw new Error(`no fixture for ${raw}`);
  };
}

function statusCounts(d: Discovery): Record<InstrumentStatus, number> {
  const out: Record<InstrumentStatus, number> = { trading: 0, prelaunch: 0, delisting: 0 };
  for (const m of d.table.values()) out[m.status!]++;
  return out;
}

describe('bitget discovery over its REST fixtures', () => {
  it('lists every USDT and USDC perpetual by status and counts every skipped entry by reason', async () => {
    const d = await bitgetAdapter.discover('http://x', rest(), 0);
    // 57 plain and multiplied USDT perps + ZEC + 3 USDC; NEWCOIN listed; OLDCOIN limit_open, FADE offTime, APIOFF restrictedAPI.
    expect(statusCounts(d)).toEqual({ trading: 61, prelaunch: 1, delisting: 3 });
    expect(d.skipped).toEqual({ offline: 1, not_perpetual: 1, unknown_status: 1, bad_base: 1, malformed: 1 });
    expect(d.table.size).toBeGreaterThanOrEqual(50);
    for (const m of d.table.values()) {
      expect(m.contractValue, m.symbol).toBe(1);
      expect(m.tickSize, m.symbol).toBeGreaterThan(0);
      expect(m.minSize, m.symbol).toBeGreaterThan(0);
      expect([1, 2, 4, 8].map((h) => h * H), m.symbol).toContain(m.fundingIntervalMs);
      expect(m.key, m.symbol).toMatch(/^[A-Z0-9]+-PERP$/);
    }
  });

  it('the interval is current-fund-rate\'s where it differs from the instruments\' fundInterval; fundInterval where the symbol is not listed there', async () => {
    const d = await bitgetAdapter.discover('http://x', rest(), 0);
    expect(d.table.get('ZECUSDT')).toMatchObject({ fundingIntervalMs: 4 * H, nextFundingMs: 1796169600000 });
    expect(d.table.get('WIFUSDT')).toMatchObject({ fundingIntervalMs: H, nextFundingMs: 1796155200000 + H });
    expect(d.table.get('POPCATUSDT')!.fundingIntervalMs).toBe(2 * H);
    expect(d.table.get('NEWCOINUSDT')).toMatchObject({ fundingIntervalMs: 4 * H, nextFundingMs: 0, status: 'prelaunch' });
    expect(d.table.get('NEWCOINUSDT')!.seedFunding).toBeUndefined();
    expect(d.table.get('10000SATSUSDT')).toMatchObject({ key: 'SATS-PERP', priceMultiplier: 10_000, listedBase: '10000SATS' });
    expect(d.table.get('1INCHUSDT')).toMatchObject({ key: '1INCH-PERP', priceMultiplier: 1 });
    expect(d.table.get('BTCPERP')).toMatchObject({ key: 'BTC-PERP', quote: 'USDC', tickSize: 0.5 });
  });

  it('limit_close (added to the v3 status enum 2025-11-21) is a symbol on its way out, not an unknown word', async () => {
    const body = load('rest-instruments-usdt.json') as { data: Array<Record<string, string>> };
    body.data.find((e) => e.symbol === 'SOLUSDT')!.status = 'limit_close';
    const d = await bitgetAdapter.discover('http://x', async (raw) => (raw.includes('USDT-FUTURES') ? body : rest()(raw)), 0);
    expect(d.table.get('SOLUSDT')!.status).toBe('delisting');
    expect(d.skipped.unknown_status).toBe(1); // the fixture's own unknown word only
  });

  it('without the funding list the instruments\' fundInterval is used; without the USDC list the USDT one still stands; without the USDT list the venue fails', async () => {
    const noFunding = await bitgetAdapter.discover('http://x', rest((u) => u.pathname.includes('current-fund-rate')), 0);
    expect(noFunding.table.get('ZECUSDT')!.fundingIntervalMs).toBe(8 * H);
    expect(noFunding.table.get('ETHUSDT')!.seedFunding).toBeUndefined();
    expect(noFunding.skipped).toMatchObject({ usdt_funding_unavailable: 1, usdc_funding_unavailable: 1 });
    const noUsdc = await bitgetAdapter.discover('http://x', rest((u) => u.searchParams.get('category') === 'USDC-FUTURES'), 0);
    expect(noUsdc.table.has('BTCPERP')).toBe(false);
    expect(noUsdc.table.has('BTCUSDT')).toBe(true);
    expect(noUsdc.skipped).toMatchObject({ usdc_list_unavailable: 1 });
    await expect(bitgetAdapter.discover('http://x', rest((u) => u.searchParams.get('category') === 'USDT-FUTURES'), 0)).rejects.toThrow(/503/);
  });
});

describe('bitget funding through a real engine', () => {
  function setup(intervalHours: number) {
    const engine = new Engine({ config: DEFAULT_CONFIG, now: () => 1780000005000 });
    const meta = register(engine, table('bitget', [{ symbol: 'ETHUSDT', base: 'ETH', fundingIntervalMs: intervalHours * H }, { symbol: 'BTCUSDT', base: 'BTC' }]));
    return { engine, meta, parser: bitgetAdapter.createParser(meta) };
  }
  const stored = (engine: Engine, id: number) => ({ rate: engine.store.fundingRate[id], intervalMs: engine.store.fundingIntervalMs[id] });

  it('the quoted rate is already per interval: a 4 h symbol\'s 0.00004 is 0.00008 per 8 h (rate × 2), a 1 h one\'s ×8, an 8 h one\'s ×1', () => {
    // The fixture's next settlement (16:00Z) is 3.55 h away; a 1 h symbol's frame (sent at 15:00:04Z) says 16:00Z too.
    const at15h = (s: string) => s.replace('"ts":1780000004007', '"ts":1780009204007');
    for (const [hours, factor] of [[4, 2], [1, 8], [8, 1]] as const) {
      const { engine, meta, parser } = setup(hours);
      const frame = hours === 1 ? at15h(text('ticker-eth-4h.json')) : text('ticker-eth-4h.json');
      expect(feed(engine, parser, frame)).toBe('data');
      const s = stored(engine, meta.get('ETHUSDT')!.id);
      expect(s).toEqual({ rate: 0.00004, intervalMs: hours * H });
      expect(rate8h(s.rate, s.intervalMs)).toBeCloseTo(0.00004 * factor, 15);
    }
  });

  it('an interval change at a settlement reaches the engine with the new interval (8 h → 4 h: the same rate counts double per 8 h)', () => {
    const { engine, meta, parser } = setup(8);
    const id = meta.get('BTCUSDT')!.id;
    feed(engine, parser, text('ticker-snapshot.json'));
    expect(stored(engine, id)).toEqual({ rate: 0.000052, intervalMs: 8 * H });
    feed(engine, parser, text('ticker-after-settlement-4h.json'));
    expect(stored(engine, id)).toEqual({ rate: 0.00105, intervalMs: 4 * H });
    expect(rate8h(0.00105, engine.store.fundingIntervalMs[id])).toBeCloseTo(0.0021, 15);
  });

  it('a discovery refresh with a new interval (the entry updated in place) takes effect on the next frame', () => {
    const { engine, meta, parser } = setup(8);
    const m = meta.get('BTCUSDT')!;
    feed(engine, parser, text('ticker-snapshot.json'));
    m.fundingIntervalMs = 4 * H; // the frames' next settlement (16:00Z) is 3.55 h away: a 4 h schedule fits
    feed(engine, parser, text('ticker-update-partial.json'));
    expect(stored(engine, m.id)).toEqual({ rate: 0.000052, intervalMs: 4 * H });
  });

  it('an interval the ticker\'s own next time contradicts is reported unknown (0), never the stale or early figure', () => {
    const { engine, meta, parser } = setup(8);
    const m = meta.get('BTCUSDT')!;
    feed(engine, parser, text('ticker-snapshot.json'));
    // REST already says 1 h while the ticker still shows the 8 h schedule's next settlement, 3.55 h away.
    m.fundingIntervalMs = H;
    feed(engine, parser, text('ticker-update.json'));
    expect(stored(engine, m.id)).toEqual({ rate: 0.000053, intervalMs: 0 });
    // A later refresh says 2 h (the FeedManager updates the entry and pushes REST's figure itself); still contradicted: 0 again.
    m.fundingIntervalMs = 2 * H;
    engine.pushFunding(m.id, 0.000053, 2 * H, 1780012800000, false, 1780000003600, 0);
    engine.drain();
    expect(stored(engine, m.id).intervalMs).toBe(2 * H);
    feed(engine, parser, text('ticker-update.json').replace('"ts":1780000003521', '"ts":1780000003700'));
    expect(stored(engine, m.id)).toEqual({ rate: 0.000053, intervalMs: 0 });
    // At the settlement the ticker rolls to 1 h later: the spacing and REST agree.
    feed(engine, parser, text('ticker-after-settlement-4h.json').replace('"nextFundingTime":"1780027200000"', '"nextFundingTime":"1780016400000"'));
    expect(stored(engine, m.id)).toEqual({ rate: 0.00105, intervalMs: H });
  });
});

describe('bitget: the schedule moved between settlements', () => {
  const NEXT = 1780012800000; // the fixtures' next settlement, 16:00Z; frames sent around 12:27Z

  it('a next time moved by a step the interval does not explain makes the interval unknown until REST has the new schedule', () => {
    const engine = new Engine({ config: DEFAULT_CONFIG, now: () => 1780000005000 });
    const meta = register(engine, table('bitget', [{ symbol: 'BTCUSDT', base: 'BTC' }]));
    const parser = bitgetAdapter.createParser(meta);
    const m = meta.get('BTCUSDT')!;
    const stored = () => ({ intervalMs: engine.store.fundingIntervalMs[m.id], nextFundingMs: engine.store.nextFundingMs[m.id] });
    feed(engine, parser, text('ticker-snapshot.json'));
    expect(stored()).toEqual({ intervalMs: 8 * H, nextFundingMs: NEXT });
    // 12:27Z: Bitget moves the symbol to 1 h; the ticker's next settlement is now 13:00Z, 3 h earlier (not a multiple of 8 h).
    const moved = text('ticker-update.json').replace(`"nextFundingTime":"${NEXT}"`, `"nextFundingTime":"${NEXT - 3 * H}"`);
    feed(engine, parser, moved);
    expect(stored()).toEqual({ intervalMs: 0, nextFundingMs: NEXT - 3 * H });
    // Still unknown on later frames while REST says 8 h with the old next time.
    feed(engine, parser, moved.replace('"ts":1780000003521', '"ts":1780000004521').replace('"fundingRate":"0.000053"', '"fundingRate":"0.00006"'));
    expect(stored().intervalMs).toBe(0);
    // A refresh whose REST still has the old schedule moves the entry's next time: the FeedManager pushes REST's
    // timing itself (pushTiming); the parser re-sends its own with the next frame, though nothing in it changed.
    Object.assign(m, { nextFundingMs: NEXT });
    engine.pushFunding(m.id, 0.00006, 8 * H, NEXT, false, 1780000004600, 0);
    engine.drain();
    expect(stored()).toEqual({ intervalMs: 8 * H, nextFundingMs: NEXT });
    feed(engine, parser, moved.replace('"ts":1780000003521', '"ts":1780000004700').replace('"fundingRate":"0.000053"', '"fundingRate":"0.00006"'));
    expect(stored()).toEqual({ intervalMs: 0, nextFundingMs: NEXT - 3 * H });
    // The REST refresh (current-fund-rate: interval 1, nextUpdate 13:00Z) updates the entry in place: 1 h from the next frame.
    Object.assign(m, { fundingIntervalMs: H, nextFundingMs: NEXT - 3 * H });
    feed(engine, parser, moved.replace('"ts":1780000003521', '"ts":1780000005521'));
    expect(stored()).toEqual({ intervalMs: H, nextFundingMs: NEXT - 3 * H });
  });

  it('a one-off next time off the schedule is withdrawn with the next push back on it; a time off the hour is no evidence at all', () => {
    const meta = table('bitget', [{ symbol: 'BTCUSDT', base: 'BTC' }]);
    const parser = bitgetAdapter.createParser(meta);
    const sink = new CollectingSink();
    const at = (tsMs: number, nextMs: number) => text('ticker-update.json').replace('"ts":1780000003521', `"ts":${tsMs}`).replace(`"nextFundingTime":"${NEXT}"`, `"nextFundingTime":"${nextMs}"`);
    const T = 1780000003521;
    parser.parse(at(T, NEXT), sink);
    parser.parse(at(T + 1000, NEXT - 2 * H), sink); // 14:00Z: off the 8 h schedule
    parser.parse(at(T + 2000, NEXT), sink); // back on it
    parser.parse(at(T + 3000, NEXT + 1), sink); // not a whole hour: passed on, the schedule stands
    parser.parse(at(T + 4000, NEXT), sink);
    expect(sink.take().flatMap((u) => (u.kind === 'funding' ? [[u.intervalMs, u.nextFundingMs - NEXT]] : []))).toEqual([
      [8 * H, 0],
      [0, -2 * H],
      [8 * H, 0],
      [8 * H, 1],
      [8 * H, 0],
    ]);
  });

  it('settlement rolls are not a change of schedule, nor a rolled next time pushed just before the settlement', () => {
    const meta = table('bitget', [{ symbol: 'BTCUSDT', base: 'BTC', fundingIntervalMs: H }]);
    const parser = bitgetAdapter.createParser(meta);
    const sink = new CollectingSink();
    const at = (tsMs: number, nextMs: number) => text('ticker-update.json').replace('"ts":1780000003521', `"ts":${tsMs}`).replace(`"nextFundingTime":"${NEXT}"`, `"nextFundingTime":"${nextMs}"`);
    parser.parse(at(NEXT - 30 * 60_000, NEXT), sink);
    parser.parse(at(NEXT + 400, NEXT + H), sink); // the 16:00Z settlement: rolls one hour
    parser.parse(at(NEXT + H - 300, NEXT + 2 * H), sink); // 16:59:59.7Z, already showing 18:00Z (1 h 0.3 s away)
    parser.parse(at(NEXT + 2 * H + 200, NEXT + 3 * H), sink);
    expect(sink.take().flatMap((u) => (u.kind === 'funding' ? [u.intervalMs] : []))).toEqual([H, H, H, H]);
  });
});

describe('bitget: open interest and volume from both ticker shapes', () => {
  it('v3 openInterest/turnover24h and classic holdingAmount/quoteVolume, base-coin open interest × markPrice', () => {
    for (const [file, oiUsd, volume] of [
      ['ticker-update.json', 41_277.4408 * 108_318.9, 3184433925.77402],
      ['ticker-v2.json', 41_280.0107 * 108_320.2, 3184687281.90512],
    ] as const) {
      const engine = new Engine({ config: DEFAULT_CONFIG, now: () => 1780000006000 });
      const parser = bitgetAdapter.createParser(register(engine, table('bitget', [{ symbol: 'BTCUSDT', base: 'BTC' }])));
      expect(feed(engine, parser, text(file)), file).toBe('data');
      const s = engine.marketStats('BTC-PERP', 'bitget')!;
      expect(s.openInterestUsd, file).toBeCloseTo(oiUsd, 1);
      expect(s.volume24hUsd, file).toBe(volume);
    }
  });
});

describe('bitget twin over sockets → real FeedManager → engine: an interval changed mid-run', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('8 h → 1 h at a settlement arrives from the ticker\'s next time (no REST read); a move between settlements is unknown at once, then REST\'s', async () => {
    // A clock a few seconds before an 8 h settlement, shared by the twin, the feeds and the engine.
    const lead = 8000;
    const boundary = Math.ceil((Date.now() + lead) / (8 * H)) * 8 * H;
    const offset = boundary - lead - Date.now();
    const now = () => Date.now() + offset;
    const sim = await startSimulator({ seed: 5, messagesPerSec: 300, instruments: ['BTC-PERP', 'ETH-PERP', 'SOL-PERP'], exchanges: ['bitget'], now });
    cleanups.push(() => sim.close());
    const pair = sim.model.byExchange.bitget.find((p) => p.spec.key === 'ETH-PERP')!;
    pair.fundingIntervalMs = 8 * H;
    const r = applyConfigPatch(DEFAULT_CONFIG, { detector: { staleAfterMs: 60_000 } });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const engine = new Engine({ config: r.config, now });
    let fundReads = 0;
    const realFetch = createFetchJson();
    const fm = new FeedManager({
      engine,
      exchanges: ['bitget'],
      instruments: ['ETH-PERP'],
      endpoints: sim.endpoints,
      now,
      // The post-settlement REST re-read is pushed out of this test's window: the 1 h must come from the ticker.
      settlementRefreshDelayMs: 60_000,
      fetchJson: (url, init) => {
        if (url.includes('current-fund-rate')) fundReads++;
        return realFetch(url, init);
      },
    });
    cleanups.push(() => fm.stop());
    await fm.start();
    const funding = () => engine.quote('ETH-PERP', 'bitget');
    await waitFor('8 h funding before the settlement', () => funding()?.fundingIntervalMs === 8 * H && funding()?.nextFundingMs === boundary, lead);
    expect(now()).toBeLessThan(boundary - 500);
    // The venue moves the symbol to 1 h from this settlement (its REST says so at once; the ticker's next time is the same 16:00).
    pair.fundingIntervalMs = H;
    const readsBefore = fundReads;
    await waitFor('1 h funding after the settlement', () => funding()?.fundingIntervalMs === H && funding()?.nextFundingMs === boundary + H, lead + 5000);
    expect(fundReads).toBe(readsBefore);
    const settledAt = now();
    expect(settledAt - boundary).toBeLessThan(3000); // the first pushes after the settlement, not a refresh minutes later
    // Between settlements the venue moves it to 4 h: the next settlement is now 4 h away, too far for 1 h.
    pair.fundingIntervalMs = 4 * H;
    await waitFor('the stale 1 h withdrawn (unknown) with the new next time', () => funding()?.fundingIntervalMs === 0 && funding()?.nextFundingMs === boundary + 4 * H, 5000);
    await fm.refreshDiscovery(); // the periodic discovery refresh (every 5 min) reads current-fund-rate: 4 h
    await waitFor('4 h from REST', () => funding()?.fundingIntervalMs === 4 * H && funding()?.nextFundingMs === boundary + 4 * H, 5000);
    expect(fm.metadata().bitget?.get('ETHUSDT')?.fundingIntervalMs).toBe(4 * H);
  }, 40_000);
});

describe('bitget: the plan for a whole universe is accepted by the twin', () => {
  const N = 1_200;
  let sim: Simulator;
  const running: FeedConnection[] = [];
  beforeAll(async () => {
    sim = await startSimulator({ seed: 11, instruments: Array.from({ length: N }, (_, i) => `COIN${String(i + 1).padStart(4, '0')}-PERP`), messagesPerSec: 400, exchanges: ['bitget'] });
  });
  afterAll(async () => {
    await Promise.all(running.splice(0).map((c) => c.stop()));
    await sim?.close();
  });

  it(`${N} symbols: sockets of at most ${BITGET_TOPICS_PER_SOCKET} channels, every topic subscribed, no error, no violation`, async () => {
    const fetchJson: FetchJson = async (url) => (await fetch(url)).json();
    const symbols = sim.model.byExchange.bitget.map((p) => p.symbol);
    const plans = await bitgetAdapter.plan(sim.endpoints.bitget, symbols, fetchJson, {});
    expect(plans).toHaveLength(Math.ceil(N / BITGET_TOPICS_PER_SOCKET));
    expect(plans.length).toBeLessThanOrEqual(facts.limits.maxConnections);
    const parser = bitgetAdapter.createParser(new Map());
    const nullSink: UpdateSink = { quote() {}, funding() {} };
    const pacer = new ConnectPacer();
    let venueErrors = 0;
    const downs: string[] = [];
    plans.forEach((first, i) => {
      let reuse: ConnectionPlan | null = first;
      const conn = new FeedConnection(
        first.label,
        async () => {
          const p = reuse ?? (await bitgetAdapter.plan(sim.endpoints.bitget, symbols, fetchJson, {}))[i]!;
          reuse = null;
          return p;
        },
        {
          onFrame: (t) => {
            const outcome = parser.parse(t, nullSink);
            if (outcome === 'venue_error') venueErrors++;
            return outcome;
          },
          onDown: (reason) => downs.push(reason),
          onLive: () => {},
          onChange: () => {},
        },
        { silenceMs: 60_000, connectPacer: pacer },
      );
      running.push(conn);
      conn.start();
    });
    await waitFor(`${N} topics subscribed`, () => sim.stats().subscriptions.bitget === N, 25_000);
    expect(venueErrors).toBe(0);
    expect(downs).toEqual([]);
    expect(sim.stats().violations.bitget).toEqual({});
    expect(sim.stats().connections.bitget).toBe(plans.length);
  }, 30_000);
});
