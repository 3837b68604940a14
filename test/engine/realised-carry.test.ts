/**
 * Issue 13 §3: realised carry in scoring. detector.fundingBasis (current | avg24h | avg7d), the realised
 * and current figures side by side, per-pair stability (carryEarnedShare, carryStdevBps, carrySettlements)
 * and thresholds.minCarryEarnedShare, carry-driven opportunities (negative minSpreadBps) and netAprPct.
 * Fees in these suites: okx 5 bps + bybit 5.5 bps taker, round trip 2 · 10.5 = 21 bps; sizes are large,
 * so slippage is 0.
 */
import { describe, expect, it } from 'vitest';
import type { Config } from '../../shared/config.js';
import { applyConfigPatch, DEFAULT_CONFIG } from '../../shared/config.js';
import type { Exchange } from '../../shared/exchanges.js';
import type { FundingHistoryView, FundingLegRef, SettledFunding } from '../../server/funding/history-types.js';
import { CARRY_EARNED_SHARE, CARRY_SETTLEMENTS, CARRY_STATS_LENGTH, CARRY_STDEV_BPS, netAprPct, pairCarryStats } from '../../server/engine/carry-stats.js';
import { btcOnFourVenues, engineConfig } from './btc-four-venues.js';

const H = 3_600_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % H) + 30 * 60_000; // half past an hour
const BIG = 1_000_000;

/** A memory history: settlements per venue (the BTC leg of each venue), counting the reads. */
class FakeHistory implements FundingHistoryView {
  version = 1;
  reads = 0;
  private readonly byVenue = new Map<string, SettledFunding[]>();
  settlements(leg: FundingLegRef, fromMs: number, toMs: number): readonly SettledFunding[] {
    this.reads++;
    return (this.byVenue.get(leg.venue) ?? []).filter((p) => p.timeMs >= fromMs && p.timeMs <= toMs);
  }
  add(venue: Exchange, timeMs: number, rate: number, intervalMs: number | null = 8 * H): void {
    const list = this.byVenue.get(venue) ?? [];
    list.push({ timeMs, rate, intervalMs });
    list.sort((a, b) => a.timeMs - b.timeMs);
    this.byVenue.set(venue, list);
    this.version++;
  }
}

function setup(cfg: Config, history: FakeHistory | null) {
  const { clock, engine, ids, events } = btcOnFourVenues(cfg, T0);
  if (history) engine.setFundingHistory(history);
  const quote = (ex: Exchange, bid: number, ask: number) => {
    engine.pushQuote(ids[ex], bid, ask, BIG, BIG, clock.t, 1);
    engine.drain();
  };
  /** Current funding per 8 h interval, next settlement an hour after T0. */
  const funding = (ex: Exchange, rate: number) => {
    engine.pushFunding(ids[ex], rate, 8 * H, T0 + H / 2, false, clock.t, 1);
    engine.drain();
  };
  return { clock, engine, quote, funding, events };
}

/**
 * The pair of these suites, long okx and short bybit: funding on both legs (1 bp per 8 h unless given), then
 * the quotes that open it at a 30 bps spread. `requote` sends those quotes again.
 */
function openAt30(cfg: Config, history: FakeHistory | null, rates: { okx: number; bybit: number } = { okx: 0.0001, bybit: 0.0001 }) {
  const s = setup(cfg, history);
  s.funding('okx', rates.okx);
  s.funding('bybit', rates.bybit);
  const requote = () => {
    s.quote('okx', 99.99, 100);
    s.quote('bybit', 100.3, 100.31); // spread 30 bps
  };
  requote();
  return { ...s, requote };
}

/** The opportunity `openAt30` opened (its first event). */
const openedAt30 = (...args: Parameters<typeof openAt30>) => openAt30(...args).events()[0].opportunity;

/** A config patch refused, naming `field` first. */
function expectRefused(patch: unknown, field: string): void {
  const bad = applyConfigPatch(DEFAULT_CONFIG, patch);
  expect(bad.ok).toBe(false);
  if (!bad.ok) expect(bad.errors[0].field).toBe(field);
}

/** Settled rates at the same three times in the last 24 h: okx (long) 1, 2, 3 bps and bybit (short) 5, 4, 6 bps. */
const SETTLED = { okx: [0.0001, 0.0002, 0.0003], bybit: [0.0005, 0.0004, 0.0006] };

