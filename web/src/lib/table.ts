/** Columns, sorting, filtering and row marks of the opportunities table (pure functions). */
import type { Exchange } from '../../../shared/exchanges.js';
import type { Opportunity } from '../../../shared/opportunity.js';
import type { ClosedOpportunity } from '../../../shared/protocol.js';
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
  /** Unit shown under the label ('' = none). */
  unit: string;
  title: string;
  numeric: boolean;
  /**
   * Fixed width (px, padding included) so live values never resize the table; null = takes the rest
   * (the instrument). The fixed columns add up to `FIXED_COLUMNS_PX`.
   */
  widthPx: number | null;
  /** Sort value at `serverNowMs`. */
  value(o: Opportunity, serverNowMs: number): number | string;
}

export function nextFundingMs(o: Opportunity): number {
  const times = [o.longNextFundingMs, o.shortNextFundingMs].filter((t) => Number.isFinite(t) && t > 0);
  return times.length > 0 ? Math.min(...times) : Number.POSITIVE_INFINITY;
}

export const COLUMNS: readonly Column[] = [
  { key: 'instrument', label: 'Instrument', unit: '', title: 'Normalised instrument', numeric: false, widthPx: null, value: (o) => o.instrument },
  { key: 'route', label: 'Long → Short', unit: '', title: 'Buy on the long exchange at its ask, sell on the short exchange at its bid', numeric: false, widthPx: 214, value: (o) => `${o.longExchange}>${o.shortExchange}` }, // 214 px: room for settle badges and the ⇄ mark between the two longest display names
  { key: 'longAsk', label: 'Long ask', unit: 'USD', title: 'Best ask on the long exchange (quote currency)', numeric: true, widthPx: 86, value: (o) => o.longAsk },
  { key: 'shortBid', label: 'Short bid', unit: 'USD', title: 'Best bid on the short exchange (quote currency)', numeric: true, widthPx: 86, value: (o) => o.shortBid },
  { key: 'spreadBps', label: 'Spread', unit: 'bps', title: 'Price spread (bps): (short bid − long ask) / long ask', numeric: true, widthPx: 68, value: (o) => o.spreadBps },
  { key: 'fundingDelta8h', label: 'Fund Δ', unit: 'bps/8h', title: 'Funding delta per 8 h (bps); positive = the pair earns funding', numeric: true, widthPx: 70, value: (o) => o.fundingDelta8h },
  { key: 'nextFunding', label: 'Funding in', unit: 'h:mm:ss', title: 'Time to the next funding event on either leg', numeric: true, widthPx: 80, value: (o, now) => nextFundingMs(o) - now },
  { key: 'feesBps', label: 'Fees', unit: 'bps', title: 'Taker fees, entry and exit of both legs (bps)', numeric: true, widthPx: 56, value: (o) => o.feesBps },
  { key: 'slippageBps', label: 'Slip.', unit: 'bps', title: 'Estimated entry slippage at the configured notional (bps)', numeric: true, widthPx: 56, value: (o) => o.slippageBps },
  { key: 'projectedProfitBps', label: 'Profit', unit: 'bps', title: 'Projected net profit (bps) = spread + expected funding − fees − slippage', numeric: true, widthPx: 70, value: (o) => o.projectedProfitBps },
  { key: 'projectedProfitUsd', label: 'Profit', unit: 'USD', title: 'Projected net profit at the configured notional (USD)', numeric: true, widthPx: 92, value: (o) => o.projectedProfitUsd },
  { key: 'confidence', label: 'Conf.', unit: '%', title: 'Confidence score 0–100 %', numeric: true, widthPx: 56, value: (o) => o.confidence },
  { key: 'age', label: 'Age', unit: 'h m s', title: 'Time since the opportunity opened', numeric: true, widthPx: 64, value: (o, now) => now - o.firstSeenMs },
];

/**
 * Height of a table row (px, border included). Fixed so the virtualised body knows every row's place without
 * measuring; every cell is one line (`white-space: nowrap`), tags included.
 */
export const ROW_PX = 26;

/** Rows rendered beyond the visible ones at each end: keyboard focus and a short scroll never meet a blank. */
export const OVERSCAN_ROWS = 8;

/** Phone cards: a first guess at a card's height (each is measured once rendered), the gap between cards. */
export const CARD_ESTIMATE_PX = 140;
export const CARD_GAP_PX = 6;
/** Cards rendered beyond the visible ones: a flick of the thumb never meets a blank. */
export const OVERSCAN_CARDS = 10;

/** Sum of the fixed column widths: the instrument column gets what is left of the table's width. */
export const FIXED_COLUMNS_PX = COLUMNS.reduce((sum, c) => sum + (c.widthPx ?? 0), 0);

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
  /** Case-insensitive: a whole instrument key (`S-PERP`) matches that instrument only, other text any key containing it. */
  instrument: string;
  /** Either leg on this exchange; '' = any. */
  exchange: Exchange | '';
  /** Minimum projected profit (bps); null = none. */
  minProfitBps: number | null;
}

export const EMPTY_FILTER: RowFilter = { instrument: '', exchange: '', minProfitBps: null };

/** The minimum-profit box: empty = no minimum; anything but a finite number is invalid (marked, not applied). */
export function parseMinProfit(text: string): { valid: boolean; value: number | null } {
  const t = text.trim().replace(/^\u2212/, '-');
  if (t === '') return { valid: true, value: null };
  const n = Number(t);
  return Number.isFinite(n) ? { valid: true, value: n } : { valid: false, value: null };
}

