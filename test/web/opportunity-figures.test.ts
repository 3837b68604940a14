/** web/src/lib/opportunity-figures.ts and the new formatters: per-leg funding, optional figures, stability filter, sorting with gaps. */
import { describe, expect, it } from 'vitest';
import { fmtCompactUsd, fmtHours, fmtSignedPct, intervalBadge } from '../../web/src/lib/format.js';
import { earnedSharePct, expectedFundingTitle, legCountdownMs, legFunding, realisedDelta8hBps, slippageMark } from '../../web/src/lib/opportunity-figures.js';
import { EMPTY_FILTER, matchesFilter, parseMinShare, sortRows } from '../../web/src/lib/table.js';
import type { OpportunityRow } from '../../web/src/lib/stream-store.js';
import type { Opportunity } from '../../shared/opportunity.js';
import { opportunity } from './make.js';

const H = 3_600_000;
const NOW = 1_700_000_000_000;

function row(o: Opportunity): OpportunityRow {
  return { id: o.id, opportunity: o, state: 'open', lastSeq: 1, changedMs: NOW, direction: 'none', closeReason: null, lifetimeMs: null, closingSinceMs: null };
}

describe('per-leg funding', () => {
  it('turns the per-8 h rate back into the rate per the leg’s own interval (bps)', () => {
    // 0.0008 per 8 h on a 1 h leg = 8 bps / 8 h = 1 bps per hour; −0.0003 per 8 h on a 4 h leg = −1.5 bps per 4 h.
    const o = opportunity('BTC-PERP', 'okx', 'bybit', 5, {
      longFundingRate8h: 0.0008,
      longFundingIntervalMs: H,
      longNextFundingMs: NOW + 10 * 60_000,
      shortFundingRate8h: -0.0003,
      shortFundingIntervalMs: 4 * H,
      shortNextFundingMs: NOW + 3 * H,
      shortFundingPredicted: true,
    });
    const long = legFunding(o, 'long');
    expect(long.rateIntervalBps).toBeCloseTo(1, 12);
    expect(long.rate8hBps).toBeCloseTo(8, 12);
    expect(intervalBadge(long.intervalMs)).toBe('1h');
    expect(long.predicted).toBe(false);
    const short = legFunding(o, 'short');
    expect(short.rateIntervalBps).toBeCloseTo(-1.5, 12);
    expect(intervalBadge(short.intervalMs)).toBe('4h');
    expect(short.predicted).toBe(true);
    expect(legCountdownMs(o, 'long', NOW)).toBe(10 * 60_000);
    expect(legCountdownMs(o, 'short', NOW)).toBe(3 * H);
  });

  it('a leg whose funding is unknown has no rate and no countdown (not a zero)', () => {
    const o = opportunity('BTC-PERP', 'okx', 'bybit', 5, { longFundingRate8h: 0, longFundingIntervalMs: 0, longNextFundingMs: 0 });
    expect(legFunding(o, 'long')).toMatchObject({ rateIntervalBps: null, rate8hBps: null, intervalMs: null, nextFundingMs: null, unknown: true });
    expect(intervalBadge(legFunding(o, 'long').intervalMs)).toBe('?');
    expect(legCountdownMs(o, 'long', NOW)).toBeNull();
  });
});

describe('optional Wave 2 figures', () => {
  const old = opportunity('ETH-PERP', 'okx', 'bybit', 5);
  const full = opportunity('BTC-PERP', 'okx', 'bybit', 5, {
    realisedFundingDelta8h: 0.00021,
    carryEarnedShare: 0.75,
    fundingBasis: 'avg7d',
    expectedFundingCurrentBps: 3,
    expectedFundingRealisedBps: null,
    slippageSource: 'depth',
  });

  it('absent or null = null, never NaN', () => {
    expect(realisedDelta8hBps(old)).toBeNull();
    expect(earnedSharePct(old)).toBeNull();
    expect(slippageMark(old.slippageSource)).toBeNull();
    expect(realisedDelta8hBps(full)).toBeCloseTo(2.1, 12);
    expect(earnedSharePct(full)).toBe(75);
    expect(slippageMark('depth')?.letter).toBe('D');
    expect(slippageMark('touch')?.letter).toBe('T');
  });

  it('says which expected-funding figure the profit used, and when history is missing', () => {
    expect(expectedFundingTitle(full)).toBe('Expected funding over the horizon: +3.00 bps from current rates, no history yet from realised averages (profit uses avg7d)');
    expect(expectedFundingTitle({ ...old, expectedFundingBps: -1.5 })).toBe('Expected funding over the horizon: -1.50 bps');
  });
});

describe('formatters', () => {
  it('compact USD, hours, signed percent', () => {
    expect(fmtCompactUsd(950)).toBe('$950');
    expect(fmtCompactUsd(999.7)).toBe('$1.00k');
    expect(fmtCompactUsd(48_500)).toBe('$48.5k');
    expect(fmtCompactUsd(1_250_000)).toBe('$1.25M');
    expect(fmtCompactUsd(3_100_000_000)).toBe('$3.10B');
    expect(fmtCompactUsd(null)).toBe('–');
    expect(fmtCompactUsd(undefined)).toBe('–');
    expect(fmtHours(12.25)).toBe('12.3');
    expect(fmtHours(1234.5)).toBe('1,235');
    expect(fmtHours(null)).toBe('–');
    expect(fmtSignedPct(30.66)).toBe('+30.7');
    expect(fmtSignedPct(-4)).toBe('-4.0');
    expect(fmtSignedPct(2694.1)).toBe('+2694');
    expect(fmtSignedPct(Number.NaN)).toBe('–');
  });
});

describe('stability filter and sorting with missing figures', () => {
  const a = opportunity('A-PERP', 'okx', 'bybit', 5, { carryEarnedShare: 0.7, capacityUsd: 10_000 });
  const b = opportunity('B-PERP', 'okx', 'bybit', 6, { carryEarnedShare: 0.4, capacityUsd: null });
  const c = opportunity('C-PERP', 'okx', 'bybit', 7); // no stability figure yet, no capacity

  it('keeps pairs that earned in at least the share; a pair without history fails a minimum', () => {
    const f = { ...EMPTY_FILTER, minEarnedSharePct: 70 };
    expect([a, b, c].filter((o) => matchesFilter(o, f)).map((o) => o.instrument)).toEqual(['A-PERP']);
    expect([a, b, c].filter((o) => matchesFilter(o, EMPTY_FILTER))).toHaveLength(3);
    expect(parseMinShare('70')).toEqual({ valid: true, value: 70 });
    expect(parseMinShare('70 %')).toEqual({ valid: true, value: 70 });
    expect(parseMinShare('')).toEqual({ valid: true, value: null });
    expect(parseMinShare('101')).toEqual({ valid: false, value: null });
    expect(parseMinShare('-1')).toEqual({ valid: false, value: null });
  });

  it('sorts by capacity with missing capacities last in both directions', () => {
    const ids = (dir: 'asc' | 'desc') => sortRows([a, b, c].map(row), { key: 'capacityUsd', dir }, EMPTY_FILTER, NOW).map((r) => r.opportunity.instrument);
    expect(ids('desc')).toEqual(['A-PERP', 'B-PERP', 'C-PERP']);
    expect(ids('asc')).toEqual(['A-PERP', 'B-PERP', 'C-PERP']);
  });
});
