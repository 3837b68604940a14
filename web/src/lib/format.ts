/** Number and time formatting for the tables. Missing or non-finite values render as an en dash. */
import { venueDisplayName } from '../../../shared/exchanges.js';
import type { OpportunityCloseReason } from '../../../shared/opportunity.js';

const DASH = '–';

function finite(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * One `Intl.NumberFormat` per digit count, built once: `toLocaleString` with options builds a new formatter on
 * every call, which at hundreds of cells per frame was the dashboard's most expensive function.
 */
const fixedFormats = new Map<string, Intl.NumberFormat>();

function fixed(v: number, minDigits: number, maxDigits = minDigits): string {
  const key = `${minDigits}|${maxDigits}`;
  let f = fixedFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: minDigits, maximumFractionDigits: maxDigits });
    fixedFormats.set(key, f);
  }
  return f.format(v);
}

/** Prices with enough significant digits for cheap coins, grouped for big ones. */
export function fmtPrice(v: number | null | undefined): string {
  if (!finite(v)) return DASH;
  const abs = Math.abs(v);
  const digits = abs >= 1000 ? 2 : abs >= 1 ? 4 : abs >= 0.01 ? 6 : 8;
  return fixed(v, digits);
}

export function fmtBps(v: number | null | undefined, digits = 2): string {
  return finite(v) ? v.toFixed(digits) : DASH;
}

export function fmtSignedBps(v: number | null | undefined, digits = 2): string {
  if (!finite(v)) return DASH;
  return `${v > 0 ? '+' : ''}${v.toFixed(digits)}`;
}

export function fmtUsd(v: number | null | undefined, digits = 2): string {
  if (!finite(v)) return DASH;
  const s = fixed(Math.abs(v), digits);
  return `${v < 0 ? '−' : ''}$${s}`;
}

export function fmtSignedUsd(v: number | null | undefined, digits = 2): string {
  if (!finite(v)) return DASH;
  return `${v > 0 ? '+' : ''}${fmtUsd(v, digits)}`;
}

export function fmtNumber(v: number | null | undefined, digits = 0): string {
  return finite(v) ? fixed(v, digits) : DASH;
}

export function fmtQty(v: number | null | undefined): string {
  if (!finite(v)) return DASH;
  return fixed(v, 0, Math.abs(v) >= 100 ? 2 : 6);
}

/** Compact duration: 850ms, 12.3s, 4m 05s, 3h 12m, 2d 4h. */
export function fmtDuration(ms: number | null | undefined): string {
  if (!finite(ms)) return DASH;
  const neg = ms < 0;
  const a = Math.abs(ms);
  let s: string;
  if (a < 1000) s = `${Math.round(a)}ms`;
  else if (a < 60_000) s = `${(a / 1000).toFixed(a < 10_000 ? 1 : 0)}s`;
  else if (a < 3_600_000) s = `${Math.floor(a / 60_000)}m ${String(Math.floor((a % 60_000) / 1000)).padStart(2, '0')}s`;
  else if (a < 86_400_000) s = `${Math.floor(a / 3_600_000)}h ${String(Math.floor((a % 3_600_000) / 60_000)).padStart(2, '0')}m`;
  else s = `${Math.floor(a / 86_400_000)}d ${Math.floor((a % 86_400_000) / 3_600_000)}h`;
  return neg ? `−${s}` : s;
}

