/** web/src/lib/funding-history.ts: the query, rates aligned on one time axis, the cumulative carry of a pair (hand-computed), the default pair. */
import { describe, expect, it } from 'vitest';
import type { FundingHistoryPoint, FundingHistorySeries } from '../../shared/funding-history.js';
import { exportUrl } from '../../web/src/lib/exports.js';
import { alignRates, cumulativeCarry, defaultPair, historyExport, historyPath, seriesKey } from '../../web/src/lib/funding-history.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 30, 0, 0);

function pt(settledMs: number, rateIntervalBps: number, intervalMs: number | null): FundingHistoryPoint {
  return { settledMs, rateIntervalBps, intervalMs, rate8hBps: intervalMs === null ? null : (rateIntervalBps * 8 * H) / intervalMs };
}

function series(venue: FundingHistorySeries['venue'], points: FundingHistoryPoint[], settle: FundingHistorySeries['settle'] = 'USDT'): FundingHistorySeries {
  return { instrument: 'BTC-PERP', venue, settle, points };
}

describe('funding history: query and downloads', () => {
  it('asks for one instrument over a range (epoch ms), one venue when given; downloads the same with ?format=', () => {
    const q = { instrument: 'BTC-PERP', fromMs: T0, toMs: T0 + 24 * H };
    expect(historyPath(q)).toBe(`api/funding/history?instrument=BTC-PERP&from=${T0}&to=${T0 + 24 * H}`);
    expect(historyPath({ ...q, venue: 'okx' })).toBe(`api/funding/history?instrument=BTC-PERP&from=${T0}&to=${T0 + 24 * H}&venue=okx`);
    expect(exportUrl(historyExport(q), 'csv')).toBe(`api/funding/history?instrument=BTC-PERP&from=${T0}&to=${T0 + 24 * H}&format=csv`);
  });
});

describe('funding history: rates across venues', () => {
  it('puts every leg on the union of settlement times (seconds), bps per 8 h, gaps where a leg did not settle', () => {
    const hourly = series('bybit', [pt(T0 + H, 0.25, H), pt(T0 + 2 * H, 0.5, H), pt(T0 + 8 * H, -0.25, H)]);
    const eightly = series('okx', [pt(T0 + 8 * H, 1, 8 * H)]);
    const unknown = series('kucoin', [pt(T0 + 2 * H, 3, null)], 'USDC');
    const a = alignRates([hourly, eightly, unknown]);
    expect(a.x).toEqual([(T0 + H) / 1000, (T0 + 2 * H) / 1000, (T0 + 8 * H) / 1000]);
    expect(a.ys).toEqual([
      [2, 4, -2], // 0.25 bps per hour = 2 bps per 8 h
      [null, null, 1],
      [null, null, null], // interval unknown: no per-8 h figure to plot
    ]);
    expect(a.keys).toEqual(['bybit', 'okx', 'kucoin:USDC']);
    expect(a.points).toBe(4);
    expect(seriesKey(unknown)).toBe('kucoin:USDC');
  });
});

describe('funding history: cumulative carry of a pair', () => {
  it('sums what the short leg receives and the long leg pays, each per its own interval, in time order', () => {
    // Short an hourly leg at +0.25 bps per hour, long an 8-hourly leg at +1 bps per 8 h, over 8 hours:
    // short receives 8 × 0.25 = 2 bps, long pays 1 bps at hour 8: carry 1 bps.
    const short = Array.from({ length: 8 }, (_, i) => pt(T0 + (i + 1) * H, 0.25, H));
    const long = [pt(T0 + 8 * H, 1, 8 * H)];
    const c = cumulativeCarry(long, short);
    expect(c.x).toHaveLength(8); // hour 8: both legs settle, one point
    expect(c.carryBps).toEqual([0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 1]);
    expect(c.x[7]).toBe((T0 + 8 * H) / 1000);
  });

  it('a negative rate on the long leg is received (shorts pay longs)', () => {
    const c = cumulativeCarry([pt(T0 + 4 * H, -0.5, 4 * H), pt(T0 + 8 * H, -0.5, 4 * H)], [pt(T0 + 8 * H, -1, 8 * H)]);
    // +0.5 at 4 h; at 8 h +0.5 (long) − 1 (short pays) = 0.
    expect(c.carryBps).toEqual([0.5, 0]);
  });

  it('picks the default pair: short the highest mean rate, long the lowest; none with fewer than two legs', () => {
    const legs = [series('okx', [pt(T0, 1, 8 * H)]), series('bybit', [pt(T0, 0.25, H)]), series('kucoin', [pt(T0, -0.5, 4 * H)])];
    expect(defaultPair(legs)).toEqual({ long: 'kucoin', short: 'bybit' });
    expect(defaultPair(legs.slice(0, 1))).toBeNull();
    expect(defaultPair([legs[0], series('binance', [])])).toBeNull();
  });
});
