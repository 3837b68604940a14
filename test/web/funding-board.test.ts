/** web/src/lib/funding-board.ts: per-row countdowns, interval badges, realised cells, best-pair marks, sort, filter, pages. */
import { describe, expect, it } from 'vitest';
import type { FundingRow } from '../../shared/funding.js';
import { carryMark, EMPTY_FILTER, filterRows, intervalBadge, pageOf, realisedCell, rowCountdown, sortRows } from '../../web/src/lib/funding-board.js';

const H = 3_600_000;
const NOW = Date.UTC(2026, 11, 1, 8, 30);
function row(venue: FundingRow['venue'], rate8hBps: number, intervalMs: number, nextFundingMs: number | null, over: Partial<FundingRow> = {}): FundingRow {
  return {
    instrument: 'BTC-PERP', venue, settle: 'USDT', symbol: 'BTCUSDT',
    rateIntervalBps: (rate8hBps * intervalMs) / (8 * H), rate8hBps, aprPct: rate8hBps * 1095 / 100, intervalMs, intervalHours: intervalMs / H,
    nextFundingMs, predicted: false, updatedMs: NOW, feedDown: false, lastSettled: null,
    realised: { avg24h: null, avg3d: null, avg7d: null, avg30d: null }, openInterestUsd: null, volume24hUsd: null,
    bestCarry: null, bestCarry8hBps: null, bestCarryCrossQuote: false, ...over,
  };
}

describe('funding board logic', () => {
  it('each row counts down to its own venue’s next settlement', () => {
    expect(rowCountdown(row('bybit', 8, H, NOW + 30 * 60_000), NOW)).toBe('30:00');
    expect(rowCountdown(row('okx', 4, 4 * H, NOW + 3.5 * H), NOW)).toBe('3:30:00');
    expect(rowCountdown(row('okx', 4, 4 * H, NOW - 1), NOW)).toBe('now');
    expect(rowCountdown(row('gate', 4, 8 * H, null), NOW)).toBe('–');
  });

  it('interval badges', () => {
    expect([H, 4 * H, 8 * H, 2 * H, 30 * 60_000, 0].map(intervalBadge)).toEqual(['1h', '4h', '8h', '2h', '30m', '?']);
  });

  it('a realised average without history is an em dash titled "no history yet"', () => {
    expect(realisedCell(row('bybit', 1, H, null), 'avg7d')).toEqual({ text: '—', title: 'no history yet' });
    expect(realisedCell(row('bybit', 1, H, null, { realised: { avg24h: 1.234, avg3d: null, avg7d: null, avg30d: null } }), 'avg24h').text).toBe('1.23');
  });

  it('best pair marks: only a pair that earns, cross-quote marked', () => {
    expect(carryMark(row('bybit', 8, H, null, { bestCarry: 'short', bestCarry8hBps: 11 }))).toMatchObject({ side: 'short', label: 'S' });
    expect(carryMark(row('kucoin', -3, 8 * H, null, { bestCarry: 'long', bestCarry8hBps: 11, bestCarryCrossQuote: true }))!.label).toBe('L ⇄');
    expect(carryMark(row('kucoin', 0, 8 * H, null, { bestCarry: 'long', bestCarry8hBps: 0 }))).toBeNull();
    expect(carryMark(row('okx', 4, 4 * H, null, { bestCarry8hBps: 11 }))).toBeNull();
  });

  it('sorts by a column either way, unknown values last; filters venue, settle, instrument and minimums', () => {
    const rows = [row('bybit', 8, H, NOW + H), row('okx', 4, 4 * H, null), row('kucoin', -3, 8 * H, NOW + 0.5 * H, { settle: 'USDC', instrument: 'ETH-PERP' })];
    expect(sortRows(rows, { key: 'rate8hBps', dir: 'desc' }, NOW).map((r) => r.venue)).toEqual(['bybit', 'okx', 'kucoin']);
    expect(sortRows(rows, { key: 'rate8hBps', dir: 'asc' }, NOW).map((r) => r.venue)).toEqual(['kucoin', 'okx', 'bybit']);
    expect(sortRows(rows, { key: 'next', dir: 'asc' }, NOW).map((r) => r.venue)).toEqual(['kucoin', 'bybit', 'okx']);
    expect(sortRows(rows, { key: 'next', dir: 'desc' }, NOW).map((r) => r.venue)).toEqual(['bybit', 'kucoin', 'okx']);
    expect(filterRows(rows, { ...EMPTY_FILTER, venues: ['okx'] }).map((r) => r.venue)).toEqual(['okx']);
    expect(filterRows(rows, { ...EMPTY_FILTER, settle: 'USDC' }).map((r) => r.venue)).toEqual(['kucoin']);
    expect(filterRows(rows, { ...EMPTY_FILTER, instrument: 'eth' }).map((r) => r.venue)).toEqual(['kucoin']);
    // A minimum excludes rows without the figure; a row with it passes when it clears the minimum.
    expect(filterRows(rows, { ...EMPTY_FILTER, minOpenInterestUsd: 1 })).toEqual([]);
    expect(filterRows([row('okx', 1, H, null, { volume24hUsd: 5e6 })], { ...EMPTY_FILTER, minVolume24hUsd: 1e6 })).toHaveLength(1);
  });

  it('a row whose interval is unknown sorts after the known ones by 8 h rate, APR and interval, either way; its badge is "?"', () => {
    const unknown = row('gate', 0, 0, NOW + H, { rateIntervalBps: 30, rate8hBps: null, aprPct: null, intervalMs: null, intervalHours: null });
    const rows = [unknown, row('bybit', 8, H, NOW + H), row('okx', -4, 4 * H, NOW + H)];
    for (const key of ['rate8hBps', 'aprPct', 'interval'] as const) {
      for (const dir of ['asc', 'desc'] as const) expect(sortRows(rows, { key, dir }, NOW).at(-1)!.venue, `${key} ${dir}`).toBe('gate');
    }
    // Its rate per its own interval is known, so that sort places it by value (30 bps is the highest).
    expect(sortRows(rows, { key: 'rateIntervalBps', dir: 'desc' }, NOW)[0]!.venue).toBe('gate');
    expect(intervalBadge(unknown.intervalMs)).toBe('?');
  });

  it('pages of 50, clamped', () => {
    const items = Array.from({ length: 2101 }, (_, i) => i);
    expect(pageOf(items, 0)).toMatchObject({ page: 0, pages: 43 });
    expect(pageOf(items, 0).rows).toHaveLength(50);
    expect(pageOf(items, 99)).toMatchObject({ page: 42, rows: [2100] });
    expect(pageOf([], 3)).toMatchObject({ page: 0, pages: 1, rows: [] });
  });
});
