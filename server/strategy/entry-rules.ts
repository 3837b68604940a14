/**
 * Entry rules (config.strategy) and risk limits (config.risk) for one candidate opportunity. The first
 * rule that fails names the rejection; the order below is the order they are checked. USD limits set
 * to 0 are off (as `dailyLossLimitUsd` documents); `maxOpenPositions` 0 means no positions.
 */
import type { Config } from '../../shared/config.js';
import type { Exchange } from '../../shared/exchanges.js';
import { SETTLE_CURRENCIES, type Opportunity } from '../../shared/opportunity.js';
import type { TradingState } from '../../shared/position.js';
import type { StrategyQuote } from './engine-view.js';

export const REJECTION_REASONS = [
  'trading_reducing',
  'trading_halted',
  'daily_loss_limit',
  'instrument_busy',
  'cooldown',
  'too_young',
  'profit_below_min',
  'confidence_below_min',
  'no_quote',
  'quote_unusable',
  /** A leg's venue's latest quote is quarantined: its current price is unknown. */
  'quote_quarantined',
  'quote_too_old',
  'notional_exceeded',
  /** The opportunity's capacityUsd (depth) is below the smallest entry worth making. */
  'capacity_below_min',
  'max_open_positions',
  'max_notional_instrument',
  'max_notional_exchange',
  'max_total_exposure',
  'insufficient_capital',
  'entry_failed',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export interface Rejection {
  reason: RejectionReason;
  detail: string;
}

/** The book as the rules see it: live (opening/open/closing) positions only. */
export interface EntryContext {
  config: Config;
  nowMs: number;
  tradingState: TradingState;
  cooldownUntilMs: Readonly<Record<string, number>>;
  /** Instruments with a live position. */
  busyInstruments: ReadonlySet<string>;
  openPositions: number;
  /** Per-leg entry notional summed per instrument (one leg per position). */
  exposureByInstrument: Readonly<Record<string, number>>;
  exposureByExchange: Readonly<Partial<Record<Exchange, number>>>;
  grossExposureUsd: number;
  dailyPnlUsd: number;
  availableCapitalUsd: number;
  /** Read only when the cheaper rules passed. */
  /** A leg's latest quote: `settle` defaults to USDT. */
  quote: (instrument: string, exchange: Exchange, settle?: string) => StrategyQuote | null;
}

const EPS = 1e-9;
const usd = (v: number) => v.toFixed(2);

/**
 * The smallest position opened, as a share of strategy.notionalUsd: when capacity or a risk limit leaves
 * less than this, the entry is rejected (a sliver of the intended trade is not the trade that was scored).
 */
export const MIN_ENTRY_SHARE = 0.1;

/** What limited a new position's size (the rejection reason when the size is below the minimum). */
export type SizeLimit = 'notional' | 'capacity_below_min' | 'max_notional_instrument' | 'max_notional_exchange' | 'max_total_exposure' | 'insufficient_capital';

export interface EntrySize {
  /** Per-leg notional (USD) to open: min(strategy.notionalUsd, capacity, risk headroom). */
  notionalUsd: number;
  limitedBy: SizeLimit;
  /** Why, for a rejection's detail. */
  detail: string;
}

/**
 * A new position's per-leg notional: the configured notional, less when the opportunity's depth capacity
 * (capacityUsd; null or absent = no books, no cap) or the room left under a risk limit is smaller.
 * Limits set to 0 are off. Room: per instrument and per exchange (each leg adds its notional), half the
 * gross room (both legs count), and the margin available at the configured leverage for both legs.
 */
export function entrySize(opp: Opportunity, ctx: EntryContext): EntrySize {
  const { strategy, risk } = ctx.config;
  let size: EntrySize = { notionalUsd: strategy.notionalUsd, limitedBy: 'notional', detail: `strategy.notionalUsd ${usd(strategy.notionalUsd)}` };
  const cap = (room: number, limitedBy: SizeLimit, detail: string) => {
    if (room < size.notionalUsd) size = { notionalUsd: Math.max(0, room), limitedBy, detail };
  };
  if (typeof opp.capacityUsd === 'number') cap(opp.capacityUsd, 'capacity_below_min', `capacity ${usd(opp.capacityUsd)} on the books`);
  if (risk.maxNotionalPerInstrumentUsd > 0) {
    const used = ctx.exposureByInstrument[opp.instrument] ?? 0;
    cap(risk.maxNotionalPerInstrumentUsd - used, 'max_notional_instrument', `${opp.instrument} has ${usd(used)} of ${usd(risk.maxNotionalPerInstrumentUsd)}`);
  }
  if (risk.maxNotionalPerExchangeUsd > 0) {
    for (const ex of [opp.longExchange, opp.shortExchange]) {
      const used = ctx.exposureByExchange[ex] ?? 0;
      cap(risk.maxNotionalPerExchangeUsd - used, 'max_notional_exchange', `${ex} has ${usd(used)} of ${usd(risk.maxNotionalPerExchangeUsd)}`);
    }
  }
  if (risk.maxTotalExposureUsd > 0)
    cap((risk.maxTotalExposureUsd - ctx.grossExposureUsd) / 2, 'max_total_exposure', `gross exposure ${usd(ctx.grossExposureUsd)} of ${usd(risk.maxTotalExposureUsd)}`);
  cap((ctx.availableCapitalUsd * strategy.leverage) / 2, 'insufficient_capital', `${usd(ctx.availableCapitalUsd)} margin available at ${strategy.leverage}x`);
  return size;
}

/**
 * The BASE quantity bought on the long leg and sold on the short leg (delta-neutral): the configured
 * notional at the HIGHER of the two entry prices (long ask, short bid), so neither leg's notional
 * exceeds the configured one. `sizingRejection` checks it against the venues' consensus as well.
 */
export function entryQuantity(notionalUsd: number, longQuote: Pick<StrategyQuote, 'ask'>, shortQuote: Pick<StrategyQuote, 'bid'>): number {
  return notionalUsd / Math.max(longQuote.ask, shortQuote.bid);
}

/** Median of the usable mids of `instrument` on `exchanges` (the venues' consensus), or null when none is usable. */
export function consensusMid(instrument: string, exchanges: readonly Exchange[], quote: EntryContext['quote']): number | null {
  const mids: number[] = [];
  for (const ex of exchanges) {
    for (const settle of SETTLE_CURRENCIES) {
      // A venue listing the instrument in USDT and USDC counts once (its first usable leg).
      const q = quote(instrument, ex, settle);
      if (q && q.usable && q.bid > 0 && q.ask > q.bid) {
        mids.push((q.bid + q.ask) / 2);
        break;
      }
    }
  }
  if (mids.length === 0) return null;
  mids.sort((a, b) => a - b);
  const m = mids.length >> 1;
  return mids.length % 2 === 1 ? mids[m] : (mids[m - 1] + mids[m]) / 2;
}

/**
 * Sizing uses BOTH legs: the quantity (notional / max(long ask, short bid)) times each leg's price, and
 * times the consensus mid of every configured venue, must not exceed the notional by more than
 * strategy.notionalTolerancePct. By construction neither leg exceeds it; the consensus catches two legs
 * that are both far below the other venues (sized on a low price, the position would be worth a
 * multiple of the notional at the market's price: 7 ETH at $142 against $1,000).
 */
export function sizingRejection(opp: Opportunity, longQuote: StrategyQuote, shortQuote: StrategyQuote, ctx: EntryContext, n = ctx.config.strategy.notionalUsd): Rejection | null {
  const limit = n * (1 + ctx.config.strategy.notionalTolerancePct / 100);
  const qty = entryQuantity(n, longQuote, shortQuote);
  const consensus = consensusMid(opp.instrument, ctx.config.market.exchanges, ctx.quote);
  const refs: Array<[string, number]> = [
    [`the long ask ${longQuote.ask} on ${opp.longExchange}`, longQuote.ask],
    [`the short bid ${shortQuote.bid} on ${opp.shortExchange}`, shortQuote.bid],
  ];
  if (consensus !== null) refs.push([`the consensus mid ${consensus}`, consensus]);
  for (const [what, price] of refs) {
    const notional = qty * price;
    if (!(notional <= limit + EPS))
      return {
        reason: 'notional_exceeded',
        detail: `${qty} sized on ${usd(n)} at ${Math.max(longQuote.ask, shortQuote.bid)} is worth ${usd(notional)} at ${what} > ${usd(n)} + ${ctx.config.strategy.notionalTolerancePct} %`,
      };
  }
  return null;
}

/** Passes when the opportunity has lived `minOpportunityAgeMs` OR seen `minOpportunityUpdates` (0 = that rule off). */
export function oldEnough(opp: Opportunity, nowMs: number, minAgeMs: number, minUpdates: number): boolean {
  if (minAgeMs <= 0 && minUpdates <= 0) return true;
  return (minAgeMs > 0 && nowMs - opp.firstSeenMs >= minAgeMs) || (minUpdates > 0 && opp.updateCount >= minUpdates);
}

export function entryRejection(opp: Opportunity, ctx: EntryContext): Rejection | null {
  const { strategy, risk } = ctx.config;
  if (ctx.tradingState === 'reducing') return { reason: 'trading_reducing', detail: 'trading state is reducing: exits only' };
  if (ctx.tradingState === 'halted') return { reason: 'trading_halted', detail: 'trading is halted' };
  if (risk.dailyLossLimitUsd > 0 && ctx.dailyPnlUsd <= -risk.dailyLossLimitUsd)
    return { reason: 'daily_loss_limit', detail: `daily PnL ${usd(ctx.dailyPnlUsd)} reached the limit -${usd(risk.dailyLossLimitUsd)}` };
  if (ctx.busyInstruments.has(opp.instrument)) return { reason: 'instrument_busy', detail: `a position on ${opp.instrument} is already live` };
  const until = ctx.cooldownUntilMs[opp.instrument] ?? 0;
  if (ctx.nowMs < until) return { reason: 'cooldown', detail: `${opp.instrument} cools down for ${until - ctx.nowMs} ms more` };
  if (!oldEnough(opp, ctx.nowMs, strategy.minOpportunityAgeMs, strategy.minOpportunityUpdates))
    return {
      reason: 'too_young',
      detail: `lived ${ctx.nowMs - opp.firstSeenMs} ms / ${opp.updateCount} updates (needs ${strategy.minOpportunityAgeMs} ms or ${strategy.minOpportunityUpdates} updates)`,
    };
  if (opp.projectedProfitBps < strategy.minProfitBps)
    return { reason: 'profit_below_min', detail: `projected ${opp.projectedProfitBps.toFixed(2)} bps < ${strategy.minProfitBps} bps` };
  if (opp.confidence < strategy.minConfidence)
    return { reason: 'confidence_below_min', detail: `confidence ${opp.confidence.toFixed(1)} < ${strategy.minConfidence}` };
  const legQuotes: StrategyQuote[] = [];
  for (const [leg, ex, settle] of [
    ['long', opp.longExchange, opp.longSettle],
    ['short', opp.shortExchange, opp.shortSettle],
  ] as const) {
    const q = ctx.quote(opp.instrument, ex, settle);
    if (!q) return { reason: 'no_quote', detail: `no ${leg} quote on ${ex}` };
    if (!q.usable) return { reason: 'quote_unusable', detail: `${leg} quote on ${ex} is stale or its feed is down` };
    if (q.quarantine)
      return { reason: 'quote_quarantined', detail: `latest ${leg} quote on ${ex} is quarantined (${q.quarantine}): its current price is unknown` };
    const age = ctx.nowMs - q.receivedMs;
    if (age > strategy.maxQuoteAgeMs) return { reason: 'quote_too_old', detail: `${leg} quote on ${ex} is ${age} ms old (max ${strategy.maxQuoteAgeMs})` };
    legQuotes.push(q);
  }
  // Capacity and the risk limits shrink the position; below a minimum it is not worth opening.
  const size = entrySize(opp, ctx);
  const sizing = sizingRejection(opp, legQuotes[0], legQuotes[1], ctx, size.notionalUsd);
  if (sizing) return sizing;
  if (ctx.openPositions >= risk.maxOpenPositions)
    return { reason: 'max_open_positions', detail: `${ctx.openPositions} open, max ${risk.maxOpenPositions}` };
  const minUsd = strategy.notionalUsd * MIN_ENTRY_SHARE;
  if (size.limitedBy !== 'notional' && !(size.notionalUsd >= minUsd - EPS))
    return { reason: size.limitedBy, detail: `${size.detail}: ${usd(size.notionalUsd)} left < minimum entry ${usd(minUsd)}` };
  return null;
}
