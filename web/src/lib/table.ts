/** Columns, sorting, filtering and row marks of the opportunities table (pure functions). */
import type { Exchange } from '../../../shared/exchanges.js';
import type { Opportunity } from '../../../shared/opportunity.js';
import type { OpportunityRow } from './stream-store.js';

export type ColumnKey =
  | 'instrument'
  | 'route'
  | 'longAsk'
  | 'shortBid'
  | 'spreadBps'
  | 'fundingDelta8h'
  | 'nextFunding'
  | 'feesBps'
  | 'slippageBps'
  | 'projectedProfitBps'
  | 'projectedProfitUsd'
  | 'confidence'
  | 'age';

export interface Column {
  key: ColumnKey;
  label: string;
  title: string;
  numeric: boolean;
  /** Sort value at `serverNowMs`. */
  value(o: Opportunity, serverNowMs: number): number | string;
}

export function nextFundingMs(o: Opportunity): number {
  const times = [o.longNextFundingMs, o.shortNextFundingMs].filter((t) => Number.isFinite(t) && t > 0);
  return times.length > 0 ? Math.min(...times) : Number.POSITIVE_INFINITY;
}

export const COLUMNS: readonly Column[] = [
  { key: 'instrument', label: 'Instrument', title: 'Normalised instrument', numeric: false, value: (o) => o.instrument },
  { key: 'route', label: 'Long → Short', title: 'Buy on the long exchange at its ask, sell on the short exchange at its bid', numeric: false, value: (o) => `${o.longExchange}>${o.shortExchange}` },
  { key: 'longAsk', label: 'Long ask', title: 'Best ask on the long exchange', numeric: true, value: (o) => o.longAsk },
  { key: 'shortBid', label: 'Short bid', title: 'Best bid on the short exchange', numeric: true, value: (o) => o.shortBid },
  { key: 'spreadBps', label: 'Spread', title: 'Price spread (bps): (short bid − long ask) / long ask', numeric: true, value: (o) => o.spreadBps },
  { key: 'fundingDelta8h', label: 'Fund Δ 8h', title: 'Funding delta per 8 h (bps); positive = the pair earns funding', numeric: true, value: (o) => o.fundingDelta8h },
  { key: 'nextFunding', label: 'Next fund.', title: 'Time to the next funding event on either leg', numeric: true, value: (o, now) => nextFundingMs(o) - now },
  { key: 'feesBps', label: 'Fees', title: 'Taker fees, entry and exit of both legs (bps)', numeric: true, value: (o) => o.feesBps },
  { key: 'slippageBps', label: 'Slip.', title: 'Estimated entry slippage at the configured notional (bps)', numeric: true, value: (o) => o.slippageBps },
  { key: 'projectedProfitBps', label: 'Profit bps', title: 'Projected net profit (bps) = spread + expected funding − fees − slippage', numeric: true, value: (o) => o.projectedProfitBps },
  { key: 'projectedProfitUsd', label: 'Profit $', title: 'Projected net profit at the configured notional (USD)', numeric: true, value: (o) => o.projectedProfitUsd },
  { key: 'confidence', label: 'Conf.', title: 'Confidence score 0–100', numeric: true, value: (o) => o.confidence },
  { key: 'age', label: 'Age', title: 'Time since the opportunity opened', numeric: true, value: (o, now) => now - o.firstSeenMs },
];

export interface SortSpec {
  key: ColumnKey;
  dir: 'asc' | 'desc';
}

export const DEFAULT_SORT: SortSpec = { key: 'projectedProfitBps', dir: 'desc' };

/** Clicking a column: same column flips direction; a new numeric column starts descending, text ascending. */
export function toggleSort(current: SortSpec, key: ColumnKey): SortSpec {
  if (current.key === key) return { key, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  const col = COLUMNS.find((c) => c.key === key);
  return { key, dir: col?.numeric ? 'desc' : 'asc' };
}

export interface RowFilter {
  /** Substring of the instrument, case-insensitive. */
  instrument: string;
  /** Either leg on this exchange; '' = any. */
  exchange: Exchange | '';
  /** Minimum projected profit (bps); null = none. */
  minProfitBps: number | null;
}

export const EMPTY_FILTER: RowFilter = { instrument: '', exchange: '', minProfitBps: null };

export function matchesFilter(o: Opportunity, f: RowFilter): boolean {
  if (f.instrument && !o.instrument.toLowerCase().includes(f.instrument.trim().toLowerCase())) return false;
  if (f.exchange && o.longExchange !== f.exchange && o.shortExchange !== f.exchange) return false;
  if (f.minProfitBps !== null && Number.isFinite(f.minProfitBps) && !(o.projectedProfitBps >= f.minProfitBps)) return false;
  return true;
}

/** Filtered and sorted rows; ties break on id so the order is stable between updates. Closing rows keep their place. */
export function sortRows(rows: readonly OpportunityRow[], sort: SortSpec, filter: RowFilter, serverNowMs: number): OpportunityRow[] {
  const col = COLUMNS.find((c) => c.key === sort.key) ?? COLUMNS.find((c) => c.key === DEFAULT_SORT.key)!;
  const sign = sort.dir === 'asc' ? 1 : -1;
  const keyed = rows
    .filter((r) => matchesFilter(r.opportunity, filter))
    .map((r) => ({ r, v: col.value(r.opportunity, serverNowMs) }));
  keyed.sort((a, b) => {
    let c: number;
    if (typeof a.v === 'number' && typeof b.v === 'number') {
      const av = Number.isNaN(a.v) ? -Infinity : a.v;
      const bv = Number.isNaN(b.v) ? -Infinity : b.v;
      c = av === bv ? 0 : av < bv ? -1 : 1;
    } else c = String(a.v).localeCompare(String(b.v));
    return c !== 0 ? c * sign : a.r.id.localeCompare(b.r.id);
  });
  return keyed.map((k) => k.r);
}

/** Age of the older leg's quote now, from the ages the server sent and the time since. */
export function quoteAgeMs(o: Opportunity, serverNowMs: number): number {
  const atUpdate = Math.max(o.longQuoteAgeMs || 0, o.shortQuoteAgeMs || 0);
  return atUpdate + Math.max(0, serverNowMs - o.updatedMs);
}

/** A row is stale once its older quote has used up this share of the server's `staleAfterMs`. */
export const STALE_SHARE = 0.5;

export function isStale(o: Opportunity, serverNowMs: number, staleAfterMs: number): boolean {
  return quoteAgeMs(o, serverNowMs) >= staleAfterMs * STALE_SHARE;
}

/** Whether the row flashes now (its values changed within `flashMs`). */
export function isFlashing(row: OpportunityRow, localNowMs: number, flashMs = 500): boolean {
  return row.state === 'open' && row.direction !== 'none' && localNowMs - row.changedMs < flashMs;
}

/**
 * Keeps rows in a frozen order (ids) while the pointer is over the table, so a row does not move under the
 * cursor between aim and click. Rows not in the frozen order (new ones) follow in their sorted order;
 * rows gone since are dropped. Values keep updating.
 */
export function applyFrozenOrder(sorted: readonly OpportunityRow[], frozenIds: readonly string[]): OpportunityRow[] {
  const rank = new Map(frozenIds.map((id, i) => [id, i]));
  const kept = sorted.filter((r) => rank.has(r.id)).sort((a, b) => rank.get(a.id)! - rank.get(b.id)!);
  return [...kept, ...sorted.filter((r) => !rank.has(r.id))];
}
