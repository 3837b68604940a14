/**
 * Open interest / 24 h volume from REST (VenueAdapter.restStats) end to end: the FeedManager reads the
 * twins' statistics endpoints (KuCoin contracts/active, Binance ticker/24hr, OKX public/open-interest) at
 * start and every period, the figures reach the engine through the venue's sink, the funding board and the
 * opportunities carry them, and `market.minVolume24hUsd` then lets a KuCoin–Binance pair open. Every read
 * is recorded as a `stats` REST frame, and a replay of the recording gives the same figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type Config } from '../../shared/config.js';
import type { Exchange } from '../../shared/exchanges.js';
import { Engine } from '../../server/engine/engine.js';
import { FeedManager } from '../../server/feeds/manager.js';
import { FrameRecorder, readRecording, type RecordedFrame } from '../../server/feeds/recorder.js';
import { engineFundingLegs, FundingBoard } from '../../server/funding/board.js';
import { createReplay } from '../../server/replay/replay.js';
import { startSimulator } from '../../server/simulator/index.js';
import { fixture, waitFor } from './helpers.js';

const VENUES: Exchange[] = ['kucoin', 'binance', 'okx'];
const INSTRUMENTS = ['BTC-PERP', 'ETH-PERP'];
const MIN_VOLUME = 1_000_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Opens any pair whose legs are quoted and liquid enough: the liquidity minimum is the only gate that matters. */
const config: Config = {
  ...DEFAULT_CONFIG,
  thresholds: { ...DEFAULT_CONFIG.thresholds, minSpreadBps: -1000, minProfitBps: -1000, minFundingDelta8h: -1, hysteresisBps: 0 },
  detector: { ...DEFAULT_CONFIG.detector, requireFunding: false },
  market: { ...DEFAULT_CONFIG.market, exchanges: VENUES, instruments: INSTRUMENTS, minVolume24hUsd: MIN_VOLUME },
};

