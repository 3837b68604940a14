/**
 * Venue-agnostic helpers for the venues' funding-history parsers (server/venues/<venue>/history.ts): the
 * interval each settlement covered, derived from the spacing of settlement times when the venue gives none,
 * and the part of a requested range still to fetch after one page.
 */
import type { SettledFunding } from './history-types.js';

/** A spacing longer than this is a gap in the data (a pause, a relisting), not an interval: left unknown. */
export const MAX_DERIVED_INTERVAL_MS = 24 * 3_600_000;

/** One settlement as read from a page, before its interval is known. */
export interface RawSettlement {
  timeMs: number;
  rate: number;
  /** The venue's own figure for the interval (ms); null = the venue gave none. */
  intervalMs: number | null;
}

/**
 * Oldest first, one point per settlement time, every interval the venue's own or derived: a settlement's
 * interval is the time since the previous settlement on the page; the oldest takes the spacing to the next
 * one (the best figure the page has); spacings are rounded to the minute. A lone point without a venue figure stays null: the backfill fills
 * it from its neighbours in the store or the instrument's current interval, and says so.
 */
export function withIntervals(raw: readonly RawSettlement[]): SettledFunding[] {
  const byTime = new Map<number, RawSettlement>();
  for (const p of raw) if (Number.isFinite(p.timeMs) && Number.isFinite(p.rate)) byTime.set(p.timeMs, p);
  const sorted = [...byTime.values()].sort((a, b) => a.timeMs - b.timeMs);
  return sorted.map((p, i) => {
    if (p.intervalMs !== null && p.intervalMs > 0) return { timeMs: p.timeMs, rate: p.rate, intervalMs: p.intervalMs };
    const raw = i > 0 ? p.timeMs - sorted[i - 1]!.timeMs : i + 1 < sorted.length ? sorted[i + 1]!.timeMs - p.timeMs : 0;
    // Settlement grids are whole minutes on every venue; a venue stamping a few ms late must not skew it.
    const spacing = Math.round(raw / 60_000) * 60_000;
    return { timeMs: p.timeMs, rate: p.rate, intervalMs: spacing > 0 && spacing <= MAX_DERIVED_INTERVAL_MS ? spacing : null };
  });
}

/**
 * What is left of [fromMs, toMs] after a page. `newestFirst`: the venue answers the newest `pageSize`
 * settlements up to `toMs` (the rest is older); else the oldest from `fromMs` (the rest is newer). A page
 * shorter than `pageSize` completes the range.
 */
export function remainingAfter(points: readonly SettledFunding[], pageSize: number, fromMs: number, toMs: number, newestFirst: boolean, resolutionMs = 1): { fromMs: number; toMs: number } | null {
  if (points.length < pageSize || points.length === 0) return null;
  if (newestFirst) {
    const oldest = points[0]!.timeMs;
    return oldest - resolutionMs >= fromMs ? { fromMs, toMs: oldest - resolutionMs } : null;
  }
  const newest = points[points.length - 1]!.timeMs;
  return newest + resolutionMs <= toMs ? { fromMs: newest + resolutionMs, toMs } : null;
}

/** A decimal carried as a string or a number (venues use both), or NaN. */
export function decimal(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return Number.NaN;
}

/** Points inside [fromMs, toMs] only (venues round their range bounds; intervals are derived before filtering). */
export function inRange(points: readonly SettledFunding[], fromMs: number, toMs: number): SettledFunding[] {
  return points.filter((p) => p.timeMs >= fromMs && p.timeMs <= toMs);
}
