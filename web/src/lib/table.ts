/** Columns, sorting, filtering and row marks of the opportunities table (pure functions). */
import type { Exchange } from '../../../shared/exchanges.js';
import type { Opportunity } from '../../../shared/opportunity.js';
import type { ClosedOpportunity } from '../../../shared/protocol.js';
import type { OpportunityRow } from './stream-store.js';

export type ColumnKey =
  | 'instrument'
  | 'route'
  | 'prices'
  | 'spreadBps'
  | 'legFunding'
  | 'nextFunding'
  | 'fundingDelta8h'
  | 'realisedDelta8h'
  | 'fundingAprPct'
  | 'breakEvenHours'
  | 'feesBps'
  | 'slippageBps'
  | 'capacityUsd'
  | 'projectedProfitBps'
  | 'netAprPct'
  | 'confidence'
  | 'age';

export interface Column {
  key: ColumnKey;
  label: string;
  /** Unit shown under the label ('' = none). */
  unit: string;
  title: string;
  numeric: boolean;
  /** Per-leg columns show two lines, the long leg above the short one. */
  perLeg: boolean;
  /**
   * Fixed width (px, padding included) so live values never resize the table; null = takes the rest
   * (the instrument). The fixed columns add up to `FIXED_COLUMNS_PX`.
   */
  widthPx: number | null;
  /**
   * A wider width (px) used when the table has room for it (`ROOMY_TABLE_PX`); absent = `widthPx` always.
   */
  roomyWidthPx?: number;
  /** Sort value at `serverNowMs`; null = the column does not sort. NaN sorts last. */
  value: ((o: Opportunity, serverNowMs: number) => number | string) | null;
}

export function nextFundingMs(o: Opportunity): number {
  const times = [o.longNextFundingMs, o.shortNextFundingMs].filter((t) => Number.isFinite(t) && t > 0);
  return times.length > 0 ? Math.min(...times) : Number.POSITIVE_INFINITY;
}

/** An optional figure as a sort value: absent = NaN (sorts last whichever the direction). */
const opt = (v: number | null | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN);

