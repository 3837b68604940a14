/**
 * The portfolio view: strategy-level accumulators (persisted PortfolioState) + the live positions.
 * Exposure counts a live position's per-leg notional on its instrument and on each leg's exchange until
 * it is closed (conservative); gross exposure counts both legs. Daily PnL is today's (UTC) realised PnL
 * plus what the open positions would realise now.
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { Portfolio, Position } from '../../shared/position.js';
import type { PortfolioState } from '../persistence/persistence.js';
import { utcDay } from './accounting.js';

export function computePortfolio(s: PortfolioState, live: Iterable<{ p: Position }>, nowMs: number): Portfolio {
  let reserved = 0;
  let unrealised = 0;
  let gross = 0;
  let open = 0;
  let stale = 0;
  const byInstrument: Record<string, number> = {};
  const byExchange: Partial<Record<Exchange, number>> = {};
  for (const { p } of live) {
    open++;
    if (p.markStale) stale++;
    reserved += p.long.marginUsd + p.short.marginUsd;
    unrealised += p.unrealisedPnlUsd;
    // Exposure counts the position's per-leg notional on each leg until it is closed (conservative).
    byInstrument[p.instrument] = (byInstrument[p.instrument] ?? 0) + p.notionalUsd;
    byExchange[p.long.exchange] = (byExchange[p.long.exchange] ?? 0) + p.notionalUsd;
    byExchange[p.short.exchange] = (byExchange[p.short.exchange] ?? 0) + p.notionalUsd;
    gross += 2 * p.notionalUsd;
  }
  const equity = s.startingCapitalUsd + s.realisedPnlUsd + unrealised;
  return {
    tsMs: nowMs,
    startingCapitalUsd: s.startingCapitalUsd,
    equityUsd: equity,
    availableCapitalUsd: equity - reserved,
    reservedMarginUsd: reserved,
    grossExposureUsd: gross,
    exposureByInstrument: byInstrument,
    exposureByExchange: byExchange,
    realisedPnlUsd: s.realisedPnlUsd,
    unrealisedPnlUsd: unrealised,
    feesPaidUsd: s.feesPaidUsd,
    fundingUsd: s.fundingUsd,
    // Today's realised PnL plus what the open positions would realise now.
    dailyPnlUsd: s.dailyRealisedPnlUsd + unrealised,
    openPositions: open,
    staleMarkPositions: stale,
    tradingState: s.tradingState,
  };
}

export function freshPortfolioState(startingCapitalUsd: number, nowMs: number): PortfolioState {
  return {
    startingCapitalUsd,
    realisedPnlUsd: 0,
    feesPaidUsd: 0,
    fundingUsd: 0,
    day: utcDay(nowMs),
    dailyRealisedPnlUsd: 0,
    tradingState: 'active',
    cooldownUntilMs: {},
    updatedMs: nowMs,
  };
}

/** Adds realised PnL (negative for costs) to the all-time and today's totals. */
export function creditRealised(s: PortfolioState, usd: number): void {
  s.realisedPnlUsd += usd;
  s.dailyRealisedPnlUsd += usd;
}

/** Books a fill's realised price PnL (null for an entry) and its fee. */
export function recordFill(s: PortfolioState, realisedPnlUsd: number | null, feeUsd: number): void {
  if (realisedPnlUsd !== null) creditRealised(s, realisedPnlUsd);
  s.feesPaidUsd += feeUsd;
  creditRealised(s, -feeUsd);
}

/** Books funding settled on positions. */
export function recordFunding(s: PortfolioState, usd: number): void {
  s.fundingUsd += usd;
  creditRealised(s, usd);
}

/** Starts today's PnL when `nowMs` is on a new UTC day; true when the state changed. */
export function rollDay(s: PortfolioState, nowMs: number): boolean {
  const day = utcDay(nowMs);
  if (day === s.day) return false;
  s.day = day;
  s.dailyRealisedPnlUsd = 0;
  return true;
}

/** An independent copy for persistence. */
export function copyPortfolioState(s: PortfolioState): PortfolioState {
  return { ...s, cooldownUntilMs: { ...s.cooldownUntilMs } };
}