/** The settlements of SETTLED on `venues` (both legs unless given). */
function earningHistory(venues: (keyof typeof SETTLED)[] = ['okx', 'bybit']): FakeHistory {
  const h = new FakeHistory();
  for (const v of venues) SETTLED[v].forEach((r, i) => h.add(v, T0 - (23 - 8 * i) * H, r));
  return h;
}

describe('pairCarryStats', () => {
  it('merges the legs by settlement time: carry = short received − long paid, per time, in bps', () => {
    const out = new Float64Array(CARRY_STATS_LENGTH);
    const long: SettledFunding[] = [
      { timeMs: 0, rate: 0.0001, intervalMs: 8 * H },
      { timeMs: 8 * H, rate: 0.0001, intervalMs: 8 * H },
    ];
    const short: SettledFunding[] = [
      { timeMs: 30_000, rate: 0.0003, intervalMs: 4 * H }, // 30 s after the long's: the same settlement time
      { timeMs: 4 * H, rate: 0.0002, intervalMs: 4 * H },
    ];
    pairCarryStats(long, short, out);
    // carries: 3 − 1 = 2, +2 (short alone), −1 (long alone); mean 1, deviations 1, 1, −2 → sample variance 6/2 = 3
    expect(out[CARRY_SETTLEMENTS]).toBe(3);
    expect(out[CARRY_EARNED_SHARE]).toBeCloseTo(2 / 3, 12);
    expect(out[CARRY_STDEV_BPS]).toBeCloseTo(Math.sqrt(3), 9);
  });

  it('none: share unknown; one: no standard deviation', () => {
    const out = new Float64Array(CARRY_STATS_LENGTH);
    const stats = (long: SettledFunding[], short: SettledFunding[]) => {
      pairCarryStats(long, short, out);
      return [out[CARRY_SETTLEMENTS], out[CARRY_EARNED_SHARE], out[CARRY_STDEV_BPS]];
    };
    expect(stats([], [])).toEqual([0, Number.NaN, Number.NaN]);
    expect(stats([], [{ timeMs: 1, rate: -0.0002, intervalMs: H }])).toEqual([1, 0, Number.NaN]); // negative funding: the short PAYS 2 bps
  });

  it('netAprPct annualises the projected profit over the horizon', () => {
    expect(netAprPct(4, 24 * H)).toBeCloseTo(14.6, 10); // 4 bps a day × 365 = 1460 bps = 14.6 %
    expect(netAprPct(4, 8 * H)).toBeCloseTo(43.8, 10);
  });
});

