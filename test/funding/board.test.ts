/** server/funding/board.ts alone: best carry (distinct venues, cross-quote), the settled-rate tracker's rules. */
import { describe, expect, it } from 'vitest';
import { bestCarry, engineFundingLegs, filterFundingRows, FundingBoard, SettledFundingTracker, type FundingFilter, type FundingLeg } from '../../server/funding/board.js';
import { btcOnFourVenues, engineConfig } from '../engine/btc-four-venues.js';

const H = 3_600_000;
const leg = (venue: FundingLeg['venue'], rate: number, intervalMs: number, over: Partial<FundingLeg> = {}): FundingLeg => ({
  instrument: 'BTC-PERP', venue, settle: 'USDT', symbol: 'BTCUSDT', rate, intervalMs, nextFundingMs: 0, predicted: false, receivedMs: 0, feedDown: false, ...over,
});

describe('bestCarry', () => {
  it('shorts the highest per-8 h rate and longs the lowest, on two different venues; marks a cross-quote pair', () => {
    // bybit USDC leg: 0.0002 per 1 h = 16 bps/8h; bybit USDT 10 bps; okx −0.0001 per 4 h = −2 bps/8h; binance −0.0001 per 8 h = −1.
    const legs = [leg('bybit', 0.0002, H, { settle: 'USDC' }), leg('bybit', 0.001, 8 * H), leg('okx', -0.0001, 4 * H), leg('binance', -0.0001, 8 * H)];
    const best = bestCarry(legs)!;
    expect(best.short).toBe(legs[0]);
    expect(best.long).toBe(legs[2]);
    expect(best.carry8hBps).toBeCloseTo(18, 10);
    expect(best.crossQuote).toBe(true);
  });

  it('leaves a venue whose feed is down out of the pair', () => {
    const legs = [leg('bybit', 0.001, 8 * H, { feedDown: true }), leg('okx', 0.0005, 8 * H), leg('binance', -0.0001, 8 * H)];
    const best = bestCarry(legs)!;
    expect([best.long.venue, best.short.venue]).toEqual(['binance', 'okx']);
  });

  it('never pairs a venue with itself; one venue alone has no pair', () => {
    expect(bestCarry([leg('bybit', 0.001, 8 * H), leg('bybit', -0.001, 8 * H, { settle: 'USDC' })])).toBeNull();
    const best = bestCarry([leg('bybit', 0.001, 8 * H), leg('bybit', -0.001, 8 * H, { settle: 'USDC' }), leg('okx', 0, 8 * H)])!;
    expect([best.long.venue, best.short.venue].sort()).toEqual(['bybit', 'okx']);
    expect(best.carry8hBps).toBeCloseTo(10, 10); // long bybit USDC (−10) / short okx (0)
  });
});

describe('SettledFundingTracker', () => {
  it('books the last figure for T once T passes, and when the venue already names a later settlement', () => {
    const t = new SettledFundingTracker();
    const T = 10 * H;
    t.observe(leg('okx', 0.0001, 8 * H, { nextFundingMs: T }), T - 5000);
    t.observe(leg('okx', 0.0003, 8 * H, { nextFundingMs: T }), T - 100);
    expect(t.lastSettled(leg('okx', 0, 0))).toBeNull();
    t.observe(leg('okx', 0.0003, 8 * H, { nextFundingMs: T }), T); // due: booked
    expect(t.lastSettled(leg('okx', 0, 0))).toMatchObject({ settledMs: T, intervalMs: 8 * H });
    expect(t.lastSettled(leg('okx', 0, 0))!.rateIntervalBps).toBeCloseTo(3, 10);
    // The venue rolls to T + 8 h while our clock is still before it: the figure for T + 8 h is pending,
    // then a roll to T + 16 h books it even though our clock has not reached T + 8 h.
    t.observe(leg('okx', -0.0001, 8 * H, { nextFundingMs: T + 8 * H }), T + 1000);
    t.observe(leg('okx', 0.0002, 8 * H, { nextFundingMs: T + 16 * H }), T + 8 * H - 50);
    expect(t.lastSettled(leg('okx', 0, 0))).toMatchObject({ settledMs: T + 8 * H });
    expect(t.lastSettled(leg('okx', 0, 0))!.rateIntervalBps).toBeCloseTo(-1, 10);
  });

  it('a leg without a next settlement is never booked', () => {
    const t = new SettledFundingTracker();
    t.observe(leg('gate', 0.0001, 8 * H), 0);
    t.observe(leg('gate', 0.0001, 8 * H), 100 * H);
    expect(t.lastSettled(leg('gate', 0, 0))).toBeNull();
  });
});

