/**
 * Hyperliquid specifics the table-driven protocol suite has no generic form for: hourly funding through
 * the real engine (8 h normalisation, APR), kilo coins, the plain-text greeting, positional contexts per
 * dex with builder dexes selected in the venue options, and predictedFundings as funding references.
 */
import { describe, expect, it } from 'vitest';
import { HOUR_MS, type FetchJson, type MetadataTable } from '../../server/feeds/adapter.js';
import { defaultMetadata, parseInstrumentsFile, toInstrumentsFile } from '../../server/feeds/metadata.js';
import { Engine } from '../../server/engine/index.js';
import { fundingAprPct, rate8h } from '../../server/engine/scoring.js';
import { HL_FUNDING_INTERVAL_MS, HL_PING_MS, HL_POSITION_BAND, hyperliquidAdapter as adapter, isGreeting, nextHourMs, ownTimings, selectedDexes, tickOf } from '../../server/venues/hyperliquid/adapter.js';
import { hyperliquidDepth } from '../../server/venues/hyperliquid/depth.js';
import type { InstrumentMeta } from '../../server/feeds/adapter.js';
import type { DepthSink } from '../../server/depth/types.js';
import { ingestBench } from '../../server/venues/hyperliquid/bench.js';
import { facts } from '../../server/venues/hyperliquid/facts.js';
import { coinParts, keyOf, nativeSymbol, parseNative } from '../../server/venues/hyperliquid/symbols.js';
import { VENUES } from '../../server/venues/index.js';
import { cannedInfo } from '../fixtures/hyperliquid/protocol.js';
import { engineConfig } from '../engine/btc-four-venues.js';
import { CollectingSink, fixture, table, totalErrors } from '../feeds/helpers.js';
import { inflateRawSync } from 'node:zlib';
import { feed, register } from '../traps/wire.js';

const H = 3_600_000;
const T = 1764590400123; // venue time of bbo.json
const NEXT = 1764594000000;
const OPEN_ALL = { minSpreadBps: -10_000, minFundingDelta8h: -0.05, minConfidence: 0, minProfitBps: -10_000, hysteresisBps: 0 };
const f = (name: string) => fixture('hyperliquid', name);

async function discovered(dexes: string[] = []): Promise<MetadataTable> {
  return (await adapter.discover('http://x', cannedInfo, T, { dexes })).table;
}

describe('hyperliquid: hourly funding through the real engine', () => {
  it('a per-hour rate is normalised ×8 to 8 h, its APR is rate × 8,760, and it pairs (USDC) against a USDT venue', async () => {
    const engine = new Engine({ config: engineConfig({ thresholds: OPEN_ALL }), now: () => T + 50 });
    const sub = engine.bus.subscribe('test');
    const hl = register(engine, await discovered());
    const other = register(engine, table('bybit', [{ symbol: 'BTCUSDT', base: 'BTC' }]));
    const parser = adapter.createParser(hl);
    expect(feed(engine, parser, f('bbo.json'))).toBe('data'); // 91234 / 91235, and the venue clock
    expect(feed(engine, parser, f('assetCtxs.json'))).toBe('data'); // BTC funding 0.0000125 per hour
    const q = engine.quote('BTC-PERP', 'hyperliquid', 'USDC')!;
    expect(q).toMatchObject({ fundingRate: 0.0000125, fundingIntervalMs: H, nextFundingMs: NEXT });
    expect(engine.quote('BTC-PERP', 'hyperliquid')!.id).toBe(q.id); // the venue's only leg
    const bybit = other.get('BTCUSDT')!;
    engine.pushQuote(bybit.id, 91_300, 91_301, 2, 2, T, 0);
    engine.pushFunding(bybit.id, 0.0003, 8 * H, NEXT + 7 * H, false, T, 0);
    engine.drain();
    const opp = engine.opportunities().find((o) => o.instrument === 'BTC-PERP' && o.longExchange === 'hyperliquid' && o.shortExchange === 'bybit');
    expect(opp).toBeDefined();
    expect(opp!.longFundingRate8h).toBeCloseTo(0.0001, 12); // 0.0000125 × 8
    expect(opp!.longFundingIntervalMs).toBe(H);
    expect(opp!.fundingDelta8h).toBeCloseTo(0.0002, 12);
    expect(opp!.fundingAprPct).toBeCloseTo(21.9, 9); // 0.0002 × 3 × 365 × 100
    // The same APR from the hourly rate directly: rate × 24 × 365.
    expect(fundingAprPct(rate8h(0.0000125, H))).toBeCloseTo(0.0000125 * 8760 * 100, 9);
    sub.popBatch(1e6);
  });

  it('context frames are stamped with the venue clock and settle at the next top of the hour', () => {
    expect(nextHourMs(T)).toBe(NEXT);
    expect(nextHourMs(NEXT)).toBe(NEXT + H); // strictly after
    expect(HL_FUNDING_INTERVAL_MS).toBe(H);
  });
});