describe('detector.fundingBasis', () => {
  it('config: default current; avg24h/avg7d accepted, anything else refused naming the field', () => {
    expect(DEFAULT_CONFIG.detector.fundingBasis).toBe('current');
    expect(applyConfigPatch(DEFAULT_CONFIG, { detector: { fundingBasis: 'avg7d' } }).ok).toBe(true);
    expectRefused({ detector: { fundingBasis: 'avg30d' } }, 'detector.fundingBasis');
  });

  it('current: expectedFundingBps from current rates; the 24 h realised figures and stability ride along', () => {
    const o = openedAt30(engineConfig(), earningHistory());
    expect(o.id).toBe('BTC-PERP|okx|bybit');
    expect(o.fundingBasis).toBe('current');
    // one settlement per leg in the 8 h horizon at 1 bp each: 0
    expect(o.expectedFundingCurrentBps).toBeCloseTo(0, 12);
    expect(o.expectedFundingBps).toBeCloseTo(0, 12);
    // realised per 8 h: okx (1+2+3)/24 h · 8 h = 2 bps, bybit (5+4+6)/3 = 5 bps → delta 3 bps, over 8 h: 3 bps
    expect(o.realisedFundingDelta8h).toBeCloseTo(0.0003, 12);
    expect(o.expectedFundingRealisedBps).toBeCloseTo(3, 9);
    expect(o.projectedProfitBps).toBeCloseTo(30 - 21, 9);
    // per settlement: 4, 2, 3 bps → all earned; mean 3, sample stdev √((1 + 1 + 0)/2) = 1
    expect(o.carrySettlements).toBe(3);
    expect(o.carryEarnedShare).toBe(1);
    expect(o.carryStdevBps).toBeCloseTo(1, 9);
    expect(o.netAprPct).toBeCloseTo((9 / 1e4) * 3 * 365 * 100, 6); // 9 bps per 8 h
  });

  it('avg24h: expectedFundingBps (and profit) from the realised averages', () => {
    const o = openedAt30(engineConfig({ detector: { fundingBasis: 'avg24h' } }), earningHistory());
    expect(o.fundingBasis).toBe('avg24h');
    expect(o.expectedFundingCurrentBps).toBeCloseTo(0, 12);
    expect(o.expectedFundingBps).toBeCloseTo(3, 9);
    expect(o.projectedProfitBps).toBeCloseTo(30 + 3 - 21, 9);
    expect(o.projectedProfitUsd).toBeCloseTo(1.2, 9); // 12 bps of 1000 USD
  });

  it('avg7d reads the 7 d window: a settlement 3 days ago counts', () => {
    const h = earningHistory();
    h.add('okx', T0 - 72 * H, 0.0006); // okx: 1+2+3+6 = 12 bps over 32 h → 3 bps per 8 h; bybit 5 → delta 2 bps
    const o = openedAt30(engineConfig({ detector: { fundingBasis: 'avg7d' } }), h);
    expect(o.fundingBasis).toBe('avg7d');
    expect(o.realisedFundingDelta8h).toBeCloseTo(0.0002, 12);
    expect(o.expectedFundingBps).toBeCloseTo(2, 9);
    expect(o.carrySettlements).toBe(4); // the okx-only settlement: carry −6 bps
    expect(o.carryEarnedShare).toBeCloseTo(3 / 4, 12);
  });

  it('a realised basis with a leg without history falls back to current rates, marked fundingBasis current, realised null', () => {
    const h = earningHistory(['bybit']); // okx: none
    const o = openedAt30(engineConfig({ detector: { fundingBasis: 'avg24h' } }), h, { okx: 0.0001, bybit: 0.0004 });
    expect(o.fundingBasis).toBe('current');
    expect(o.expectedFundingRealisedBps).toBeNull();
    expect(o.realisedFundingDelta8h).toBeNull();
    expect(o.expectedFundingBps).toBeCloseTo(3, 9); // current: 4 − 1 bps, one settlement each
    expect(o.expectedFundingCurrentBps).toBeCloseTo(3, 9);
    expect(o.carrySettlements).toBe(3); // stability still counts the bybit settlements (okx paid nothing we know of)
  });

  it('without a history view every realised figure is null', () => {
    const o = openedAt30(engineConfig({ detector: { fundingBasis: 'avg7d' } }), null);
    expect([o.fundingBasis, o.expectedFundingRealisedBps, o.realisedFundingDelta8h, o.carryEarnedShare, o.carryStdevBps, o.carrySettlements]).toEqual(['current', null, null, null, null, 0]);
  });

  it('reads history only when its version changes or an hour boundary passes, not per update', () => {
    const h = earningHistory();
    const { clock, quote, requote, events } = openAt30(engineConfig({ detector: { fundingBasis: 'avg24h' } }), h);
    expect(events()).toHaveLength(1);
    const afterOpen = h.reads;
    expect(afterOpen).toBeGreaterThan(0);
    for (let i = 0; i < 50; i++) quote('bybit', 100.3 + (i % 2) * 0.01, 100.31 + (i % 2) * 0.01);
    expect(h.reads).toBe(afterOpen);
    // a new settlement: read again, and the realised figure moves (bybit 5+4+6+9 = 24 bps over 32 h → 6 per 8 h)
    h.add('bybit', T0 - 5 * H, 0.0009);
    quote('bybit', 100.4, 100.41);
    expect(h.reads).toBeGreaterThan(afterOpen);
    const updated = events().at(-1)!.opportunity;
    expect(updated.realisedFundingDelta8h).toBeCloseTo(0.0006 - 0.0002, 12);
    const afterVersion = h.reads;
    clock.t = T0 + 20 * 60_000; // still the same hour
    requote();
    expect(h.reads).toBe(afterVersion);
    clock.t = T0 + 40 * 60_000; // the next hour: the window slid
    requote();
    expect(h.reads).toBeGreaterThan(afterVersion);
  });
});

