/**
 * Exit rules (config.exits) for one marked, open position. Checked in this order; the first that fires
 * names the exit: feed_down (a leg's venue feed is down — not merely no quote yet), then, only on
 * usable quotes for both legs whose latest quote is not quarantined, liquidation_risk, stop_loss, take_profit, spread_converged,
 * funding_flipped, max_holding_time. (manual and kill_switch come from outside; leg_failed from entry.)
 * PnL here is the position's net PnL: realised (funding − fees so far) + unrealised price PnL at marks.
 */
import type { Config } from '../../shared/config.js';
import type { ExitReason, Position } from '../../shared/position.js';
import { fundingPer8h } from './accounting.js';
import type { StrategyQuote } from './engine-view.js';

export interface ExitDecision {
  reason: ExitReason;
  detail: string;
}

export interface ExitContext {
  config: Config;
  nowMs: number;
  longQuote: StrategyQuote | null;
  shortQuote: StrategyQuote | null;
  /** Whether each leg's venue feed is down (connection state, not quote age). */
  longFeedDown: boolean;
  shortFeedDown: boolean;
}

/** Funding delta per 8 h the pair earns now (short rate − long rate, each normalised from its own interval). */
export function currentFundingDelta8h(p: Position): number {
  const per8h = (rate: number | undefined, interval: number | undefined) => fundingPer8h(rate ?? 0, interval ?? 8 * 3_600_000);
  return per8h(p.short.fundingRate, p.short.fundingIntervalMs) - per8h(p.long.fundingRate, p.long.fundingIntervalMs);
}

/** A usable quote whose venue's latest quote was not quarantined (what price-based rules may judge on). */
export function usableNow(q: StrategyQuote | null): boolean {
  return q !== null && q.usable && !q.quarantine;
}

/** Why a leg has no quote the exit rules may use, or null when it has one. */
export function unusableBecause(q: StrategyQuote | null): string | null {
  if (q?.quarantine) return `latest quote quarantined (${q.quarantine})`;
  return q?.usable ? null : 'no usable quote';
}

export function netPnlUsd(p: Position): number {
  return p.realisedPnlUsd + p.unrealisedPnlUsd;
}

export function exitDecision(p: Position, ctx: ExitContext): ExitDecision | null {
  const x = ctx.config.exits;
  const down = [
    ['long', p.long.exchange, ctx.longFeedDown],
    ['short', p.short.exchange, ctx.shortFeedDown],
  ].filter(([, , isDown]) => isDown);
  if (down.length > 0) {
    // Marks are stale while a feed is down: no price-based rule may fire on them.
    if (x.onFeedDown === 'hold') return null;
    return { reason: 'feed_down', detail: `feed down on ${down.map(([leg, ex]) => `${leg} leg (${ex})`).join(' and ')}` };
  }
  // A live feed without a usable quote for this instrument (none yet, or stale), or whose latest quote
  // is quarantined (its current price unknown): the marks are not current, so no price-based rule may
  // fire — no exit can be filled on a price nobody knows — and a missing quote is not a feed down.
  // The runner puts a warning on the position when this lasts (quoteWarning in runner.ts).
  if (!usableNow(ctx.longQuote) || !usableNow(ctx.shortQuote)) return null;
  if (x.minLiquidationDistancePct > 0) {
    const near = [p.long, p.short].find((l) => l.liquidationDistancePct < x.minLiquidationDistancePct);
    if (near)
      return {
        reason: 'liquidation_risk',
        detail: `${near.side} leg on ${near.exchange} is ${near.liquidationDistancePct.toFixed(2)} % from liquidation at ${near.liquidationPrice} (min ${x.minLiquidationDistancePct} %)`,
      };
  }
  const pnl = netPnlUsd(p);
  if (x.stopLossUsd > 0 && pnl <= -x.stopLossUsd) return { reason: 'stop_loss', detail: `net PnL ${pnl.toFixed(2)} <= -${x.stopLossUsd}` };
  if (x.takeProfitUsd > 0 && pnl >= x.takeProfitUsd) return { reason: 'take_profit', detail: `net PnL ${pnl.toFixed(2)} >= ${x.takeProfitUsd}` };
  if (p.currentSpreadBps <= x.exitSpreadBps)
    return { reason: 'spread_converged', detail: `close-side spread ${p.currentSpreadBps.toFixed(2)} bps <= ${x.exitSpreadBps} bps` };
  if (x.exitOnFundingFlip && (p.entryFundingDelta8h ?? 0) > 0) {
    const delta = currentFundingDelta8h(p);
    if (delta < 0) return { reason: 'funding_flipped', detail: `funding delta ${delta} per 8 h (was ${p.entryFundingDelta8h} at entry)` };
  }
  if (x.maxHoldingMs > 0 && ctx.nowMs - p.openedMs >= x.maxHoldingMs)
    return { reason: 'max_holding_time', detail: `held ${ctx.nowMs - p.openedMs} ms >= ${x.maxHoldingMs} ms` };
  return null;
}
