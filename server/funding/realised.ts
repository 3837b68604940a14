/**
 * The funding board's realised averages from the funding history: per leg, realisedAverage8h over the
 * settlements in (now − window, now] for 24 h, 3 d, 7 d and 30 d, in bps per 8 h (shared/funding.ts).
 * A window with no settlement of known interval is null. Also the leg's latest settlement (the board's
 * last settled rate until its own tracker books one).
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { RealisedFunding } from '../../shared/funding.js';
import type { SettleCurrency } from '../../shared/instrument-key.js';
import type { RealisedSource } from './board.js';
import { realisedAverage8h, type FundingHistoryView, type SettledFunding } from './history-types.js';
import { MAX_DERIVED_INTERVAL_MS } from './history-points.js';

const HOUR_MS = 3_600_000;
export const REALISED_WINDOWS_MS = { avg24h: 24 * HOUR_MS, avg3d: 72 * HOUR_MS, avg7d: 168 * HOUR_MS, avg30d: 720 * HOUR_MS } as const;

/**
 * First ms of the realised window ending at nowMs: the window is (nowMs − windowMs, nowMs], so a settlement
 * exactly windowMs ago is out and a 24 h window of an 8 h leg holds 3 settlements (24 h of intervals), not 4.
 * Every realised figure (board, detector) uses it, so they agree.
 */
export function realisedWindowFromMs(nowMs: number, windowMs: number): number {
  return nowMs - windowMs + 1;
}

/** Realised average of one leg over (nowMs − windowMs, nowMs], bps per 8 h; null = no settlement. */
export function realisedBps8h(view: FundingHistoryView, leg: { instrument: string; venue: Exchange; settle: SettleCurrency }, nowMs: number, windowMs: number): number | null {
  const avg = realisedAverage8h(view.settlements(leg, realisedWindowFromMs(nowMs, windowMs), nowMs));
  return avg === null ? null : avg * 1e4;
}

export function historyRealisedSource(view: FundingHistoryView): RealisedSource {
  return {
    name: 'funding-history',
    realised(instrument: string, venue: Exchange, settle: SettleCurrency, nowMs: number): RealisedFunding {
      const leg = { instrument, venue, settle };
      return {
        avg24h: realisedBps8h(view, leg, nowMs, REALISED_WINDOWS_MS.avg24h),
        avg3d: realisedBps8h(view, leg, nowMs, REALISED_WINDOWS_MS.avg3d),
        avg7d: realisedBps8h(view, leg, nowMs, REALISED_WINDOWS_MS.avg7d),
        avg30d: realisedBps8h(view, leg, nowMs, REALISED_WINDOWS_MS.avg30d),
      };
    },
    lastSettled(instrument: string, venue: Exchange, settle: SettleCurrency, nowMs: number): SettledFunding | null {
      // Every venue settles at least daily: the last day holds the latest settlement (and keeps the read short).
      const recent = view.settlements({ instrument, venue, settle }, nowMs - MAX_DERIVED_INTERVAL_MS, nowMs);
      return recent[recent.length - 1] ?? null;
    },
  };
}
