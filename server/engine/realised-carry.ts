/**
 * Realised funding figures for the detector (issue 13 §3), cached so the per-update path never scans
 * history: per leg, its realised average per 8 h over 24 h and 7 d; per pair, the stability of its carry
 * (carry-stats.ts). Every cached figure belongs to an epoch; the epoch moves on when the history view's
 * version changes (a settlement was added), when an hour boundary passes (the window slid) or when the view
 * is replaced, and a figure is recomputed on its first use in a new epoch. Between those, a query is two
 * comparisons and an array read.
 */
import type { FundingHistoryView, FundingLegRef } from '../funding/history-types.js';
import { realisedAverage8h } from '../funding/history-types.js';
import { realisedWindowFromMs } from '../funding/realised.js';
import type { FundingBasis } from '../../shared/opportunity.js';
import { CARRY_SETTLEMENTS, CARRY_STATS_LENGTH, pairCarryStats } from './carry-stats.js';
import type { InstrumentMap } from './instruments.js';
import { HOUR_MS } from './scoring.js';

/** The realised windows: index 0 = 24 h, 1 = 7 d. */
export const WINDOW_24H = 0;
export const WINDOW_7D = 1;
const WINDOW_MS = [24 * HOUR_MS, 7 * 24 * HOUR_MS] as const;
const WINDOWS = WINDOW_MS.length;

/** The window a funding basis reads (`current` shows the 24 h figures beside today's). */
export function basisWindow(basis: FundingBasis): number {
  return basis === 'avg7d' ? WINDOW_7D : WINDOW_24H;
}

export class RealisedCarry {
  private view: FundingHistoryView | null = null;
  /** Starts at 1: a zeroed epoch slot means "never computed". */
  private epoch = 1;
  private seenVersion = Number.NaN;
  private seenHour = Number.NaN;
  private readonly legRefs: Array<FundingLegRef | undefined> = [];
  // Per (id · WINDOWS + window): the epoch of the cached average, and the average (fraction per 8 h; NaN = no history).
  private legEpoch = new Float64Array(0);
  private legAvg = new Float64Array(0);
  // Per (pair · WINDOWS + window): the epoch of the cached stats, and the stats (CARRY_* fields).
  private pairEpoch = new Float64Array(0);
  private pairStats = new Float64Array(0);
  private readonly scratch = new Float64Array(CARRY_STATS_LENGTH);

  constructor(private readonly instruments: InstrumentMap) {}

  /** Replaces the history (null: realised figures are unknown). */
  setView(view: FundingHistoryView | null): void {
    this.view = view;
    this.epoch++;
    this.seenVersion = Number.NaN;
  }

  get hasView(): boolean {
    return this.view !== null;
  }

  /** The leg's realised average per 8 h over the window ending at nowMs (fraction); NaN = no history (or no view). */
  legAverage8h(id: number, window: number, nowMs: number): number {
    const view = this.view;
    if (view === null) return Number.NaN;
    this.refresh(view, nowMs);
    const slot = id * WINDOWS + window;
    if (slot >= this.legEpoch.length) this.growLegs(slot + 1);
    if (this.legEpoch[slot] !== this.epoch) {
      const avg = realisedAverage8h(view.settlements(this.legRef(id), realisedWindowFromMs(nowMs, WINDOW_MS[window]), nowMs));
      this.legAvg[slot] = avg === null ? Number.NaN : avg;
      this.legEpoch[slot] = this.epoch;
    }
    return this.legAvg[slot];
  }

  /**
   * One stability figure (`field`: CARRY_SETTLEMENTS, CARRY_EARNED_SHARE or CARRY_STDEV_BPS) of pair index
   * `pair` (long leg `longId`, short leg `shortId`) over the window ending at nowMs; NaN = unknown.
   */
  pairStat(pair: number, longId: number, shortId: number, window: number, nowMs: number, field: number): number {
    const view = this.view;
    if (view === null) return field === CARRY_SETTLEMENTS ? 0 : Number.NaN;
    this.refresh(view, nowMs);
    const slot = pair * WINDOWS + window;
    if (slot >= this.pairEpoch.length) this.growPairs(slot + 1);
    const base = slot * CARRY_STATS_LENGTH;
    if (this.pairEpoch[slot] !== this.epoch) {
      const from = realisedWindowFromMs(nowMs, WINDOW_MS[window]);
      pairCarryStats(view.settlements(this.legRef(longId), from, nowMs), view.settlements(this.legRef(shortId), from, nowMs), this.scratch);
      this.pairStats.set(this.scratch, base);
      this.pairEpoch[slot] = this.epoch;
    }
    return this.pairStats[base + field];
  }

  private refresh(view: FundingHistoryView, nowMs: number): void {
    const hour = Math.floor(nowMs / HOUR_MS);
    if (view.version !== this.seenVersion || hour !== this.seenHour) {
      this.seenVersion = view.version;
      this.seenHour = hour;
      this.epoch++;
    }
  }

  private legRef(id: number): FundingLegRef {
    const m = this.instruments;
    return (this.legRefs[id] ??= { instrument: m.instrumentOf(id), venue: m.exchangeOf(id), settle: m.settleOf(id) });
  }

  private growLegs(need: number): void {
    const cap = Math.max(need, this.legEpoch.length * 2, 256);
    this.legEpoch = grown(this.legEpoch, cap);
    this.legAvg = grown(this.legAvg, cap);
  }

  private growPairs(need: number): void {
    const cap = Math.max(need, this.pairEpoch.length * 2, 1024);
    this.pairEpoch = grown(this.pairEpoch, cap);
    this.pairStats = grown(this.pairStats, cap * CARRY_STATS_LENGTH);
  }
}

function grown(a: Float64Array, length: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(length);
  b.set(a);
  return b;
}
