/**
 * The Funding tab's logic, framework-free (unit-tested in test/web/funding-board.test.ts): columns with
 * their units, sorting, filtering, paging, the interval badge, the per-row countdown and the realised-average
 * cells. Rows come from GET /api/funding (shared/funding.ts); rates are shown in bps, APR in percent.
 */
import type { FundingRow } from '../../../shared/funding.js';
import { fmtCountdown } from './format.js';

export { intervalBadge } from './format.js';

export type FundingSortKey = 'instrument' | 'venue' | 'rateIntervalBps' | 'rate8hBps' | 'aprPct' | 'interval' | 'next' | 'settled' | 'avg24h' | 'avg3d' | 'avg7d' | 'avg30d' | 'carry';
export type RealisedKey = 'avg24h' | 'avg3d' | 'avg7d' | 'avg30d';
export const REALISED_KEYS: readonly RealisedKey[] = ['avg24h', 'avg3d', 'avg7d', 'avg30d'];

/** Em dash and its tooltip for a realised average no history source has filled yet. */
export const NO_HISTORY_TEXT = '—';
export const NO_HISTORY_TITLE = 'no history yet';
/** Tooltip of a row whose interval the venue never stated: its rate is shown, nothing per 8 h or per year. */
export const UNKNOWN_INTERVAL_TITLE = 'Funding interval unknown: the venue has not stated it, so the rate is not normalised to 8 h or annualised';

export interface FundingColumn {
  key: FundingSortKey;
  label: string;
  unit: string;
  title: string;
  /** Hidden below 700 px (the 390 px phone view keeps instrument, venue, 8 h rate, interval and countdown). */
  wide: boolean;
}

export const FUNDING_COLUMNS: readonly FundingColumn[] = [
  { key: 'instrument', label: 'Instrument', unit: '', title: 'Instrument key', wide: false },
  { key: 'venue', label: 'Venue', unit: '', title: 'Venue and settle currency', wide: false },
  { key: 'rateIntervalBps', label: 'Rate', unit: 'bps/int', title: 'Latest funding rate per the leg’s own interval (bps); “P” = the venue’s predicted rate', wide: true },
  { key: 'rate8hBps', label: 'Rate 8h', unit: 'bps/8h', title: 'rate × 8 h / interval (bps per 8 h)', wide: false },
  { key: 'aprPct', label: 'APR', unit: '%', title: 'rate × (365 × 24 h / interval), simple annual rate (percent)', wide: true },
  { key: 'interval', label: 'Int', unit: 'h', title: 'Funding interval of this leg (live per symbol)', wide: false },
  { key: 'next', label: 'Next', unit: 'h:mm:ss', title: 'Countdown to this venue’s next settlement', wide: false },
  { key: 'settled', label: 'Last settled', unit: 'bps/8h', title: 'The rate the venue published for its last settlement, per 8 h (bps), seen live since start', wide: true },
  { key: 'avg24h', label: 'Avg 24h', unit: 'bps/8h', title: 'Realised average over 24 h (bps per 8 h)', wide: true },
  { key: 'avg3d', label: 'Avg 3d', unit: 'bps/8h', title: 'Realised average over 3 days (bps per 8 h)', wide: true },
  { key: 'avg7d', label: 'Avg 7d', unit: 'bps/8h', title: 'Realised average over 7 days (bps per 8 h)', wide: true },
  { key: 'avg30d', label: 'Avg 30d', unit: 'bps/8h', title: 'Realised average over 30 days (bps per 8 h)', wide: true },
  { key: 'carry', label: 'Best carry', unit: 'bps/8h', title: 'The instrument’s best pair: short the highest rate, long the lowest, per 8 h (bps)', wide: true },
];

export interface FundingSort {
  key: FundingSortKey;
  dir: 'asc' | 'desc';
}

export interface FundingFilter {
  /** Substring of the instrument key, case-insensitive. */
  instrument: string;
  /** Empty = every venue. */
  venues: readonly string[];
  /** '' = every settle currency. */
  settle: string;
  /** Minimum open interest / 24 h volume (USD); null = no minimum. Rows without the figure fail a minimum. */
  minOpenInterestUsd: number | null;
  minVolume24hUsd: number | null;
}

export const EMPTY_FILTER: FundingFilter = { instrument: '', venues: [], settle: '', minOpenInterestUsd: null, minVolume24hUsd: null };