/** Countdown to a funding time: "1:23:45" or "4:05"; "now" when due. */
export function fmtCountdown(ms: number | null | undefined): string {
  if (!finite(ms)) return DASH;
  if (ms <= 0) return 'now';
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${m}:${ss}`;
}

/** A funding interval as a badge: "1h", "4h", "8h" (or "30m", "1.5h" for odd intervals); "?" when unknown. */
export function intervalBadge(intervalMs: number | null | undefined): string {
  if (!finite(intervalMs) || !(intervalMs > 0)) return '?';
  const h = intervalMs / 3_600_000;
  if (h < 1) return `${Math.round(h * 60)}m`;
  return `${Number.isInteger(h) ? h : h.toFixed(1)}h`;
}

/** A signed percentage, one decimal below 1000 and none above: "+12.3", "-4.0", "+2694" (the % is in the header). */
export function fmtSignedPct(v: number | null | undefined): string {
  if (!finite(v)) return DASH;
  const text = Math.abs(v) < 999.95 ? v.toFixed(1) : Math.round(v).toString();
  return v > 0 ? `+${text}` : text;
}

/** Hours with one decimal below 100, whole hours above ("12.5", "340"); a dash for null (no payback). */
export function fmtHours(v: number | null | undefined): string {
  if (!finite(v)) return DASH;
  return Math.abs(v) < 100 ? v.toFixed(1) : fixed(Math.round(v), 0);
}

/** USD amounts in a narrow cell: "$950", "$12.3k", "$1.25M", "$3.1B". */
export function fmtCompactUsd(v: number | null | undefined): string {
  if (!finite(v)) return DASH;
  const a = Math.abs(v);
  const sign = v < 0 ? '−' : '';
  if (a < 999.5) return `${sign}$${Math.round(a)}`;
  const [div, suffix] = a < 1e6 ? [1e3, 'k'] : a < 1e9 ? [1e6, 'M'] : [1e9, 'B'];
  const x = a / div;
  return `${sign}$${x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : Math.round(x)}${suffix}`;
}

export function fmtMicros(us: number | null | undefined): string {
  if (!finite(us)) return DASH;
  if (us < 1000) return `${us < 10 ? us.toFixed(1) : Math.round(us)} µs`;
  return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
}

// hourCycle h23, not hour12: false: the latter lets some engines print midnight as 24:00.
const CLOCK = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const CLOCK_HM = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const DAY = new Intl.DateTimeFormat('en-GB', { day: '2-digit', month: 'short' });

/** Local wall-clock time, 24-hour: "17:05:09". */
export function fmtClock(epochMs: number | null | undefined): string {
  if (!finite(epochMs)) return DASH;
  return CLOCK.format(epochMs);
}

/**
 * Labels of a time axis (uPlot splits, epoch seconds), 24-hour: seconds only when the ticks are closer than a
 * minute, the date on the first tick of a new day when ticks are hours apart.
 */
export function fmtTimeTicks(splitsSec: readonly number[], spacingSec: number): string[] {
  let lastDay = '';
  return splitsSec.map((s) => {
    const ms = s * 1000;
    if (!finite(ms)) return '';
    if (spacingSec < 60) return CLOCK.format(ms);
    const hm = CLOCK_HM.format(ms);
    if (spacingSec < 3600) return hm;
    const day = DAY.format(ms);
    const label = day !== lastDay ? `${day} ${hm}` : hm;
    lastDay = day;
    return label;
  });
}

/** Age since a past server time, on the server clock; never negative (clocks and rounding can cross). */
export function ageSince(serverNowMs: number, thenServerMs: number | null | undefined): number | null {
  if (!finite(thenServerMs) || !finite(serverNowMs)) return null;
  return Math.max(0, serverNowMs - thenServerMs);
}

export function signClass(v: number | null | undefined): string {
  if (!finite(v) || v === 0) return '';
  return v > 0 ? 'pos' : 'neg';
}

/** Display name of a venue, from the venue registry in shared/. */
export function exName(exchange: string): string {
  return venueDisplayName(exchange);
}

/**
 * Close reasons that say the data was wrong or missing (a stale or implausible price, a feed down), not that
 * the market moved: Recently Closed tags them as warnings. A Record, so a new reason must be classed here.
 */
const WARNING_CLOSE_REASONS: Record<OpportunityCloseReason, boolean> = {
  spread_below_min: false,
  funding_below_min: false,
  confidence_below_min: false,
  unprofitable: false,
  config_changed: false,
  stale_quote: true,
  feed_down: true,
  spread_implausible: true,
  quote_quarantined: true,
  instrument_delisted: true,
};

export function isWarningCloseReason(reason: OpportunityCloseReason): boolean {
  return WARNING_CLOSE_REASONS[reason] ?? false;
}

/** `spread_implausible` → `spread implausible`. */
export function closeReasonLabel(reason: string): string {
  return reason.replace(/_/g, ' ');
}
