import type { Exchange } from './exchanges.js';
import type { SettleCurrency } from './opportunity.js';

/**
 * opening → open → closing → closed. `broken`: a position with a naked leg — an entry leg failed and
 * the unwind of the other leg failed too; it is still live (listed among open positions, counted in
 * exposure), retried every strategy pass until the naked leg is flat, then `closed`.
 */
export type PositionState = 'opening' | 'open' | 'closing' | 'closed' | 'broken';

/**
 * The one test for "this position is over": only `closed`. Every other state — `broken` included —
 * holds (or may hold) exposure and belongs among open positions, on the server and in the dashboard.
 */
export function isPositionClosed(p: { state: PositionState }): boolean {
  return p.state === 'closed';
}

export const EXIT_REASONS = [
  'spread_converged',
  'take_profit',
  'stop_loss',
  'max_holding_time',
  'funding_flipped',
  'feed_down',
  'liquidation_risk',
  'manual',
  'kill_switch',
  'leg_failed',
] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];

/** The kill switch: `reducing` allows exits only, `halted` allows nothing. */
export type TradingState = 'active' | 'reducing' | 'halted';

export type LegSide = 'long' | 'short';
export type FillPurpose = 'entry' | 'exit' | 'unwind';

/** One execution of one leg. Quantities in BASE units; prices in quote currency. */
export interface Fill {
  id: string;
  positionId: string;
  instrument: string;
  exchange: Exchange;
  symbol: string;
  side: 'buy' | 'sell';
  purpose: FillPurpose;
  /** Volume-weighted price over the levels walked. */
  price: number;
  quantity: number;
  notionalUsd: number;
  feeUsd: number;
  decisionMs: number;
  fillMs: number;
  /** Decision-to-fill latency in microseconds. */
  latencyUs: number;
}

export interface Leg {
  exchange: Exchange;
  symbol: string;
  /** Settle (quote) currency of the leg's market (the engine leg it trades); absent = USDT (positions from before settle currencies). */
  settle?: SettleCurrency;
  side: LegSide;
  quantity: number;
  entryPrice: number;
  /** Current mark: bid for a long (what we could sell at), ask for a short. */
  markPrice: number;
  marginUsd: number;
  liquidationPrice: number;
  /** Distance from mark to the estimated liquidation price, in percent of mark. */
  liquidationDistancePct: number;
  fundingUsd: number;
  feesUsd: number;
  unrealisedPnlUsd: number;
  /** Next funding settlement this leg has not yet accrued (epoch ms); 0 when unknown. */
  nextFundingMs: number;
  /** Rate in force for the settlement at `nextFundingMs` (fraction per its interval), as last seen. */
  fundingRate?: number;
  fundingIntervalMs?: number;
  /** The last funding settlement booked on this leg; absent until the first one (and on positions from before it was recorded). */
  lastFunding?: FundingBooked;
}

/**
 * Which price a funding settlement was valued at: `reference` = the venue's own funding reference price
 * (its mark price; the oracle price on a venue that pays funding on that), `book` = the leg's close-side
 * book price (the venue's stream carries no reference price, or it was not fresh).
 */
export type FundingPriceSource = 'reference' | 'book';

/** One funding settlement as booked: amountUsd = ∓ rate × quantity × price (a long pays a positive rate). */
export interface FundingBooked {
  /** The settlement's time (epoch ms). */
  fundingMs: number;
  /** Fraction per the leg's interval. */
  rate: number;
  /** Price per unit of the underlying the position was valued at. */
  price: number;
  priceSource: FundingPriceSource;
  /** Base units held at the settlement. */
  quantity: number;
  /** Signed for the holder: negative = paid. */
  amountUsd: number;
}

export interface PositionTransition {
  from: PositionState | null;
  to: PositionState;
  reason: string;
  tsMs: number;
}

export interface Position {
  id: string;
  instrument: string;
  opportunityId: string;
  state: PositionState;
  long: Leg;
  short: Leg;
  notionalUsd: number;
  openedMs: number;
  closedMs: number | null;
  entrySpreadBps: number;
  /**
   * Close-side spread in the entry spread's sign: (shortAsk - longBid) / longBid, bps — the dislocation
   * exiting now would leave on the table; it "converges" towards 0 (exit when <= exits.exitSpreadBps).
   */
  currentSpreadBps: number;
  entryProjectedProfitBps: number;
  /** Funding delta per 8 h (short − long) at entry; `funding_flipped` fires when a favourable delta turns negative. */
  entryFundingDelta8h?: number;
  realisedPnlUsd: number;
  unrealisedPnlUsd: number;
  fundingUsd: number;
  feesUsd: number;
  exitReason: ExitReason | null;
  transitions: PositionTransition[];
  /**
   * The marks (and so the unrealised PnL) are not from a current quote: restored from before a restart
   * and not yet re-marked, or a leg's quote is stale or its venue's feed is down. Absent = false.
   */
  markStale?: boolean;
  /** What the strategy is doing about this position right now when it is not simply holding it, e.g. `unwinding naked long leg on <venue>`. */
  action?: string | null;
  /** A condition the operator should look at (e.g. a venue still not live long after a restart), or null. */
  warning?: string | null;
}

export interface RiskRejection {
  tsMs: number;
  opportunityId: string;
  instrument: string;
  /** Machine-readable, e.g. `max_open_positions`, `trading_halted`, `cooldown`, `too_young`. */
  reason: string;
  detail: string;
}

export interface Portfolio {
  tsMs: number;
  startingCapitalUsd: number;
  equityUsd: number;
  availableCapitalUsd: number;
  reservedMarginUsd: number;
  grossExposureUsd: number;
  exposureByInstrument: Record<string, number>;
  exposureByExchange: Partial<Record<Exchange, number>>;
  realisedPnlUsd: number;
  unrealisedPnlUsd: number;
  feesPaidUsd: number;
  fundingUsd: number;
  dailyPnlUsd: number;
  openPositions: number;
  /** Live positions whose marks are not current (see Position.markStale): unrealised PnL includes their last marks. */
  staleMarkPositions?: number;
  tradingState: TradingState;
}

export type StrategyEvent =
  | { kind: 'position_opened'; tsMs: number; position: Position }
  | { kind: 'position_updated'; tsMs: number; position: Position }
  | { kind: 'position_closed'; tsMs: number; position: Position }
  | { kind: 'fill'; tsMs: number; fill: Fill }
  | { kind: 'rejection'; tsMs: number; rejection: RiskRejection }
  | { kind: 'trading_state'; tsMs: number; state: TradingState; reason: string }
  | { kind: 'portfolio'; tsMs: number; portfolio: Portfolio };