describe('FundingBoard', () => {
  it('rows sorted by instrument, venue, settle; a leg with no usable rate is left out', () => {
    const board = new FundingBoard({
      now: () => 0,
      legs: () => [leg('okx', 0.0001, 8 * H, { instrument: 'ETH-PERP' }), leg('gate', Number.NaN, 8 * H), leg('okx', 0.0001, 8 * H), leg('bybit', 0.0002, 8 * H, { settle: 'USDC' })],
    });
    expect(board.rows().map((r) => `${r.instrument}:${r.venue}:${r.settle}`)).toEqual(['BTC-PERP:bybit:USDC', 'BTC-PERP:okx:USDT', 'ETH-PERP:okx:USDT']);
  });

  it('a leg with an unknown interval has a row with its rate, null interval / 8 h / APR, and stays out of the best carry', () => {
    const T = 10 * H;
    const board = new FundingBoard({
      now: () => T - H,
      // gate's 0.003 per (unknown) interval would be the best short at any guessed interval ≤ 8 h.
      legs: () => [leg('gate', 0.003, 0, { nextFundingMs: T, predicted: true }), leg('okx', 0.0002, 8 * H), leg('bybit', -0.0001, 8 * H)],
    });
    const rows = board.rows();
    expect(rows.map((r) => r.venue)).toEqual(['bybit', 'gate', 'okx']);
    const gate = rows[1]!;
    expect(gate.rateIntervalBps).toBeCloseTo(30, 10);
    expect([gate.intervalMs, gate.intervalHours, gate.rate8hBps, gate.aprPct]).toEqual([null, null, null, null]);
    expect([gate.nextFundingMs, gate.predicted, gate.bestCarry]).toEqual([T, true, null]);
    // The instrument's best carry is over the known legs only (short okx 2 bps, long bybit −1 bp), on every row.
    expect(rows.map((r) => r.bestCarry)).toEqual(['long', null, 'short']);
    expect(rows.map((r) => r.bestCarry8hBps)).toEqual([expect.closeTo(3, 10), expect.closeTo(3, 10), expect.closeTo(3, 10)]);
    // JSON carries the nulls as they are (NaN would have become null only by accident).
    expect(JSON.parse(JSON.stringify(gate))).toMatchObject({ intervalMs: null, rate8hBps: null, aprPct: null });
    // The filters apply to such a row like any other.
    expect(board.rows({ venue: 'gate' }).map((r) => r.venue)).toEqual(['gate']);
  });

  it('filterFundingRows over the whole board gives the rows the board gives for that filter (what a cluster edge serves)', () => {
    const legs = [
      leg('bybit', 0.0003, H, { openInterestUsd: 5e6, volume24hUsd: 2e7 }),
      leg('okx', -0.0001, 8 * H, { openInterestUsd: 1e6, volume24hUsd: null }),
      leg('kucoin', 0.0001, 4 * H, { settle: 'USDC', openInterestUsd: null, volume24hUsd: 9e6 }),
      leg('okx', 0.0002, 8 * H, { instrument: 'ETH-PERP', openInterestUsd: 3e6 }),
      leg('binance', -0.0002, 8 * H, { instrument: 'ETH-PERP', volume24hUsd: 1e8 }),
    ];
    const board = new FundingBoard({ now: () => 0, legs: () => legs });
    const all = board.rows();
    const filters: FundingFilter[] = [
      {},
      { instrument: 'BTC-PERP' },
      { venue: 'okx' },
      { settle: 'USDC' },
      { minOpenInterestUsd: 2e6 },
      { minVolume24hUsd: 1e7 },
      { instrument: 'ETH-PERP', venue: 'binance' },
      { venue: 'bybit', minOpenInterestUsd: 1e7 },
    ];
    for (const f of filters) {
      const want = board.rows(f);
      expect(filterFundingRows(all, f), JSON.stringify(f)).toEqual(want);
    }
    // The best carry of a filtered row is still the instrument's over all its legs: okx alone is BTC's long leg.
    expect(filterFundingRows(all, { venue: 'okx', instrument: 'BTC-PERP' }).map((r) => r.bestCarry)).toEqual(['long']);
  });
});

describe('FundingBoard at the simulator scale', () => {
  it('300 instruments × 7 venues: rows with best carry in under 100 ms (best of three)', () => {
    const venues = ['bybit', 'okx', 'kucoin', 'binance', 'hyperliquid', 'bitget', 'gate'] as const;
    const legs: FundingLeg[] = [];
    for (let i = 0; i < 300; i++) {
      for (const [j, v] of venues.entries()) legs.push(leg(v as FundingLeg['venue'], ((i * 7 + j) % 13) * 1e-5 - 6e-5, (j % 3 === 0 ? 1 : j % 3 === 1 ? 4 : 8) * H, { instrument: `C${i}-PERP`, nextFundingMs: 10 * H }));
    }
    const board = new FundingBoard({ now: () => H, legs: () => legs });
    for (let k = 0; k < 3; k++) board.rows(); // warm the JIT
    let best = Number.POSITIVE_INFINITY;
    let rows = board.rows();
    for (let k = 0; k < 3; k++) {
      const t = performance.now();
      rows = board.rows();
      best = Math.min(best, performance.now() - t);
    }
    expect(best).toBeLessThan(100); // ~8 ms on an idle core; the best of three absorbs a shared machine
    expect(rows).toHaveLength(2100);
    expect(rows.filter((r) => r.bestCarry === 'short')).toHaveLength(300);
  });
});

describe('FundingBoard over the engine: a leg whose interval is only assumed', () => {
  it('reaches the store as interval 0 (unknown): a row with its rate but no interval, no rate per 8 h, never in the best carry', () => {
    const T0 = 1_700_000_000_000;
    const { engine, ids } = btcOnFourVenues(engineConfig(), T0);
    // What the venue parsers push for an assumed interval (0), and for a known one.
    engine.pushFunding(ids.okx, 0.0005, 0, T0 + H, false, T0, 1);
    engine.pushFunding(ids.bybit, 0.0001, 8 * H, T0 + H, false, T0, 1);
    engine.drain();
    expect(engine.stats().rejectedTotal).toBe(0); // an unknown interval is not a bad record
    expect(engine.funding('BTC-PERP', 'okx')).toMatchObject({ rate: 0.0005, intervalMs: 0, nextFundingMs: T0 + H });
    const rows = new FundingBoard({ legs: engineFundingLegs(engine), now: () => T0 }).rows();
    expect(rows.map((r) => [r.venue, r.intervalHours, r.rate8hBps])).toEqual([['bybit', 8, expect.closeTo(1, 10)], ['okx', null, null]]);
    expect(rows[1]!.rateIntervalBps).toBeCloseTo(5, 10);
    expect(rows[1]!.aprPct).toBeNull();
    expect(rows.map((r) => r.bestCarry8hBps)).toEqual([null, null]);
  });
});