describe('hyperliquid: names and units', () => {
  it('kPEPE-style coins are ×1000 of the underlying; upper-case K coins, spot pairs and odd names are not folded', () => {
    expect(coinParts('kPEPE')).toEqual({ dex: '', listed: 'kPEPE', base: 'PEPE', multiplier: 1000 });
    for (const k of ['kSHIB', 'kBONK', 'kFLOKI', 'kLUNC', 'kDOGS', 'kNEIRO']) expect(keyOf(k)).toBe(`${k.slice(1)}-PERP`);
    expect(coinParts('KAITO')).toMatchObject({ base: 'KAITO', multiplier: 1 });
    expect(coinParts('KAS')).toMatchObject({ base: 'KAS', multiplier: 1 });
    expect(coinParts('xyz:TSLA')).toEqual({ dex: 'xyz', listed: 'TSLA', base: 'TSLA', multiplier: 1 });
    expect(coinParts('xyz:kPEPE')).toMatchObject({ dex: 'xyz', base: 'PEPE', multiplier: 1000 });
    for (const bad of ['@107', 'PURR/USDC', '', 'kpepe', 'Btc', 'XYZ:TSLA', 'k']) expect(coinParts(bad), bad).toBeNull();
    expect(parseNative('BTC')).toEqual({ base: 'BTC', quote: 'USDC' });
    expect(nativeSymbol('kPEPE', 'USDT')).toBe('kPEPE');
    // It pairs with the 1000-multiplied symbols elsewhere.
    expect(keyOf('kPEPE')).toBe(VENUES.bybit.symbols.keyOf('1000PEPEUSDT'));
  });

  it('kPEPE quotes are divided by 1000 in price and multiplied by 1000 in size (from discovered metadata)', async () => {
    const meta = await discovered();
    const pepe = meta.get('kPEPE')!;
    expect(pepe).toMatchObject({ key: 'PEPE-PERP', base: 'PEPE', listedBase: 'kPEPE', priceMultiplier: 1000, quote: 'USDC', minSize: 1000 });
    const sink = new CollectingSink();
    expect(adapter.createParser(meta).parse(f('bbo-kpepe.json'), sink)).toBe('data');
    const [u] = sink.take();
    if (u.kind !== 'quote') throw new Error('not a quote');
    expect(u.bid).toBeCloseTo(0.000004712, 15);
    expect(u.ask).toBeCloseTo(0.000004713, 15);
    expect(u.bidSize).toBe(2_500_000_000);
    expect(u.askSize).toBe(1_200_000_000);
  });

  it('price ticks follow szDecimals and 5 significant figures', () => {
    expect(tickOf(5, 91234.5)).toBe(1);
    expect(tickOf(0, 0.0047125)).toBe(0.000001);
    expect(tickOf(2, 142.115)).toBe(0.01);
    expect(tickOf(3, 0)).toBe(0.001);
  });
});

