/**
 * Independent recalculation of funding figures (issue 13, "Judged by"): real-format venue bodies are fed
 * through the real parsers, the funding-history store, the board, the detector and the strategy's
 * settlement code, and each figure is compared with a number worked out by hand in the comments.
 *
 * Units: rates are fractions per their own interval (positive = longs pay shorts); 1 bp = 0.0001.
 * Fixtures: test/fixtures/<venue>/funding-history.json (sources in each SOURCES.md). T0 = 2026-11-30T00:00Z.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FetchJson } from '../../server/feeds/adapter.js';
import { engineFundingLegs, FundingBoard, type FundingLeg } from '../../server/funding/board.js';
import { FundingHistoryStore } from '../../server/funding/history-store.js';
import type { FundingLegRef, VenueFundingHistory } from '../../server/funding/history-types.js';
import { historyRealisedSource, realisedBps8h, REALISED_WINDOWS_MS } from '../../server/funding/realised.js';
import { breakEvenHours, expectedFundingBps, fundingAprPct, fundingEventsInWindow, rate8h } from '../../server/engine/scoring.js';
import { netAprPct, realisedFundingBps } from '../../server/engine/carry-stats.js';
import { settleFunding } from '../../server/strategy/funding.js';
import type { StrategyQuote } from '../../server/strategy/engine-view.js';
import { gateFundingHistory } from '../../server/venues/gate/history.js';
import { hyperliquidFundingHistory } from '../../server/venues/hyperliquid/history.js';
import { bybitFundingHistory } from '../../server/venues/bybit/history.js';
import type { Leg } from '../../shared/position.js';
import { btcOnFourVenues, engineConfig } from '../engine/btc-four-venues.js';
import { Engine } from '../../server/engine/index.js';
import { hyperliquidAdapter } from '../../server/venues/hyperliquid/adapter.js';
import { binanceAdapter } from '../../server/venues/binance/adapter.js';
import { okxAdapter } from '../../server/venues/okx/adapter.js';
import { cannedInfo } from '../fixtures/hyperliquid/protocol.js';
import { fixture as wireFrame, table } from '../feeds/helpers.js';
import { feed, frame, register } from '../traps/wire.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 30); // 1 795 996 800 000
const fixture = (venue: string, name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/${venue}/${name}`, import.meta.url), 'utf8'));
const answering = (body: unknown): FetchJson => async () => body;

async function readHistory(history: VenueFundingHistory, venue: string, symbol: string) {
  const { points } = await history.fetch('http://venue', symbol, T0 - 24 * H, T0 + 48 * H, answering(fixture(venue, 'funding-history.json')));
  return points;
}

describe('funding history → store → realised averages (real wire formats)', () => {
  it('hyperliquid: hourly rates stay hourly (per-hour fundingRate, ms times stamped a few ms late)', async () => {
    const points = await readHistory(hyperliquidFundingHistory, 'hyperliquid', 'BTC');
    // Body: "0.0000125" @ T0+48 ms, "0.0000098768" @ T0+1 h+81 ms, "-0.0000031" @ T0+2 h+2 ms.
    // Spacings 3 600 033 ms and 3 599 921 ms round to the minute → 1 h each (the oldest takes its next spacing).
    expect(points).toEqual([
      { timeMs: T0 + 48, rate: 0.0000125, intervalMs: H },
      { timeMs: T0 + H + 81, rate: 0.0000098768, intervalMs: H },
      { timeMs: T0 + 2 * H + 2, rate: -0.0000031, intervalMs: H },
    ]);
    const leg: FundingLegRef = { instrument: 'BTC-PERP', venue: 'hyperliquid', settle: 'USDC' };
    const now = T0 + 3 * H;
    const store = new FundingHistoryStore({ now: () => now });
    expect(store.add(leg, points)).toBe(3);
    // Σrate = 0.0000125 + 0.0000098768 − 0.0000031 = 0.0000192768 over Σinterval = 3 h
    // per 8 h: 0.0000192768 × 8/3 = 0.0000514048 → 0.514048 bps. (Read as 8-hourly it would be 0.0642560 bps.)
    expect(realisedBps8h(store, leg, now, REALISED_WINDOWS_MS.avg24h)).toBeCloseTo(0.514048, 9);
    expect(realisedBps8h(store, leg, now, REALISED_WINDOWS_MS.avg30d)).toBeCloseTo(0.514048, 9);
  });

  it('a settlement booked live at the exact hour and the venue history stamped 81 ms later are ONE settlement', async () => {
    const leg: FundingLegRef = { instrument: 'BTC-PERP', venue: 'hyperliquid', settle: 'USDC' };
    const now = T0 + 3 * H;
    const store = new FundingHistoryStore({ now: () => now });
    // The board's tracker booked the last live figure before T0+1 h (a slightly different per-hour rate).
    store.add(leg, [{ timeMs: T0 + H, rate: 0.00001, intervalMs: H }]);
    store.add(leg, await readHistory(hyperliquidFundingHistory, 'hyperliquid', 'BTC'));
    // Three settlements, not four; the venue's figure replaced the live one: same 0.514048 bps as above.
    expect(store.settlements(leg, 0, now).map((p) => p.timeMs)).toEqual([T0 + 48, T0 + H + 81, T0 + 2 * H + 2]);
    expect(realisedBps8h(store, leg, now, REALISED_WINDOWS_MS.avg24h)).toBeCloseTo(0.514048, 9);
  });

  it('gate: unix SECONDS, string rates, newest first; the 24 h window is (now − 24 h, now]', async () => {
    const points = await readHistory(gateFundingHistory, 'gate', 'BTC_USDT');
    // t 1795996800 s = T0 ("0.0001"), 1796025600 = T0+8 h ("-0.0000625"), 1796054400 = T0+16 h ("0.000157").
    expect(points).toEqual([
      { timeMs: T0, rate: 0.0001, intervalMs: 8 * H },
      { timeMs: T0 + 8 * H, rate: -0.0000625, intervalMs: 8 * H },
      { timeMs: T0 + 16 * H, rate: 0.000157, intervalMs: 8 * H },
    ]);
    const leg: FundingLegRef = { instrument: 'BTC-PERP', venue: 'gate', settle: 'USDT' };
    let now = T0 + 16 * H;
    const store = new FundingHistoryStore({ now: () => now });
    store.add(leg, points);
    // At T0+16 h: all three, Σ = 0.0001945 over 24 h → 0.0001945/3 = 0.000064833… per 8 h = 0.648333 bps.
    expect(realisedBps8h(store, leg, now, REALISED_WINDOWS_MS.avg24h)).toBeCloseTo(0.6483333333, 9);
    // At T0+24 h the T0 settlement is exactly 24 h old: out. (−0.0000625 + 0.000157)/16 h × 8 h = 0.00004725 → 0.4725 bps.
    now = T0 + 24 * H;
    expect(realisedBps8h(store, leg, now, REALISED_WINDOWS_MS.avg24h)).toBeCloseTo(0.4725, 9);
    // The 3 d window still holds all three: 0.648333 bps.
    expect(realisedBps8h(store, leg, now, REALISED_WINDOWS_MS.avg3d)).toBeCloseTo(0.6483333333, 9);
  });

  it('bybit: ms strings, newest first, 8 h spacing', async () => {
    const points = await readHistory(bybitFundingHistory, 'bybit', 'BTCUSDT');
    // "0.00012345" @ T0, "-0.00005" @ T0+8 h, "0.0001" @ T0+16 h: Σ = 0.00017345 over 24 h → 0.578167 bps per 8 h.
    const leg: FundingLegRef = { instrument: 'BTC-PERP', venue: 'bybit', settle: 'USDT' };
    const store = new FundingHistoryStore({ now: () => T0 + 16 * H });
    store.add(leg, points);
    expect(realisedBps8h(store, leg, T0 + 16 * H, REALISED_WINDOWS_MS.avg7d)).toBeCloseTo(1.7345 / 3, 9);
  });
});

describe('funding board figures (rateIntervalBps, rate8hBps, aprPct, last settled)', () => {
  const leg = (venue: FundingLeg['venue'], rate: number, intervalMs: number, next: number): FundingLeg => ({
    instrument: 'BTC-PERP', venue, settle: 'USDT', symbol: 'BTC', rate, intervalMs, nextFundingMs: next, predicted: false, receivedMs: T0, feedDown: false,
  });

  it('hourly, 4-hourly and 8-hourly legs normalise per their own interval', () => {
    let now = T0 + 30 * 60_000;
    const legs = [leg('hyperliquid', 0.0000125, H, T0 + H), leg('bitget', 0.0001, 4 * H, T0 + 4 * H), leg('binance', -0.00005, 8 * H, T0 + 8 * H)];
    const board = new FundingBoard({ legs: () => legs, now: () => now });
    const rows = board.rows();
    const by = (v: string) => rows.find((r) => r.venue === v)!;
    // hyperliquid 0.0000125/h: 0.125 bps per 1 h; × 8 = 1.0 bps per 8 h; APR 0.0000125 × 8760 × 100 = 10.95 %.
    expect([by('hyperliquid').rateIntervalBps, by('hyperliquid').rate8hBps, by('hyperliquid').aprPct, by('hyperliquid').intervalHours]).toEqual([
      expect.closeTo(0.125, 12), expect.closeTo(1, 12), expect.closeTo(10.95, 10), 1,
    ]);
    // bitget 0.0001 per 4 h (already scaled to its interval): 1 bp; × 2 = 2 bps per 8 h; APR 0.0001 × 2190 × 100 = 21.9 %.
    expect([by('bitget').rateIntervalBps, by('bitget').rate8hBps, by('bitget').aprPct]).toEqual([expect.closeTo(1, 12), expect.closeTo(2, 12), expect.closeTo(21.9, 10)]);
    // binance −0.00005 per 8 h: −0.5 bps both; APR −0.00005 × 1095 × 100 = −5.475 %.
    expect([by('binance').rateIntervalBps, by('binance').rate8hBps, by('binance').aprPct]).toEqual([expect.closeTo(-0.5, 12), expect.closeTo(-0.5, 12), expect.closeTo(-5.475, 10)]);
    // Best carry: short bitget (2) − long binance (−0.5) = 2.5 bps per 8 h.
    expect([by('bitget').bestCarry, by('binance').bestCarry, by('hyperliquid').bestCarry, by('bitget').bestCarry8hBps]).toEqual(['short', 'long', null, expect.closeTo(2.5, 12)]);
    // Each row counts down to its own venue's next settlement.
    expect(rows.map((r) => r.nextFundingMs)).toEqual([T0 + 8 * H, T0 + 4 * H, T0 + H]);
    // The hourly settlement passes: its last figure is booked as settled, per hour.
    now = T0 + H;
    legs[0] = leg('hyperliquid', 0.000011, H, T0 + 2 * H); // the venue rolled to the next hour with a new rate
    const settled = board.rows().find((r) => r.venue === 'hyperliquid')!.lastSettled;
    expect(settled).toEqual({ rateIntervalBps: expect.closeTo(0.125, 12), rate8hBps: expect.closeTo(1, 12), intervalMs: H, settledMs: T0 + H, predicted: false });
  });

  it('realised columns come from the history store over (now − window, now]', () => {
    const now = T0 + 24 * H;
    const store = new FundingHistoryStore({ now: () => now });
    const ref: FundingLegRef = { instrument: 'BTC-PERP', venue: 'binance', settle: 'USDT' };
    // 8-hourly: 9 bps exactly 24 h ago (out of 24 h), then 1, 2, 3 bps.
    store.add(ref, [0.0009, 0.0001, 0.0002, 0.0003].map((rate, i) => ({ timeMs: now - (24 - 8 * i) * H, rate, intervalMs: 8 * H })));
    const board = new FundingBoard({ legs: () => [leg('binance', 0.0001, 8 * H, now + 8 * H)], now: () => now, history: historyRealisedSource(store) });
    // 24 h: (1+2+3)/24 h × 8 h = 2 bps; 3 d: (9+1+2+3)/32 h × 8 h = 3.75 bps.
    expect(board.rows()[0]!.realised).toEqual({ avg24h: expect.closeTo(2, 9), avg3d: expect.closeTo(3.75, 9), avg7d: expect.closeTo(3.75, 9), avg30d: expect.closeTo(3.75, 9) });
  });
});

describe('settlements recorded live (board tracker → funding-history store)', () => {
  it('books the last current rate published before the settlement, even one that arrived between two samples', () => {
    const T = T0 + 8 * H;
    const clock = { t: T - 1000 };
    const { engine, ids } = btcOnFourVenues(engineConfig(), clock.t);
    const store = new FundingHistoryStore({ now: () => clock.t });
    const board = new FundingBoard({
      legs: engineFundingLegs(engine),
      now: () => clock.t,
      onSettled: (leg, settled) => store.add(leg, [settled]),
      settlementRate: (leg, ms) => engine.settlementRate(leg.instrument, leg.venue, ms, leg.settle),
    });
    const push = (rate: number, next: number, ts: number) => {
      engine.pushFunding(ids.binance, rate, 8 * H, next, false, ts, 1);
      engine.drain();
    };
    push(0.0001, T, T - 1000);
    board.sample(T - 1000); // the board last saw 1 bp
    push(0.00013, T, T - 40); // 40 ms before T, between two samples: this is what T charges
    push(0.00002, T + 8 * H, T + 400); // the venue rolled to the next period
    clock.t = T + 600;
    const row = board.rows({ venue: 'binance' })[0]!;
    // 0.00013 per 8 h = 1.3 bps (the sampled 1 bp was stale by 40 ms).
    expect(row.lastSettled).toEqual({ rateIntervalBps: expect.closeTo(1.3, 12), rate8hBps: expect.closeTo(1.3, 12), intervalMs: 8 * H, settledMs: T, predicted: false });
    expect(store.settlements({ instrument: 'BTC-PERP', venue: 'binance', settle: 'USDT' }, 0, T + H)).toEqual([{ timeMs: T, rate: 0.00013, intervalMs: 8 * H }]);
  });
});

describe('last settled rate after a restart', () => {
  it('comes from the history until the board\'s own tracker books a newer settlement', () => {
    let now = T0 + 2 * H;
    const store = new FundingHistoryStore({ now: () => now });
    // Backfilled (gate body above): T0 settled 0.0001 per 8 h.
    store.add({ instrument: 'BTC-PERP', venue: 'gate', settle: 'USDT' }, [{ timeMs: T0, rate: 0.0001, intervalMs: 8 * H }]);
    const legs: FundingLeg[] = [{ instrument: 'BTC-PERP', venue: 'gate', settle: 'USDT', symbol: 'BTC_USDT', rate: -0.0000625, intervalMs: 8 * H, nextFundingMs: T0 + 8 * H, predicted: false, receivedMs: now, feedDown: false }];
    const board = new FundingBoard({ legs: () => legs, now: () => now, history: historyRealisedSource(store), onSettled: (leg, p) => store.add(leg, [p]) });
    // Just restarted: the tracker has booked nothing; the history's T0 figure is the last settled: 1 bp per 8 h.
    expect(board.rows()[0]!.lastSettled).toEqual({ rateIntervalBps: expect.closeTo(1, 12), rate8hBps: expect.closeTo(1, 12), intervalMs: 8 * H, settledMs: T0, predicted: false });
    // T0+8 h passes: the tracker books −0.0000625 (−0.625 bps), newer than the history's T0.
    now = T0 + 8 * H + 500;
    legs[0] = { ...legs[0]!, rate: 0.00002, nextFundingMs: T0 + 16 * H };
    expect(board.rows()[0]!.lastSettled).toEqual({ rateIntervalBps: expect.closeTo(-0.625, 12), rate8hBps: expect.closeTo(-0.625, 12), intervalMs: 8 * H, settledMs: T0 + 8 * H, predicted: false });
  });
});

describe('detector realised figures agree with the board at the window edge', () => {
  it('a settlement exactly 24 h old is out of the detector\'s 24 h average too (was counted: board and opportunity disagreed)', () => {
    const S = T0 + 24 * H; // now, on the settlement grid
    const store = new FundingHistoryStore({ now: () => S });
    const add = (venue: 'okx' | 'bybit', rates: number[]) =>
      store.add({ instrument: 'BTC-PERP', venue, settle: 'USDT' }, rates.map((rate, i) => ({ timeMs: S - (24 - 8 * i) * H, rate, intervalMs: 8 * H })));
    add('okx', [0.0009, 0.0001, 0.0002]); // S−24 h, S−16 h, S−8 h
    add('bybit', [0.0009, 0.0005, 0.0004]);
    const { engine, ids, events } = btcOnFourVenues(engineConfig({ detector: { fundingBasis: 'avg24h' } }), S);
    engine.setFundingHistory(store);
    for (const ex of ['okx', 'bybit'] as const) engine.pushFunding(ids[ex], 0.0001, 8 * H, S + 8 * H, false, S, 1);
    engine.pushQuote(ids.okx, 99.99, 100, 1e6, 1e6, S, 1);
    engine.pushQuote(ids.bybit, 100.3, 100.31, 1e6, 1e6, S, 1); // spread (100.3 − 100)/100 = 30 bps
    engine.drain();
    const o = events().find((e) => e.opportunity.id === 'BTC-PERP|okx|bybit')!.opportunity;
    // Window (S−24 h, S]: okx (1+2)/16 h × 8 h = 1.5 bps, bybit (5+4)/16 h × 8 h = 4.5 bps → delta 3 bps per 8 h
    // (with S−24 h counted it was okx 4, bybit 6 → 2 bps). Over the 8 h horizon: 3 bps expected.
    const board = historyRealisedSource(store);
    const okx = board.realised('BTC-PERP', 'okx', 'USDT', S).avg24h!;
    const bybit = board.realised('BTC-PERP', 'bybit', 'USDT', S).avg24h!;
    expect([okx, bybit]).toEqual([expect.closeTo(1.5, 9), expect.closeTo(4.5, 9)]);
    expect(o.realisedFundingDelta8h! * 1e4).toBeCloseTo(bybit - okx, 9);
    expect(o.expectedFundingRealisedBps).toBeCloseTo(3, 9);
    expect(o.expectedFundingBps).toBeCloseTo(3, 9);
    expect(o.carrySettlements).toBe(2); // S−16 h and S−8 h
  });
});

describe('opportunity funding maths (scoring.ts, carry-stats.ts)', () => {
  it('an hourly long leg against an 8-hourly short leg over an 8 h horizon', () => {
    const now = T0 + 30 * 60_000;
    // Hourly leg, next at T0+1 h: events T0+1 h … T0+8 h inside (now, now+8 h] = (T0+0.5 h, T0+8.5 h] → 8.
    expect(fundingEventsInWindow(now, 8 * H, T0 + H, H)).toBe(8);
    // 8-hourly leg, next at T0+8 h → 1 event; a settlement exactly at now+horizon counts, one at now does not.
    expect(fundingEventsInWindow(now, 8 * H, T0 + 8 * H, 8 * H)).toBe(1);
    expect(fundingEventsInWindow(now, 8 * H, now + 8 * H, 8 * H)).toBe(1);
    expect(fundingEventsInWindow(now, 8 * H, now, 8 * H)).toBe(1); // rolled to now+8 h
    expect(fundingEventsInWindow(now, 7 * H, now, 8 * H)).toBe(0);
    // Short receives 1 × 0.0001, long pays 8 × 0.00001 = 0.00008 → (0.0001 − 0.00008) × 1e4 = 0.2 bps.
    expect(expectedFundingBps(1, 0.0001, 8, 0.00001)).toBeCloseTo(0.2, 12);
    // Per 8 h: short 0.0001, long 0.00001 × 8 = 0.00008 → delta 0.00002; APR 0.00002 × 3 × 365 × 100 = 2.19 %.
    const delta = rate8h(0.0001, 8 * H) - rate8h(0.00001, H);
    expect(delta).toBeCloseTo(0.00002, 15);
    expect(fundingAprPct(delta)).toBeCloseTo(2.19, 10);
    // Fees 21 + slippage 0 − spread 10 = 11 bps uncovered; the edge earns 0.2 bps per 8 h = 0.025 bps/h → 440 h.
    expect(breakEvenHours(21, 0, 10, delta)).toBeCloseTo(440, 9);
    expect(breakEvenHours(21, 0, 30, delta)).toBe(0);
    expect(breakEvenHours(21, 0, 10, -delta)).toBeNull();
    // Realised basis: short 4.5 bps, long 1.5 bps per 8 h over a 24 h horizon = 3 bps × 3 = 9 bps.
    expect(realisedFundingBps(0.00045, 0.00015, 24 * H)).toBeCloseTo(9, 9);
    // Net APR: 9 bps over 24 h → 9/1e4 × 365 × 100 = 32.85 %.
    expect(netAprPct(9, 24 * H)).toBeCloseTo(32.85, 9);
  });
});

describe('settled amounts in the paper strategy', () => {
  const leg = (over: Partial<Leg>): Leg => ({
    exchange: 'hyperliquid', symbol: 'BTC', side: 'long', quantity: 2, entryPrice: 100, markPrice: 100, marginUsd: 40, liquidationPrice: 80,
    liquidationDistancePct: 20, fundingUsd: 0, feesUsd: 0, unrealisedPnlUsd: 0, nextFundingMs: 0, ...over,
  });
  const quote = (rate: number, intervalMs: number, next: number): StrategyQuote => ({
    exchange: 'hyperliquid', symbol: 'BTC', instrument: 'BTC-PERP', bid: 100, ask: 100, bidSize: 1, askSize: 1, fundingRate: rate,
    fundingIntervalMs: intervalMs, nextFundingMs: next, fundingPredicted: false, receivedMs: T0, ageMs: 0, usable: true,
  });

  it('hourly long leg: one payment per hour with the rate published for that hour; nothing twice across a restart', () => {
    // Published (Engine.settlementRate): 0.0000125 for T0+1 h, −0.0000031 for T0+2 h.
    const published = (ms: number) => (ms === T0 + H ? 0.0000125 : ms === T0 + 2 * H ? -0.0000031 : null);
    const l = leg({ nextFundingMs: T0 + H, fundingRate: 0.00001, fundingIntervalMs: H });
    const out = settleFunding(l, quote(0.00002, H, T0 + 3 * H), T0 + 2 * H + 5, published);
    // Notional 2 × 100 = 200: T0+1 h the long pays 0.0000125 × 200 = 0.0025; T0+2 h receives 0.0000031 × 200 = 0.00062.
    expect(out.map((s) => [s.fundingMs, s.rate, s.notionalUsd, s.amountUsd])).toEqual([
      [T0 + H, 0.0000125, 200, expect.closeTo(-0.0025, 15)],
      [T0 + 2 * H, -0.0000031, 200, expect.closeTo(0.00062, 15)],
    ]);
    expect(l.fundingUsd).toBeCloseTo(-0.00188, 15);
    expect(l.nextFundingMs).toBe(T0 + 3 * H);
    // A restart restores the persisted leg: the same moment books nothing again.
    const restored = structuredClone(l);
    expect(settleFunding(restored, quote(0.00002, H, T0 + 3 * H), T0 + 2 * H + 10, published)).toEqual([]);
    expect(restored.fundingUsd).toBeCloseTo(-0.00188, 15);
  });

  it('after a 3 h outage every hourly settlement is owed, at the rate it charged (engine capture, else the funding history)', async () => {
    const { engine, ids } = btcOnFourVenues(engineConfig(), T0 + 3 * H);
    const store = new FundingHistoryStore({ now: () => T0 + 3 * H });
    const legRef: FundingLegRef = { instrument: 'BTC-PERP', venue: 'hyperliquid', settle: engine.instruments.settleOf(ids.hyperliquid) };
    // Backfilled from the venue (hyperliquid body above): T0+1 h+81 ms 0.0000098768 … and T0+2 h+2 ms −0.0000031.
    store.add(legRef, await readHistory(hyperliquidFundingHistory, 'hyperliquid', 'BTC'));
    engine.setFundingHistory(store);
    // Live since the restart: 0.00002 for T0+3 h (published T0+3 h−1 s), then 0.00003 for T0+4 h.
    engine.pushFunding(ids.hyperliquid, 0.00002, H, T0 + 3 * H, false, T0 + 3 * H - 1000, 1);
    engine.pushFunding(ids.hyperliquid, 0.00003, H, T0 + 4 * H, false, T0 + 3 * H + 2, 1);
    engine.drain();
    const published = (ms: number) => engine.settlementRate('BTC-PERP', 'hyperliquid', ms, legRef.settle);
    // Restored leg: its next settlement was T0+1 h, it last learned 0.00001 (stale by now).
    const l = leg({ nextFundingMs: T0 + H, fundingRate: 0.00001, fundingIntervalMs: H });
    const out = settleFunding(l, quote(0.00003, H, T0 + 4 * H), T0 + 3 * H + 5, published);
    // Notional 200, long: T0+1 h −0.0000098768 × 200 = −0.00197536; T0+2 h +0.0000031 × 200 = +0.00062;
    // T0+3 h −0.00002 × 200 = −0.004. Total −0.00535536.
    expect(out.map((x) => [x.fundingMs, x.rate])).toEqual([[T0 + H, 0.0000098768], [T0 + 2 * H, -0.0000031], [T0 + 3 * H, 0.00002]]);
    expect(l.fundingUsd).toBeCloseTo(-0.00535536, 15);
    expect(l.nextFundingMs).toBe(T0 + 4 * H);
  });

  it('8-hourly short leg receives a positive rate, pays a negative one', () => {
    const s = leg({ exchange: 'binance', side: 'short', nextFundingMs: T0 + 8 * H, fundingRate: 0.0001, fundingIntervalMs: 8 * H });
    // 0.0001 × 200 = +0.02 received.
    expect(settleFunding(s, quote(0.0001, 8 * H, T0 + 8 * H), T0 + 8 * H).map((x) => x.amountUsd)).toEqual([expect.closeTo(0.02, 15)]);
    // Next period −0.00025: the short pays 0.00025 × 200 = 0.05.
    expect(settleFunding(s, quote(-0.00025, 8 * H, T0 + 16 * H), T0 + 16 * H).map((x) => x.amountUsd)).toEqual([expect.closeTo(-0.05, 15)]);
    expect(s.fundingUsd).toBeCloseTo(-0.03, 15);
  });
});

describe('settlement notional: the venue\'s funding reference price, from its real frames (parser → engine → settleFunding)', () => {
  const HL_T = 1764590400123; // bbo.json venue time: 123 ms after the 2025-12-01 12:00 UTC settlement
  const HL_SETTLED = HL_T - 123;

  it('hyperliquid long: paid on the ORACLE price, not the mark nor the book', async () => {
    const engine = new Engine({ config: engineConfig(), now: () => HL_T + 50 });
    const meta = register(engine, (await hyperliquidAdapter.discover('http://x', cannedInfo, HL_T, { dexes: [] })).table);
    const parser = hyperliquidAdapter.createParser(meta);
    feed(engine, parser, wireFrame('hyperliquid', 'bbo.json')); // BTC bid 91234.0, ask 91235.0
    // assetCtxs, BTC (position 0): funding "0.0000125" per hour, markPx "91234.5", oraclePx moved to "91190.0".
    feed(engine, parser, frame('hyperliquid', 'assetCtxs.json', (m) => (m.data.ctxs[0].oraclePx = '91190.0')));
    const q = engine.quote('BTC-PERP', 'hyperliquid', 'USDC')!;
    expect([q.bid, q.fundingPrice]).toEqual([91234, 91190]);
    const l = hlLeg({ side: 'long', quantity: 0.5, markPrice: q.bid, nextFundingMs: HL_SETTLED, fundingRate: 0.0000125, fundingIntervalMs: H });
    const [s] = settleFunding(l, q, HL_T + 50);
    // 0.5 BTC × 91,190 = 45,595 USDC notional; × 0.0000125 = 0.5699375 paid by the long.
    // (On the book bid: 0.5 × 91,234 × 0.0000125 = 0.5702125; on the mark 91,234.5: 0.57021563.)
    expect(s).toEqual({ fundingMs: HL_SETTLED, rate: 0.0000125, price: 91190, priceSource: 'reference', notionalUsd: 45595, amountUsd: expect.closeTo(-0.5699375, 12) });
    expect(l.lastFunding).toMatchObject({ price: 91190, priceSource: 'reference', quantity: 0.5 });
  });

  it('binance short: received on the MARK price (`p` of markPriceUpdate), not the book ask', () => {
    const E = 1612137603600; // 3.6 s after the 2021-02-01 00:00 UTC settlement (1612137600000)
    const engine = new Engine({ config: engineConfig(), now: () => E + 10 });
    const meta = register(engine, table('binance', [{ symbol: 'BTCUSDT', base: 'BTC' }]));
    const parser = binanceAdapter.createParser(meta);
    feed(engine, parser, wireFrame('binance', 'bookTicker.json')); // bid 33134.42, ask 33139.39 at T 1612137603568
    feed(engine, parser, frame('binance', 'markPrice.json', (m) => Object.assign(m.data, { E, p: '33130.00000000', r: '0.00020000', T: 1612166400000 })));
    const q = engine.quote('BTC-PERP', 'binance')!;
    expect([q.ask, q.fundingPrice]).toEqual([33139.39, 33130]);
    const l = hlLeg({ exchange: 'binance', symbol: 'BTCUSDT', settle: 'USDT', side: 'short', quantity: 0.3, markPrice: q.ask, nextFundingMs: 1612137600000, fundingRate: 0.0001, fundingIntervalMs: 8 * H });
    const [s] = settleFunding(l, q, E + 10);
    // The settled 8 h rate 0.0001 (the stream already shows the next period's 0.0002) × 0.3 BTC × 33,130
    // = 0.0001 × 9,939 = 0.9939 received by the short. (On the book ask: 0.3 × 33,139.39 × 0.0001 = 0.99418170.)
    expect(s).toEqual({ fundingMs: 1612137600000, rate: 0.0001, price: 33130, priceSource: 'reference', notionalUsd: expect.closeTo(9939, 9), amountUsd: expect.closeTo(0.9939, 12) });
  });

  it('okx (no reference price on its channels): the book price, recorded as such', () => {
    const ts = 1640131263109; // okx tickers.json ts: WNCG bid 2.1737, ask 2.1738
    const engine = new Engine({ config: engineConfig(), now: () => ts + 10 });
    const meta = register(engine, table('okx', [{ symbol: 'WNCG-USDT-SWAP', base: 'WNCG' }]));
    feed(engine, okxAdapter.createParser(meta), wireFrame('okx', 'tickers.json'));
    const q = engine.quote('WNCG-PERP', 'okx')!;
    const l = hlLeg({ exchange: 'okx', symbol: 'WNCG-USDT-SWAP', settle: 'USDT', side: 'long', quantity: 1000, markPrice: q.bid, nextFundingMs: ts - 9, fundingRate: -0.0003, fundingIntervalMs: 8 * H });
    const [s] = settleFunding(l, q, ts + 10);
    // 1,000 WNCG × 2.1737 (the long's bid) = 2,173.7; × −0.0003 → the long receives 0.65211.
    expect([s!.price, s!.priceSource, s!.amountUsd]).toEqual([2.1737, 'book', expect.closeTo(0.65211, 12)]);
  });
});

function hlLeg(over: Partial<Leg>): Leg {
  return {
    exchange: 'hyperliquid', symbol: 'BTC', settle: 'USDC', side: 'long', quantity: 1, entryPrice: 100, markPrice: 100, marginUsd: 40, liquidationPrice: 80,
    liquidationDistancePct: 20, fundingUsd: 0, feesUsd: 0, unrealisedPnlUsd: 0, nextFundingMs: 0, ...over,
  };
}