export const COLUMNS: readonly Column[] = [
  { key: 'instrument', label: 'Instrument', unit: '', title: 'Normalised instrument', numeric: false, perLeg: false, widthPx: null, value: (o) => o.instrument },
  // 118 px: the common display names, one per line, with a settle badge and the → / ⇄ mark; 142 px when the
  // table has room: the longest name ("Hyperliquid") with ⇄ and its USDC badge. Narrower, a long name is
  // cut with an ellipsis (the badge and the mark stay, the cell's title has the whole route).
  { key: 'route', label: 'Long', unit: '→ Short', title: 'Buy on the long exchange (above) at its ask, sell on the short exchange (below) at its bid', numeric: false, perLeg: true, widthPx: 118, roomyWidthPx: 142, value: (o) => `${o.longExchange}>${o.shortExchange}` },
  { key: 'prices', label: 'Ask / bid', unit: 'USD', title: 'Best ask on the long exchange (above), best bid on the short exchange (below), quote currency', numeric: true, perLeg: true, widthPx: 86, value: (o) => o.longAsk },
  { key: 'spreadBps', label: 'Spread', unit: 'bps', title: 'Price spread (bps): (short bid − long ask) / long ask', numeric: true, perLeg: false, widthPx: 64, value: (o) => o.spreadBps },
  { key: 'legFunding', label: 'Funding', unit: 'bps/int', title: 'Each leg’s funding rate per its own interval (bps; positive = longs pay), with the interval; P = the venue’s predicted rate', numeric: true, perLeg: true, widthPx: 90, value: null },
  { key: 'nextFunding', label: 'Next', unit: 'h:mm:ss', title: 'Time to each leg’s own next settlement (sorts by the nearer one)', numeric: true, perLeg: true, widthPx: 64, value: (o, now) => nextFundingMs(o) - now },
  { key: 'fundingDelta8h', label: 'Fund Δ', unit: 'bps/8h', title: 'Funding delta from current rates per 8 h (bps): short rate − long rate; positive = the pair earns funding', numeric: true, perLeg: false, widthPx: 59, value: (o) => o.fundingDelta8h },
  { key: 'realisedDelta8h', label: 'Real. Δ', unit: 'bps/8h', title: 'Realised funding delta per 8 h (bps) over the basis window, from settled rates; – = not enough history', numeric: true, perLeg: false, widthPx: 59, value: (o) => opt(o.realisedFundingDelta8h) },
  { key: 'fundingAprPct', label: 'APR', unit: '%', title: 'Funding delta annualised (simple, percent)', numeric: true, perLeg: false, widthPx: 58, value: (o) => o.fundingAprPct },
  { key: 'breakEvenHours', label: 'Break-even', unit: 'h', title: 'Hours of funding edge needed to pay back entry and exit costs; – = the funding edge does not pay them back', numeric: true, perLeg: false, widthPx: 80, value: (o) => opt(o.breakEvenHours) },
  { key: 'feesBps', label: 'Fees', unit: 'bps', title: 'Taker fees, entry and exit of both legs (bps)', numeric: true, perLeg: false, widthPx: 50, value: (o) => o.feesBps },
  { key: 'slippageBps', label: 'Slip.', unit: 'bps', title: 'Estimated slippage at the configured notional, entry and exit (bps); D = from order-book depth, T = from the touch', numeric: true, perLeg: false, widthPx: 60, value: (o) => o.slippageBps },
  { key: 'capacityUsd', label: 'Capacity', unit: 'USD', title: 'Largest notional at which the projected profit still reaches the minimum, on both books (USD); – = no fresh books', numeric: true, perLeg: false, widthPx: 66, value: (o) => opt(o.capacityUsd) },
  // Two lines, one quantity: bps above, the same at the configured notional in USD below (the order is the same).
  { key: 'projectedProfitBps', label: 'Profit', unit: 'bps · USD', title: 'Projected net profit (bps) = spread + expected funding − fees − slippage; below it, at the configured notional (USD)', numeric: true, perLeg: false, widthPx: 92, value: (o) => o.projectedProfitBps },
  { key: 'netAprPct', label: 'Net APR', unit: '%', title: 'Projected net profit annualised over the holding horizon (percent)', numeric: true, perLeg: false, widthPx: 60, value: (o) => opt(o.netAprPct) },
  { key: 'confidence', label: 'Conf.', unit: '%', title: 'Confidence score 0–100 %', numeric: true, perLeg: false, widthPx: 50, value: (o) => o.confidence },
  // 68 px: "59m 59s" with its padding.
  { key: 'age', label: 'Age', unit: 'h m s', title: 'Time since the opportunity opened', numeric: true, perLeg: false, widthPx: 68, value: (o, now) => now - o.firstSeenMs },
];

/** Columns a reader can sort by (the phone's sort menu lists these). */
export const SORTABLE_COLUMNS: readonly Column[] = COLUMNS.filter((c) => c.value !== null);

/**
 * Height of a table row (px, border included). Fixed so the virtualised body knows every row's place without
 * measuring: two lines (the long leg above the short one in per-leg columns), each `white-space: nowrap`.
 */
export const ROW_PX = 38;

/** Rows rendered beyond the visible ones at each end: keyboard focus and a short scroll never meet a blank. */
export const OVERSCAN_ROWS = 8;

/** Phone cards: a first guess at a card's height (each is measured once rendered), the gap between cards. */
export const CARD_ESTIMATE_PX = 140;
export const CARD_GAP_PX = 6;
/** Cards rendered beyond the visible ones: a flick of the thumb never meets a blank. */
export const OVERSCAN_CARDS = 10;

/** Sum of the fixed column widths: the instrument column gets what is left of the table's width. */
export const FIXED_COLUMNS_PX = COLUMNS.reduce((sum, c) => sum + (c.widthPx ?? 0), 0);