describe('hyperliquid: frames', () => {
  it('the plain-text greeting is a welcome, counted nowhere; other text is invalid JSON', () => {
    const p = adapter.createParser(new Map());
    const sink = new CollectingSink();
    expect(p.parse(f('ws-welcome.txt'), sink)).toBe('welcome');
    expect(totalErrors(p.errors)).toBe(0);
    expect(p.parse('Websocket connection closed.', sink)).toBe('rejected');
    expect(p.errors).toEqual({ invalid_json: 1 });
    expect(sink.updates).toEqual([]);
  });

  it('positional contexts pair per dex: a builder dex selected in the options, its position never read from another dex', async () => {
    const meta = await discovered(['xyz', 'NotADex!']);
    expect(meta.get('xyz:TSLA')).toMatchObject({ position: 1, key: 'TSLA-PERP', quote: 'USDC' });
    expect(meta.get('ETH')).toMatchObject({ position: 1 });
    expect(meta.has('xyz:BTC')).toBe(false); // same key and settle as the main dex's BTC: the first wins
    expect(meta.has('MATIC')).toBe(false); // isDelisted
    const p = adapter.createParser(meta);
    const sink = new CollectingSink();
    p.parse(f('bbo.json'), sink);
    sink.take();
    expect(p.parse(f('assetCtxs.json'), sink)).toBe('data');
    const main = sink.take();
    expect(main.map((u) => u.symbol)).not.toContain('xyz:TSLA');
    expect(main.find((u) => u.symbol === 'ETH')).toMatchObject({ kind: 'funding', rate: 0.0000118721 });
    expect(main.find((u) => u.symbol === 'KAITO')).toMatchObject({ rate: 0.0000412 }); // position 13
    expect(p.parse(f('assetCtxs-dex.json'), sink)).toBe('data');
    const dex = sink.take();
    expect(dex.map((u) => u.symbol)).toEqual(['xyz:XYZ100', 'xyz:TSLA', 'xyz:NVDA']);
    expect(dex[1]).toEqual({ kind: 'funding', symbol: 'xyz:TSLA', rate: -0.0000031, intervalMs: H, nextFundingMs: NEXT, predicted: false, ts: T });
    // Without the option, only the main dex is discovered (and only valid dex names are used).
    expect([...(await discovered()).keys()].some((s) => s.includes(':'))).toBe(false);
    expect(selectedDexes({ dexes: ['xyz', 'xyz', '', 'A', 7] })).toEqual(['xyz']);
    expect(selectedDexes(undefined)).toEqual([]);
    expect(facts.options.defaults).toEqual({ dexes: [] });
  });

  it('an instruments file (replay) keeps the universe positions, so context frames still pair', async () => {
    const meta = await discovered(['xyz']);
    const back = parseInstrumentsFile(JSON.stringify(toInstrumentsFile({ hyperliquid: meta }))).hyperliquid;
    expect(back.get('kPEPE')).toMatchObject({ position: 9, priceMultiplier: 1000, quote: 'USDC' });
    expect(back.get('xyz:TSLA')).toMatchObject({ position: 1 });
    const p = adapter.createParser(back);
    const sink = new CollectingSink();
    p.parse(f('bbo.json'), sink);
    expect(p.parse(f('assetCtxs-dex.json'), sink)).toBe('data');
    expect(() => parseInstrumentsFile(JSON.stringify([{ ...toInstrumentsFile({ hyperliquid: meta })[0], position: -1 }]))).toThrow(/position/);
  });

  it('discovery counts what it leaves out; an unreadable builder dex is skipped, the main dex kept', async () => {
    const d = await adapter.discover('http://x', cannedInfo, T, { dexes: ['xyz', 'nope'] });
    expect(d.skipped).toEqual({ delisted: 1, duplicate_key: 1, dex_unavailable: 1 });
    expect(d.table.size).toBe(14 + 3);
    const bodies: unknown[] = [];
    await adapter.discover('http://x', async (url, init) => (bodies.push(init?.body), cannedInfo(url, init)), T, { dexes: ['xyz'] });
    expect(bodies).toEqual([{ type: 'metaAndAssetCtxs' }, { type: 'predictedFundings' }, { type: 'metaAndAssetCtxs', dex: 'xyz' }]);
  });

  it('a builder dex coin moves in place; a change of the dex set re-plans', async () => {
    const plans = await adapter.plan({ ws: 'ws://h:1', rest: 'http://h:1' }, ['BTC', 'ETH'], cannedInfo, {});
    const add = adapter.liveChange!(plans, ['BTC', 'ETH', 'SOL'], ['SOL'], []);
    expect(add).toEqual([{ messages: ['{"method":"subscribe","subscription":{"type":"bbo","coin":"SOL"}}'], topicCount: 4, symbols: ['BTC', 'ETH', 'SOL'] }]);
    const remove = adapter.liveChange!(plans, ['BTC'], [], ['ETH']);
    expect(remove![0].messages).toEqual(['{"method":"unsubscribe","subscription":{"type":"bbo","coin":"ETH"}}']);
    expect(adapter.liveChange!(plans, ['BTC', 'ETH', 'xyz:TSLA'], ['xyz:TSLA'], [])).toBeNull();
  });

  it('the ingest bench frames parse with no rejection on the bench metadata (universe positions as the bench sets them)', () => {
    let seed = 1;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const frames = ingestBench.frames({ count: 500, bases: ['BTC', 'ETH'], symbol: (b) => VENUES.hyperliquid.symbols.nativeSymbol(b, 'USDT'), t0: T, rnd, px: () => (90_000 + rnd() * 10).toFixed(1), sz: () => rnd().toFixed(3), touch: () => ['90000.0', '90000.5'] });
    const meta = defaultMetadata('hyperliquid', ['BTC-PERP', 'ETH-PERP']);
    for (const m of meta.values()) m.position = ['BTC', 'ETH'].indexOf(m.base);
    const p = adapter.createParser(meta);
    const sink = new CollectingSink();
    const outcomes = frames.map((fr) => p.parse(fr, sink));
    expect(totalErrors(p.errors)).toBe(0);
    expect(outcomes.every((o) => o === 'data')).toBe(true);
    // 490 bbo frames (one quote each) and 10 assetCtxs frames (a funding per coin of the two-coin universe)
    expect(sink.updates.filter((u) => u.kind === 'quote')).toHaveLength(490);
    expect(sink.updates.filter((u) => u.kind === 'funding')).toHaveLength(20);
  });
});