describe('thresholds.minCarryEarnedShare', () => {
  const mixedHistory = () => {
    const h = earningHistory();
    h.add('okx', T0 - 3 * H, 0.0004); // okx alone: the pair paid → 3 of 4 earned
    return h;
  };
  const run = (share: number, history: FakeHistory | null) => openAt30(engineConfig({ thresholds: { minCarryEarnedShare: share } }), history).events();

  it('default 0 = off', () => {
    expect(DEFAULT_CONFIG.thresholds.minCarryEarnedShare).toBe(0);
    expect(run(0, null)).toHaveLength(1);
  });

  it('a pair below the share does not open; at or above it does; without history it does not', () => {
    expect(run(0.8, mixedHistory())).toEqual([]);
    const at = run(0.75, mixedHistory());
    expect(at).toHaveLength(1);
    expect(at[0].opportunity.carryEarnedShare).toBe(0.75);
    expect(run(0.5, null)).toEqual([]);
  });

  it('config refuses a share outside 0..1', () => {
    expectRefused({ thresholds: { minCarryEarnedShare: 1.5 } }, 'thresholds.minCarryEarnedShare');
  });
});

describe('carry-driven opportunities (negative thresholds.minSpreadBps)', () => {
  // Horizon 24 h, 8 h intervals, next settlement 30 min ahead: 3 settlements per leg in the horizon.
  const cfg = engineConfig({ thresholds: { minSpreadBps: -10, minProfitBps: 2, hysteresisBps: 2 }, detector: { holdingHorizonHours: 24 } });
  /** long okx at ask 100, short bybit at bid 99.95: spread −5 bps (pays 5 bps to enter). */
  const enterAtMinus5 = (shortRate: number) => {
    const s = setup(cfg, null);
    s.funding('okx', -0.0004); // the long RECEIVES 4 bps per settlement
    s.funding('bybit', shortRate);
    s.quote('okx', 99.99, 100);
    s.quote('bybit', 99.95, 99.96);
    return s;
  };

  it('config: minSpreadBps may be negative down to −10 000 bps (a −100 % spread), not below', () => {
    expect(applyConfigPatch(DEFAULT_CONFIG, { thresholds: { minSpreadBps: -5 } }).ok).toBe(true);
    expect(applyConfigPatch(DEFAULT_CONFIG, { thresholds: { minSpreadBps: -10_000 } }).ok).toBe(true);
    expectRefused({ thresholds: { minSpreadBps: -10_001 } }, 'thresholds.minSpreadBps');
  });

  it('spread −5 bps opens when the carry pays it back: −5 + 3 · (6 + 4) − 21 = 4 bps ≥ 2', () => {
    const { events } = enterAtMinus5(0.0006);
    const evs = events();
    expect(evs.map((e) => e.kind)).toEqual(['opened']);
    const o = evs[0].opportunity;
    expect(o.spreadBps).toBeCloseTo(-5, 9);
    expect(o.expectedFundingBps).toBeCloseTo(30, 9);
    expect(o.projectedProfitBps).toBeCloseTo(4, 9);
    expect(o.netAprPct).toBeCloseTo(14.6, 6); // 4 bps per day × 365
  });

  it('spread −5 bps does not open when it does not: −5 + 3 · (5 + 4) − 21 = 1 bp < 2', () => {
    const { events } = enterAtMinus5(0.0005);
    expect(events()).toEqual([]);
  });

  it('hysteresis: an open carry pair stays open down to minProfitBps − hysteresis, then closes unprofitable', () => {
    const { quote, events } = enterAtMinus5(0.0006);
    expect(events().map((e) => e.kind)).toEqual(['opened']);
    quote('okx', 100.02, 100.035); // spread (99.95 − 100.035)/100.035 = −8.497 bps → profit 0.503 ≥ 0
    expect(events().map((e) => e.kind)).toEqual(['updated']);
    quote('okx', 100.05, 100.06); // spread −10.993 bps (above −10 − 2) → profit −1.993 < 0
    const closed = events();
    expect(closed.map((e) => e.kind)).toEqual(['closed']);
    expect(closed[0].kind === 'closed' && closed[0].reason).toBe('unprofitable');
  });
});