/**
 * The table's width at the narrowest desktop viewport (1280 px less the page's padding and the panel's border),
 * and what the instrument column keeps there: `FIXED_COLUMNS_PX` must leave it. Wider screens put the chart
 * beside the table only from 1720 px (App.svelte), where the table keeps about this width too.
 */
export const NARROWEST_TABLE_PX = 1258;
export const MIN_INSTRUMENT_PX = 130;

/** The table width (px) from which columns take their `roomyWidthPx` and the instrument still keeps its minimum. */
export const ROOMY_TABLE_PX = COLUMNS.reduce((sum, c) => sum + (c.roomyWidthPx ?? c.widthPx ?? 0), 0) + MIN_INSTRUMENT_PX;

/** A column's width (px) in a table `tableWidthPx` wide; null = takes the rest (the instrument). */
export function columnWidthPx(col: Column, tableWidthPx: number): number | null {
  return col.roomyWidthPx !== undefined && tableWidthPx >= ROOMY_TABLE_PX ? col.roomyWidthPx : col.widthPx;
}

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
  /**
   * Stability: minimum share of the window's settlements in which the pair earned, percent (0..100); null = none.
   * A pair without the figure (no settled history yet) fails a minimum.
   */
  minEarnedSharePct: number | null;
}

export const EMPTY_FILTER: RowFilter = { instrument: '', exchange: '', minProfitBps: null, minEarnedSharePct: null };

/** The minimum-profit box: empty = no minimum; anything but a finite number is invalid (marked, not applied). */
export function parseMinProfit(text: string): { valid: boolean; value: number | null } {
  const t = text.trim().replace(/^\u2212/, '-');
  if (t === '') return { valid: true, value: null };
  const n = Number(t);
  return Number.isFinite(n) ? { valid: true, value: n } : { valid: false, value: null };
}

/** The stability box: empty = no minimum; a number from 0 to 100 (percent); anything else is invalid. */
export function parseMinShare(text: string): { valid: boolean; value: number | null } {
  const parsed = parseMinProfit(text.replace(/%\s*$/, ''));
  if (parsed.value === null) return parsed;
  return parsed.value >= 0 && parsed.value <= 100 ? parsed : { valid: false, value: null };
}

export function isFilterActive(f: RowFilter): boolean {
  return f.instrument.trim() !== '' || f.exchange !== '' || f.minProfitBps !== null || f.minEarnedSharePct !== null;
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
  if (f.minEarnedSharePct !== null && Number.isFinite(f.minEarnedSharePct)) {
    const share = o.carryEarnedShare;
    // Compared as fractions with a hair of tolerance: 0.7 * 100 is 70.00000000000001.
    if (!(typeof share === 'number' && Number.isFinite(share) && share >= f.minEarnedSharePct / 100 - 1e-12)) return false;
  }
  return true;
}

/** Filtered and sorted rows; ties break on id so the order is stable between updates. Closing rows keep their place. */
export function sortRows(rows: readonly OpportunityRow[], sort: SortSpec, filter: RowFilter, serverNowMs: number): OpportunityRow[] {
  const col = SORTABLE_COLUMNS.find((c) => c.key === sort.key) ?? SORTABLE_COLUMNS.find((c) => c.key === DEFAULT_SORT.key)!;
  const value = col.value!;
  const sign = sort.dir === 'asc' ? 1 : -1;
  const keyed = rows
    .filter((r) => matchesFilter(r.opportunity, filter))
    .map((r) => ({ r, v: value(r.opportunity, serverNowMs) }));
  keyed.sort((a, b) => {
    let c: number;
    if (typeof a.v === 'number' && typeof b.v === 'number') {
      // A missing figure (NaN: an older record, a venue without the data) sorts last in either direction.
      const an = Number.isNaN(a.v);
      const bn = Number.isNaN(b.v);
      if (an || bn) return an === bn ? a.r.id.localeCompare(b.r.id) : an ? 1 : -1;
      c = a.v === b.v ? 0 : a.v < b.v ? -1 : 1;
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