describe('hyperliquid: the funding interval the venue publishes (predictedFundings, its own HlPerp entry)', () => {
  /** cannedInfo with KAITO's own entry on a 4 h interval (next settlement `next`) and BTC's entry null. */
  const fourHourKaito = (next: number): FetchJson => async (url, init) => {
    const body = await cannedInfo(url, init);
    if ((init?.body as { type?: string }).type !== 'predictedFundings') return body;
    return (body as Array<[string, Array<[string, unknown]>]>).map(([coin, entries]) => [
      coin,
      entries.map(([venue, v]) => [venue, venue !== 'HlPerp' ? v : coin === 'KAITO' ? { ...(v as object), fundingIntervalHours: 4, nextFundingTime: next } : coin === 'BTC' ? null : v]),
    ]);
  };
  const KAITO_NEXT = NEXT + 3 * H; // 4 h after the last settlement before T

  it('a coin on another interval follows the venue figure (metadata, seed, live contexts); the others stay hourly', async () => {
    const d = await adapter.discover('http://x', fourHourKaito(KAITO_NEXT), T);
    expect(d.table.get('KAITO')).toMatchObject({ fundingIntervalMs: 4 * H, nextFundingMs: KAITO_NEXT, seedFunding: { intervalMs: 4 * H, nextFundingMs: KAITO_NEXT } });
    expect(d.table.get('BTC')).toMatchObject({ fundingIntervalMs: H, nextFundingMs: NEXT }); // null own entry: hourly
    expect(d.table.get('HYPE')).toMatchObject({ fundingIntervalMs: H, nextFundingMs: NEXT }); // 1 h published
    expect(d.table.get('ETH')).toMatchObject({ fundingIntervalMs: H, nextFundingMs: NEXT }); // no row
    const p = adapter.createParser(d.table);
    const sink = new CollectingSink();
    p.parse(f('bbo.json'), sink);
    sink.take();
    expect(p.parse(f('assetCtxs.json'), sink)).toBe('data');
    const out = sink.take();
    expect(out.find((u) => u.symbol === 'KAITO')).toEqual({ kind: 'funding', symbol: 'KAITO', rate: 0.0000412, intervalMs: 4 * H, nextFundingMs: KAITO_NEXT, predicted: false, ts: T });
    expect(out.find((u) => u.symbol === 'BTC')).toMatchObject({ intervalMs: H, nextFundingMs: NEXT });
    // A published next time already passed (the answer read just before a settlement) rolls on by the interval.
    const late = await adapter.discover('http://x', fourHourKaito(NEXT - H), T);
    expect(late.table.get('KAITO')).toMatchObject({ fundingIntervalMs: 4 * H, nextFundingMs: NEXT + 3 * H });
  });

  it('predictedFundings unanswered or unreadable: discovery stands, every coin hourly', async () => {
    const failing: FetchJson = async (url, init) => ((init?.body as { type?: string }).type === 'predictedFundings' ? Promise.reject(new Error('429')) : cannedInfo(url, init));
    const garbage: FetchJson = async (url, init) => ((init?.body as { type?: string }).type === 'predictedFundings' ? { error: 'x' } : cannedInfo(url, init));
    for (const rest of [failing, garbage]) {
      const d = await adapter.discover('http://x', rest, T);
      expect(d.table.size).toBe(14);
      expect([...d.table.values()].every((m) => m.fundingIntervalMs === H && m.nextFundingMs === NEXT)).toBe(true);
    }
    expect(ownTimings([['KAITO', [['HlPerp', { fundingIntervalHours: 0 }], ['HlPerp', { fundingIntervalHours: 'x' }], ['BinPerp', { fundingIntervalHours: 4 }]]], ['X', null]]).size).toBe(0);
  });
});