describe('REST market statistics through the FeedManager and the twins', () => {
  it('KuCoin and Binance legs get open interest / volume on the board and the opportunity; the volume minimum passes them; replay agrees', { timeout: 40_000 }, async () => {
    const sim = await startSimulator({ seed: 7, messagesPerSec: 300, instruments: INSTRUMENTS, exchanges: VENUES });
    cleanups.push(() => sim.close());
    const dir = mkdtempSync(join(tmpdir(), 'perpscan-rest-stats-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const recorder = new FrameRecorder(join(dir, 'run.jsonl'));
    const engine = new Engine({ config });
    const fm = new FeedManager({ engine, exchanges: VENUES, instruments: INSTRUMENTS, endpoints: sim.endpoints, recorder, restStatsPeriodMs: 400 });
    cleanups.push(() => fm.stop());
    const sub = engine.bus.subscribe('test');
    await fm.start();

    const stats = (ex: Exchange) => engine.marketStats('BTC-PERP', ex);
    await waitFor('REST statistics of every venue', () => stats('kucoin')?.volume24hUsd != null && stats('binance')?.volume24hUsd != null && stats('okx')?.openInterestUsd != null, 20_000);
    // Twin figures: KuCoin ~$300 M open (lots × multiplier × mark) and $500 M turnover; Binance ~$500 M quote
    // volume and no open interest (not read); OKX's open interest from REST beside its streamed volume.
    const ku = stats('kucoin')!;
    expect(ku.volume24hUsd).toBe(500_000_000);
    expect(ku.openInterestUsd!).toBeGreaterThan(250e6);
    expect(ku.openInterestUsd!).toBeLessThan(350e6);
    const bn = stats('binance')!;
    expect(bn.openInterestUsd).toBeNull();
    expect(bn.volume24hUsd!).toBeGreaterThan(400e6);
    expect(bn.volume24hUsd!).toBeLessThan(600e6);
    expect(stats('okx')!.openInterestUsd!).toBeGreaterThan(250e6);
    expect(fm.states().every((s) => !('stats_fetch_failed' in s.errors) && !('stats_bad_body' in s.errors))).toBe(true);

    // The funding board: both legs carry the figures, and the volume filter keeps them.
    const board = new FundingBoard({ legs: engineFundingLegs(engine), now: Date.now });
    await waitFor('funding on both legs', () => board.rows({ instrument: 'BTC-PERP' }).some((r) => r.venue === 'kucoin') && board.rows({ instrument: 'BTC-PERP' }).some((r) => r.venue === 'binance'), 15_000);
    const rows = board.rows({ instrument: 'BTC-PERP', minVolume24hUsd: MIN_VOLUME });
    const row = (ex: Exchange) => rows.find((r) => r.venue === ex);
    // Read in the same tick as the board: a 400 ms refresh may have moved the figure since `ku` was read.
    expect(row('kucoin')).toMatchObject({ volume24hUsd: 500_000_000, openInterestUsd: stats('kucoin')!.openInterestUsd });
    expect(row('binance')).toMatchObject({ openInterestUsd: null });
    expect(row('binance')!.volume24hUsd!).toBeGreaterThan(400e6);
    // Binance's open interest is unknown: an open-interest minimum still keeps its row out.
    expect(board.rows({ instrument: 'BTC-PERP', minOpenInterestUsd: 1 }).map((r) => r.venue)).not.toContain('binance');

    // An opportunity between KuCoin and Binance opens with the minimum set, carrying both legs' figures.
    const pair = () => engine.opportunities().find((o) => o.instrument === 'BTC-PERP' && new Set([o.longExchange, o.shortExchange]).size === 2 && [o.longExchange, o.shortExchange].every((ex) => ex === 'kucoin' || ex === 'binance'));
    await waitFor('a KuCoin–Binance opportunity', () => pair() !== undefined, 15_000);
    const o = pair()!;
    const legOf = (ex: Exchange) => (o.longExchange === ex ? { oi: o.longOpenInterestUsd, vol: o.longVolume24hUsd } : { oi: o.shortOpenInterestUsd, vol: o.shortVolume24hUsd });
    expect(legOf('kucoin').vol).toBe(500_000_000);
    expect(legOf('kucoin').oi!).toBeGreaterThan(250e6);
    expect(legOf('binance').vol!).toBeGreaterThan(400e6);
    expect(legOf('binance').oi ?? null).toBeNull();
    sub.popBatch(Number.MAX_SAFE_INTEGER);

    await fm.stop();
    await recorder.close();
    // Every statistics read was recorded as a `stats` REST frame (several rounds at 400 ms).
    const frames: RecordedFrame[] = [];
    for await (const f of readRecording(recorder.path)) frames.push(f);
    const statsReads = frames.filter((f) => f.stats === true);
    expect(new Set(statsReads.map((f) => `${f.ex} ${f.rest}`))).toEqual(new Set(['kucoin /api/v1/contracts/active', 'binance /fapi/v1/ticker/24hr', 'okx /api/v5/public/open-interest?instType=SWAP']));
    // The discovery read of the same KuCoin path stays a metadata frame.
    expect(frames.some((f) => f.ex === 'kucoin' && f.rest === '/api/v1/contracts/active' && f.stats === undefined)).toBe(true);

    // Replayed, the last statistics read of each venue gives the engine the same figures.
    const replay = createReplay({ config });
    for (const f of frames) await replay.feed(f);
    const lastBody = (ex: Exchange) => statsReads.filter((f) => f.ex === ex).at(-1)!;
    expect(replay.engine.marketStats('BTC-PERP', 'kucoin')!.volume24hUsd).toBe(500_000_000);
    const bnBody = JSON.parse(lastBody('binance').raw) as Array<{ symbol: string; quoteVolume: string }>;
    expect(replay.engine.marketStats('BTC-PERP', 'binance')).toEqual({ openInterestUsd: null, volume24hUsd: Number(bnBody.find((t) => t.symbol === 'BTCUSDT')!.quoteVolume) });
    const okBody = JSON.parse(lastBody('okx').raw) as { data: Array<{ instId: string; oiUsd: string }> };
    expect(replay.engine.marketStats('BTC-PERP', 'okx')!.openInterestUsd).toBe(Number(okBody.data.find((r) => r.instId === 'BTC-USDT-SWAP')!.oiUsd));
  });

  it('the twins answer the statistics paths in the fixtures’ wire format (same fields, same JSON types)', async () => {
    const sim = await startSimulator({ seed: 3, messagesPerSec: 50, instruments: INSTRUMENTS, exchanges: VENUES });
    cleanups.push(() => sim.close());
    const typesOf = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? 'null' : typeof v]));
    const cases: Array<{ ex: Exchange; path: string; fixture: string; entries: (body: any) => Array<Record<string, unknown>> }> = [
      { ex: 'kucoin', path: '/api/v1/contracts/active', fixture: 'stats-contracts-active.json', entries: (b) => b.data },
      { ex: 'binance', path: '/fapi/v1/ticker/24hr', fixture: 'ticker-24hr.json', entries: (b) => b },
      { ex: 'okx', path: '/api/v5/public/open-interest?instType=SWAP', fixture: 'open-interest.json', entries: (b) => b.data },
    ];
    for (const c of cases) {
      const res = await fetch(`${sim.endpoints[c.ex].rest}${c.path}`);
      expect(res.status, c.ex).toBe(200);
      const twin = c.entries(await res.json()) as Array<Record<string, unknown>>;
      const want = typesOf(c.entries(JSON.parse(fixture(c.ex, c.fixture)))[0]!);
      expect(twin.length, c.ex).toBeGreaterThanOrEqual(INSTRUMENTS.length);
      for (const e of twin) expect(Object.fromEntries(Object.keys(want).map((k) => [k, typesOf(e)[k]])), `${c.ex} ${String(e.symbol ?? e.instId)}`).toEqual(want);
    }
  });
});