export function isFilterActive(f: RowFilter): boolean {
  return f.instrument.trim() !== '' || f.exchange !== '' || f.minProfitBps !== null;
}

/**
 * The count beside the title: "x of N" while a filter is active, else "N". `totalOpen` is the server's count
 * of open opportunities when the stream itself is filtered (the table then never sees the hidden rows);
 * null when the table holds them all.
 */
export function countLabel(shown: number, openHere: number, totalOpen: number | null, filterActive: boolean): string {
  if (!filterActive) return String(openHere);
  return `${shown} of ${Math.max(openHere, totalOpen ?? 0)}`;
}

/** A whole instrument key typed in the filter (`s-perp`), upper-cased; null for any other text. */
export function wholeKey(text: string): string | null {
  const t = text.trim().toUpperCase();
  return /^[A-Z0-9]+-PERP$/.test(t) ? t : null;
}

/** Instrument filter text: a whole key selects that instrument (`S-PERP` is not `ARS-PERP`), other text is a substring. */
export function matchesInstrument(instrument: string, text: string): boolean {
  const key = wholeKey(text);
  if (key !== null) return instrument === key;
  return instrument.toLowerCase().includes(text.trim().toLowerCase());
}

export function matchesFilter(o: Opportunity, f: RowFilter): boolean {
  if (f.instrument && !matchesInstrument(o.instrument, f.instrument)) return false;
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

/** The pointer holds the order only while it moves: resting this long on the table lets the order go. */
export const POINTER_IDLE_MS = 3000;

/**
 * Whether the pointer holds the display order: it is over the rows and moved within `idleMs`. A pointer left
 * resting on the table (the reader went away, or is watching without reading a row) must not freeze the
 * table: closed rows would stay faded in place, Recently Closed would never update, new rows would pile up.
 */
export function pointerHolds(pointerInside: boolean, lastPointerMoveMs: number, nowMs: number, idleMs = POINTER_IDLE_MS): boolean {
  return pointerInside && nowMs - lastPointerMoveMs < idleMs;
}

/**
 * The order the reader sees. Live order changes many times a second; the display takes it at most once per
 * `minIntervalMs`, never while `held` (a moving pointer or keyboard focus in the table, see `pointerHolds`), and at once when the reader
 * changes the sort or filter (`viewKey`). Between reorders rows keep their slots and show fresh values; new
 * rows join at the bottom. A closing row keeps its slot (it fades there), also across reorders, and leaves
 * only at a reorder after the store dropped it: its neighbours never move while it fades.
 */
export class DisplayOrder {
  private rows: OpportunityRow[] | null = null;
  private viewKey = '';
  private reorderedMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly minIntervalMs = 1000) {}

  next(live: readonly OpportunityRow[], nowMs: number, held: boolean, viewKey: string): OpportunityRow[] {
    const prev = this.rows;
    const forced = prev === null || viewKey !== this.viewKey;
    let out: OpportunityRow[];
    if (forced || (!held && nowMs - this.reorderedMs >= this.minIntervalMs)) {
      out = forced ? live.slice() : reorderKeepingClosing(prev, live);
      if (forced || !sameIds(prev, out)) this.reorderedMs = nowMs;
    } else {
      out = holdSlots(prev, live);
    }
    this.rows = out;
    this.viewKey = viewKey;
    return out;
  }
}

function sameIds(a: readonly OpportunityRow[], b: readonly OpportunityRow[]): boolean {
  return a.length === b.length && a.every((r, i) => r.id === b[i].id);
}

/** Previous slots with fresh values; rows gone since stay as closing ghosts; new rows appended in live order. */
function holdSlots(prev: readonly OpportunityRow[], live: readonly OpportunityRow[]): OpportunityRow[] {
  const byId = new Map(live.map((r) => [r.id, r]));
  const out = prev.map((r) => byId.get(r.id) ?? (r.state === 'closing' ? r : { ...r, state: 'closing' as const }));
  const shown = new Set(prev.map((r) => r.id));
  for (const r of live) if (!shown.has(r.id)) out.push(r);
  return out;
}

/** Live order, except closing rows that were on screen: they stay in their previous slot. */
function reorderKeepingClosing(prev: readonly OpportunityRow[], live: readonly OpportunityRow[]): OpportunityRow[] {
  const byId = new Map(live.map((r) => [r.id, r]));
  const pinned: { slot: number; row: OpportunityRow }[] = [];
  prev.forEach((r, slot) => {
    const now = byId.get(r.id);
    if (now && now.state === 'closing') pinned.push({ slot, row: now });
  });
  const pinnedIds = new Set(pinned.map((p) => p.row.id));
  const out = live.filter((r) => !pinnedIds.has(r.id));
  for (const { slot, row } of pinned) out.splice(Math.min(slot, out.length), 0, row);
  return out;
}

/**
 * Recently Closed without the closings still fading in the table: a closed row first fades in its slot, then
 * moves to the list (newest first; only the newest closing of an id can still be fading).
 */
export function settledClosed(closed: readonly ClosedOpportunity[], rows: readonly OpportunityRow[]): ClosedOpportunity[] {
  const fading = new Set(rows.filter((r) => r.state === 'closing').map((r) => r.id));
  if (fading.size === 0) return closed.slice();
  const skipped = new Set<string>();
  return closed.filter((c) => {
    const id = c.opportunity.id;
    if (!fading.has(id) || skipped.has(id)) return true;
    skipped.add(id);
    return false;
  });
}