describe('hyperliquid: predictedFundings as funding references', () => {
  it('maps BinPerp/BybitPerp to registry venues, kPEPE to PEPE-PERP; skips itself, unknown venues and null entries or fields', async () => {
    const refs = await adapter.fundingReferences!('http://x', cannedInfo, T);
    expect(refs).toEqual([
      { venue: 'binance', key: 'BTC-PERP', settle: 'USDT', rate: 0.0001, intervalMs: 8 * H, nextFundingMs: 1764604800000 },
      { venue: 'bybit', key: 'BTC-PERP', settle: 'USDT', rate: 0.000085, intervalMs: 8 * H, nextFundingMs: 1764604800000 },
      { venue: 'binance', key: 'PEPE-PERP', settle: 'USDT', rate: -0.00003125, intervalMs: 4 * H, nextFundingMs: 1764590400000 },
      { venue: 'binance', key: 'HYPE-PERP', settle: 'USDT', rate: 0.00025, intervalMs: null, nextFundingMs: 1764594000000 },
      { venue: 'bybit', key: 'KAITO-PERP', settle: 'USDT', rate: 0.0001, intervalMs: 2 * HOUR_MS, nextFundingMs: 1764590400000 },
    ]);
  });

  it('posts predictedFundings; never throws on damaged rows, throws when the body is not a list', async () => {
    const bodies: unknown[] = [];
    const damaged = [null, 'x', ['BTC'], ['BTC', null], ['BTC', [null, ['BinPerp'], ['BinPerp', 'x'], ['BinPerp', { fundingRate: 'abc' }], ['BinPerp', { fundingRate: '0.0001', nextFundingTime: 'soon', fundingIntervalHours: -1 }]]]];
    const refs = await adapter.fundingReferences!('http://x', async (_url, init) => (bodies.push(init?.body), damaged), T);
    expect(bodies).toEqual([{ type: 'predictedFundings' }]);
    expect(refs).toEqual([{ venue: 'binance', key: 'BTC-PERP', settle: 'USDT', rate: 0.0001, intervalMs: null, nextFundingMs: null }]);
    await expect(adapter.fundingReferences!('http://x', async () => ({ error: 'x' }), T)).rejects.toThrow(/predictedFundings/);
  });
});