/** Sort value of a row; NaN / null sort last whatever the direction. */
export function sortValue(r: FundingRow, key: FundingSortKey, serverNowMs: number): number | string | null {
  switch (key) {
    case 'instrument':
      return r.instrument;
    case 'venue':
      return `${r.venue}|${r.settle}`;
    case 'rateIntervalBps':
      return r.rateIntervalBps;
    case 'rate8hBps':
      return r.rate8hBps;
    case 'aprPct':
      return r.aprPct;
    case 'interval':
      return r.intervalMs;
    case 'next':
      return r.nextFundingMs === null ? null : r.nextFundingMs - serverNowMs;
    case 'settled':
      return r.lastSettled?.rate8hBps ?? null;
    case 'carry':
      return r.bestCarry8hBps;
    default:
      return r.realised[key];
  }
}

export function filterRows(rows: readonly FundingRow[], f: FundingFilter): FundingRow[] {
  const needle = f.instrument.trim().toUpperCase();
  return rows.filter(
    (r) =>
      (!needle || r.instrument.includes(needle)) &&
      (f.venues.length === 0 || f.venues.includes(r.venue)) &&
      (!f.settle || r.settle === f.settle) &&
      (f.minOpenInterestUsd === null || (r.openInterestUsd !== null && r.openInterestUsd >= f.minOpenInterestUsd)) &&
      (f.minVolume24hUsd === null || (r.volume24hUsd !== null && r.volume24hUsd >= f.minVolume24hUsd)),
  );
}

export function sortRows(rows: readonly FundingRow[], sort: FundingSort, serverNowMs: number): FundingRow[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  const missing = (v: number | string | null) => v === null || (typeof v === 'number' && !Number.isFinite(v));
  return rows
    .map((r) => ({ r, v: sortValue(r, sort.key, serverNowMs) }))
    .sort((a, b) => {
      const am = missing(a.v);
      const bm = missing(b.v);
      if (am || bm) return am === bm ? tie(a.r, b.r) : am ? 1 : -1;
      const d = typeof a.v === 'string' || typeof b.v === 'string' ? cmp(String(a.v), String(b.v)) : (a.v as number) - (b.v as number);
      return sign * d || tie(a.r, b.r);
    })
    .map((x) => x.r);
}

/** Code-unit order: keys and venue ids are ASCII, and localeCompare is far too slow for thousands of rows. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function tie(a: FundingRow, b: FundingRow): number {
  return cmp(a.instrument, b.instrument) || cmp(a.venue, b.venue) || cmp(a.settle, b.settle);
}

export const PAGE_SIZE = 50;

/** One page (0-based, clamped) of rows, with the page count. */
export function pageOf<T>(rows: readonly T[], page: number, size = PAGE_SIZE): { rows: T[]; page: number; pages: number } {
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const p = Math.min(Math.max(0, Math.floor(page)), pages - 1);
  return { rows: rows.slice(p * size, (p + 1) * size), page: p, pages };
}

/** This row's own countdown to its venue's next settlement (server clock). */
export function rowCountdown(r: FundingRow, serverNowMs: number): string {
  return r.nextFundingMs === null ? '–' : fmtCountdown(r.nextFundingMs - serverNowMs);
}

/** A realised-average cell: the figure, or an em dash with "no history yet". */
export function realisedCell(r: FundingRow, key: RealisedKey): { text: string; title: string } {
  const v = r.realised[key];
  return v === null ? { text: NO_HISTORY_TEXT, title: NO_HISTORY_TITLE } : { text: v.toFixed(2), title: `${v.toFixed(4)} bps per 8 h` };
}

/** Marks of the instrument's best carry pair (only a pair that earns: carry > 0). */
export function carryMark(r: FundingRow): { side: 'long' | 'short'; label: string; title: string } | null {
  if (!r.bestCarry || r.bestCarry8hBps === null || !(r.bestCarry8hBps > 0)) return null;
  const cross = r.bestCarryCrossQuote ? ' ⇄' : '';
  const title = `Best carry for ${r.instrument}: ${r.bestCarry} here, ${r.bestCarry8hBps.toFixed(2)} bps per 8 h${r.bestCarryCrossQuote ? ' (cross-quote: the two legs settle in different currencies)' : ''}`;
  return { side: r.bestCarry, label: `${r.bestCarry === 'long' ? 'L' : 'S'}${cross}`, title };
}
