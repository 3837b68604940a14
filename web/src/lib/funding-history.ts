/**
 * The Funding tab's history charts, framework-free (unit-tested in test/web/funding-history.test.ts): the
 * query of GET /api/funding/history, the rates of one instrument across venues aligned on one time axis
 * (bps per 8 h), and the cumulative carry of a chosen pair (bps of notional), plus the download targets.
 * Response schema: shared/funding-history.ts.
 */
import type { FundingHistoryPoint, FundingHistorySeries } from '../../../shared/funding-history.js';
import type { ExportTarget } from './exports.js';

export const HISTORY_RANGES = [
  { key: '24h', label: '24 h', ms: 24 * 3_600_000 },
  { key: '3d', label: '3 d', ms: 3 * 86_400_000 },
  { key: '7d', label: '7 d', ms: 7 * 86_400_000 },
  { key: '30d', label: '30 d', ms: 30 * 86_400_000 },
] as const;
export type HistoryRangeKey = (typeof HISTORY_RANGES)[number]['key'];

export interface HistoryQuery {
  instrument: string;
  /** One venue only; absent = every venue listing the instrument. */
  venue?: string;
  fromMs: number;
  toMs: number;
}

function params(q: HistoryQuery): Record<string, string> {
  const p: Record<string, string> = { instrument: q.instrument, from: String(Math.floor(q.fromMs)), to: String(Math.ceil(q.toMs)) };
  if (q.venue) p.venue = q.venue;
  return p;
}

/** Relative URL (the page's directory, like every REST call of the dashboard). */
export function historyPath(q: HistoryQuery): string {
  return `api/funding/history?${new URLSearchParams(params(q)).toString()}`;
}

/** The CSV / JSON download of the same history (`?format=` on the route, docs/exports.md). */
export function historyExport(q: HistoryQuery): ExportTarget {
  return { id: 'funding-history', label: `Funding history of ${q.instrument}`, path: 'api/funding/history', query: params(q) };
}

/** A leg of the history: venue and settle currency (a venue may list the instrument in USDT and in USDC). */
export function seriesKey(s: Pick<FundingHistorySeries, 'venue' | 'settle'>): string {
  return s.settle === 'USDT' ? s.venue : `${s.venue}:${s.settle}`;
}

export interface AlignedRates {
  /** Settlement times, epoch SECONDS (uPlot's time axis), ascending, each once. */
  x: number[];
  /** Per series, its rate per 8 h (bps) at each x, null where that leg did not settle (or its interval is unknown). */
  ys: (number | null)[][];
  keys: string[];
  /** Settlements plotted (points with a rate), all series together. */
  points: number;
}

/** Every series on one time axis: the union of the settlement times. */
export function alignRates(series: readonly FundingHistorySeries[]): AlignedRates {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p.settledMs)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  let points = 0;
  const ys = series.map((s) => {
    const y: (number | null)[] = new Array<number | null>(times.length).fill(null);
    for (const p of s.points) {
      if (p.rate8hBps === null || !Number.isFinite(p.rate8hBps)) continue;
      y[index.get(p.settledMs)!] = p.rate8hBps;
      points++;
    }
    return y;
  });
  return { x: times.map((t) => t / 1000), ys, keys: series.map(seriesKey), points };
}

export interface CarryCurve {
  /** Settlement times of either leg, epoch SECONDS, ascending. */
  x: number[];
  /** Carry earned up to and including that time, bps of notional. */
  carryBps: number[];
}

/**
 * The cumulative carry of holding short `short` and long `long` from the range's start: at each of its
 * settlements the short leg receives its rate (per its own interval: positive = longs pay shorts) and the long
 * leg pays its rate; summed in time order. Legs with different intervals are summed at their own times, so a
 * 1 h leg counts eight settlements where an 8 h leg counts one. Both legs settling at the same moment are one point.
 */
export function cumulativeCarry(long: readonly FundingHistoryPoint[], short: readonly FundingHistoryPoint[]): CarryCurve {
  const events = [...short.map((p) => ({ t: p.settledMs, bps: p.rateIntervalBps })), ...long.map((p) => ({ t: p.settledMs, bps: -p.rateIntervalBps }))]
    .filter((e) => Number.isFinite(e.t) && Number.isFinite(e.bps))
    .sort((a, b) => a.t - b.t);
  const x: number[] = [];
  const carryBps: number[] = [];
  let sum = 0;
  for (const e of events) {
    sum += e.bps;
    if (x.length > 0 && x[x.length - 1] === e.t / 1000) carryBps[carryBps.length - 1] = sum;
    else {
      x.push(e.t / 1000);
      carryBps.push(sum);
    }
  }
  return { x, carryBps };
}

/** The default pair to chart: short the leg with the highest mean rate, long the lowest (null with fewer than two legs). */
export function defaultPair(series: readonly FundingHistorySeries[]): { long: string; short: string } | null {
  const means = series
    .map((s) => {
      const rates = s.points.map((p) => p.rate8hBps).filter((v): v is number => v !== null && Number.isFinite(v));
      return { key: seriesKey(s), mean: rates.length > 0 ? rates.reduce((a, b) => a + b, 0) / rates.length : Number.NaN };
    })
    .filter((m) => Number.isFinite(m.mean))
    .sort((a, b) => a.mean - b.mean);
  if (means.length < 2) return null;
  return { long: means[0].key, short: means[means.length - 1].key };
}

/** One line of a history chart: its legend label, colour and a value (or a gap) per x. */
export interface ChartSeries {
  label: string;
  colour: string;
  values: (number | null)[];
}

/** A colour per leg, stable for a key in both themes (mid-tone hues that read on dark and light panels). */
const PALETTE = ['#4aa3ff', '#f0a030', '#2fbf71', '#e0556a', '#a57cf0', '#3cc4c4', '#c9b23a', '#8f9bab'];
export function seriesColour(index: number): string {
  return PALETTE[index % PALETTE.length];
}