describe('hyperliquid: the odd cases of recorded frames (shapes checked against real recordings, see SOURCES.md)', () => {
  const meta = () =>
    table('hyperliquid', [
      { symbol: 'BTC', base: 'BTC', quote: 'USDC', fundingIntervalMs: H, nextFundingMs: NEXT, position: 0 },
      { symbol: 'ETH', base: 'ETH', quote: 'USDC', fundingIntervalMs: H, position: 1 },
      { symbol: 'kPEPE', base: 'PEPE', quote: 'USDC', fundingIntervalMs: H, position: 9, priceMultiplier: 1000 },
    ]);

  it('the greeting: its exact text anywhere, a loose spelling of it anywhere, any plain text as a connection first frame (again after reset); never counted', () => {
    const p = adapter.createParser(meta());
    const sink = new CollectingSink();
    expect(p.parse('Hello from the venue', sink)).toBe('welcome'); // the first frame: its wording is not documented
    for (const text of [f('ws-welcome.txt'), 'Websocket connection established', 'websocket connection established.\n', ' Websocket connection established. '])
      expect(p.parse(text, sink), JSON.stringify(text)).toBe('welcome');
    expect(totalErrors(p.errors)).toBe(0);
    expect(p.parse('Hello from the venue', sink)).toBe('rejected'); // later plain text is not a greeting
    expect(p.errors).toEqual({ invalid_json: 1 });
    p.reset(); // a new connection: its first frame may be plain text again
    expect(p.parse('Hello from the venue', sink)).toBe('welcome');
    expect(p.errors).toEqual({ invalid_json: 1 });
    // Valid JSON scalars and truncated JSON are never a greeting, even first.
    for (const raw of ['42', '"text"', 'null', 'true', '{"channel":"bbo"', 'channel":"bbo"}', `Hello ${'x'.repeat(300)}`]) expect(isGreeting(raw, true), raw).toBe(false);
    expect(isGreeting('Connected, welcome.', true)).toBe(true);
    expect(isGreeting('Connected, welcome.', false)).toBe(false);
    // The depth socket's parser reads the greeting the same way.
    const d = hyperliquidDepth.createParser(meta(), 20);
    const noBooks: DepthSink = { book: () => {}, resync: () => {}, snapshotNeeded: () => {} };
    expect(d.parse('Websocket connection established', noBooks)).toBe('welcome');
    expect(totalErrors(d.errors)).toBe(0);
    expect(sink.updates).toEqual([]);
  });

  it('a context frame before any timed frame is not lost: funding per hour at time 0 (the receive time), the metadata next settlement; a spot bbo then sets the clock', () => {
    const p = adapter.createParser(meta());
    const sink = new CollectingSink();
    expect(p.parse(f('activeAssetCtx.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([{ kind: 'funding', symbol: 'ETH', rate: 0.0000118721, intervalMs: H, nextFundingMs: 0, predicted: false, ts: 0 }]);
    expect(p.parse(f('assetCtxs.json'), sink)).toBe('data');
    expect(sink.take().find((u) => u.symbol === 'BTC')).toMatchObject({ rate: 0.0000125, intervalMs: H, nextFundingMs: NEXT, ts: 0 });
    expect(p.parse(f('bbo-spot.json'), sink)).toBe('ignored'); // @107: not ours, but its time is the venue's
    expect(p.parse(f('activeAssetCtx.json'), sink)).toBe('data');
    const spotTime = 1764590399323;
    expect(sink.take()).toEqual([{ kind: 'funding', symbol: 'ETH', rate: 0.0000118721, intervalMs: H, nextFundingMs: nextHourMs(spotTime), predicted: false, ts: spotTime }]);
    expect(totalErrors(p.errors)).toBe(0);
    // A perp we do not carry is counted, and its time still moves the clock.
    expect(p.parse(f('bbo-dex.json'), sink)).toBe('rejected');
    expect(p.errors).toEqual({ unknown_symbol: 1 });
    p.parse(f('activeAssetCtx.json'), sink);
    expect(sink.take()).toMatchObject([{ symbol: 'ETH', ts: 1764590399723 }]);
  });

  it('open interest in USD = openInterest (listed coin) × markPx; nulls in premium/midPx/impactPxs never stop a context', () => {
    const stats: Array<[string, number, number]> = [];
    const sink = new CollectingSink();
    const withStats = Object.assign(sink, { stats: (m: InstrumentMeta, oi: number, vol: number) => void stats.push([m.symbol, oi, vol]) });
    const p = adapter.createParser(meta());
    p.parse(f('bbo.json'), withStats);
    expect(p.parse(f('activeAssetCtx.json'), withStats)).toBe('data');
    expect(stats).toEqual([['ETH', 12345.6 * 3051.05, 123456789.01]]);
    const nulls = f('activeAssetCtx.json').replace('"premium":"0.0000412"', '"premium":null').replace('"midPx":"3051.05"', '"midPx":null').replace('"impactPxs":["3051.05","3051.05"]', '"impactPxs":null');
    expect(p.parse(nulls, withStats)).toBe('data');
    // Numbers where the venue writes strings read the same.
    expect(p.parse(f('activeAssetCtx.json').replace('"funding":"0.0000118721"', '"funding":0.0000118721'), withStats)).toBe('data');
    expect(sink.take().flatMap((u) => (u.kind === 'funding' ? [u.rate] : []))).toEqual([0.0000118721, 0.0000118721, 0.0000118721]);
    expect(totalErrors(p.errors)).toBe(0);
  });

  it('fastAssetCtxs carries a compressed string (mark/mid only, no funding): dropped quietly, as are trades and allMids', () => {
    const frame = JSON.parse(f('fastAssetCtxs.json')) as { channel: string; data: string };
    expect(typeof frame.data).toBe('string');
    expect(JSON.parse(inflateRawSync(Buffer.from(frame.data, 'base64')).toString('utf8'))).toMatchObject({ BTC: { markPx: '91234.5' } });
    const p = adapter.createParser(meta());
    const sink = new CollectingSink();
    for (const name of ['fastAssetCtxs.json', 'trades.json', 'allMids.json']) expect(p.parse(f(name), sink), name).toBe('ignored');
    expect(sink.updates).toEqual([]);
    expect(totalErrors(p.errors)).toBe(0);
  });

  it('l2Book: an empty book (`levels:[[],[]]`) is counted as an empty book, not a one-sided one', () => {
    const p = adapter.createParser(meta());
    expect(p.parse(f('l2Book-empty.json'), new CollectingSink())).toBe('rejected');
    expect(p.errors).toEqual({ empty_book: 1 });
  });

  it('a builder dex margined in another stablecoin (collateralToken ≠ 0) is left out, counted; the USDC ones are kept', async () => {
    const d = await adapter.discover('http://x', cannedInfo, T, { dexes: ['xyz', 'hx'] });
    expect(d.skipped).toEqual({ delisted: 1, duplicate_key: 1, non_usdc_collateral: 2 });
    expect([...d.table.keys()].filter((s) => s.startsWith('hx:'))).toEqual([]);
    expect(d.table.get('xyz:TSLA')).toMatchObject({ quote: 'USDC' });
  });

  /** assetCtxs.json with its ctxs changed by `edit` (the universe order the frame is positional against). */
  const ctxFrame = (edit: (ctxs: Array<Record<string, unknown>>) => Array<Record<string, unknown>>) => {
    const frame = JSON.parse(f('assetCtxs.json')) as { channel: string; data: { dex: string; ctxs: Array<Record<string, unknown>> } };
    return JSON.stringify({ ...frame, data: { ...frame.data, ctxs: edit(frame.data.ctxs) } });
  };

  it('position check: contexts shifted against the universe (a listing not re-read yet) give no funding or stats; a lone mismatch drops only that coin', () => {
    const stats: string[] = [];
    const sink = Object.assign(new CollectingSink(), { stats: (m: InstrumentMeta) => void stats.push(m.symbol) });
    const p = adapter.createParser(meta());
    for (const name of ['bbo.json', 'bbo-kpepe.json', 'l2Book.json']) expect(p.parse(f(name), sink)).toBe('data');
    sink.take();
    // In place: every mark is next to its coin's bbo mid (kPEPE compared per listed kilo coin, as both are sent).
    expect(p.parse(f('assetCtxs.json'), sink)).toBe('data');
    expect(sink.take().map((u) => u.symbol)).toEqual(['BTC', 'ETH', 'kPEPE']);
    expect(totalErrors(p.errors)).toBe(0);
    // A coin inserted at the front: BTC would get the new coin's funding, ETH BTC's, kPEPE APE's. Nothing is emitted.
    stats.length = 0;
    const shifted = ctxFrame((c) => [{ ...c[0], funding: '0.0009', markPx: '120.5' }, ...c]);
    expect(p.parse(shifted, sink)).toBe('rejected');
    expect(sink.take()).toEqual([]);
    expect(stats).toEqual([]);
    expect(p.errors).toEqual({ position_shift: 1 });
    // One coin's mark 20 % off its mid (a damaged or stale reference): that coin is dropped, the others stand.
    const kpepeOff = ctxFrame((c) => c.map((x, i) => (i === 9 ? { ...x, markPx: String(0.0047125 * 1.2), funding: '0.5' } : x)));
    expect(p.parse(kpepeOff, sink)).toBe('data');
    expect(sink.take().map((u) => u.symbol)).toEqual(['BTC', 'ETH']);
    expect(stats).toEqual(['BTC', 'ETH']);
    expect(p.errors).toEqual({ position_shift: 1, position_mismatch: 1 });
    // Inside the band (8 % off, a fast market) the context is kept.
    const kpepeMoved = ctxFrame((c) => c.map((x, i) => (i === 9 ? { ...x, markPx: String(0.0047125 * 1.08) } : x)));
    expect(p.parse(kpepeMoved, sink)).toBe('data');
    expect(sink.take().map((u) => u.symbol)).toEqual(['BTC', 'ETH', 'kPEPE']);
    expect(HL_POSITION_BAND).toBe(0.1);
    expect(p.errors).toEqual({ position_shift: 1, position_mismatch: 1 });
  });

  it('position check: a coin without a bbo mid passes unchecked (nothing to compare); a reset forgets the mids', () => {
    const p = adapter.createParser(meta());
    const sink = new CollectingSink();
    p.parse(f('bbo.json'), sink); // BTC only
    sink.take();
    // ETH and kPEPE marks far off: no mid for them yet, so they pass; BTC is checked and in place.
    const odd = ctxFrame((c) => c.map((x, i) => (i === 1 || i === 9 ? { ...x, markPx: '1.0' } : x)));
    expect(p.parse(odd, sink)).toBe('data');
    expect(sink.take().map((u) => u.symbol)).toEqual(['BTC', 'ETH', 'kPEPE']);
    // BTC's context replaced by another coin's: the only checked one mismatches, so the frame is a shift.
    const btcOff = ctxFrame((c) => [{ ...c[0], markPx: c[1].markPx }, ...c.slice(1)]);
    expect(p.parse(btcOff, sink)).toBe('rejected');
    expect(p.errors).toEqual({ position_shift: 1 });
    // A new connection: mids are merge state, refilled by the resubscription's bbo snapshots.
    p.reset();
    expect(p.parse(btcOff, sink)).toBe('data');
    expect(sink.take().map((u) => u.symbol)).toEqual(['BTC', 'ETH', 'kPEPE']);
    p.parse(f('bbo.json'), sink);
    expect(p.parse(btcOff, sink)).toBe('rejected');
    expect(p.errors).toEqual({ position_shift: 2 });
  });

  it('pings every 10 s whatever the traffic (quote and depth sockets): within our own 15 s silence cut and the venue 60 s', async () => {
    expect(HL_PING_MS).toBe(10_000);
    const [quotes] = await adapter.plan({ ws: 'ws://h:1', rest: 'http://h:1' }, ['BTC'], cannedInfo, {});
    const [books] = await hyperliquidDepth.plan({ ws: 'ws://h:1', rest: 'http://h:1' }, ['BTC'], 20, cannedInfo);
    for (const p of [quotes, books]) expect(p.heartbeat).toMatchObject({ everyMs: 10_000, whenIdle: false });
    expect(books.heartbeat!.message()).toBe('{"method":"ping"}');
  });
});
