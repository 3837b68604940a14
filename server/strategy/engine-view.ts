/**
 * The part of the engine the strategy uses: the opportunity bus (as subscriber 'strategy'), the current
 * open set (to resynchronise after missed bus items) and the latest quote per venue. `Engine` from
 * server/engine satisfies it structurally; tests and replays may pass the real Engine.
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { Opportunity, OpportunityEvent } from '../../shared/opportunity.js';
import type { DepthBook } from '../depth/types.js';
import type { Subscription } from '../engine/bus.js';
import type { QuoteView } from '../engine/engine.js';

/**
 * The fields of the engine's `QuoteView` the strategy reads (sizes in BASE units, funding per its own
 * interval). `quarantine`: why the venue's LATEST quote is held (the prices are then its last accepted
 * quote, not its current price); absent or null when the latest quote was accepted. `fundingPrice`: the
 * venue's fresh funding reference price (mark, or oracle), which funding settlements are booked on; absent
 * or null = none fresh (settlements then use the leg's book price).
 */
export type StrategyQuote = Pick<
  QuoteView,
  'exchange' | 'symbol' | 'instrument' | 'bid' | 'ask' | 'bidSize' | 'askSize' | 'fundingRate' | 'fundingIntervalMs' | 'nextFundingMs' | 'fundingPredicted' | 'receivedMs' | 'ageMs' | 'usable'
> &
  Partial<Pick<QuoteView, 'quarantine' | 'fundingPrice'>>;

export interface StrategyEngine {
  readonly bus: { subscribe(name: string, onWake?: () => void): Subscription<OpportunityEvent> };
  opportunities(): Opportunity[];
  /** The leg's latest quote; `settle` (the leg's settle currency) defaults to USDT. */
  quote(instrument: string, exchange: Exchange, settle?: string): StrategyQuote | null;
  /**
   * The last current rate the venue published before the leg's settlement at `fundingMs`, captured as it
   * arrived (Engine.settlementRate); null when none. Without it, settlements book the rate last read from the quote.
   */
  settlementRate?(instrument: string, exchange: Exchange, fundingMs: number, settle?: string): number | null;
  /** A leg's fresh, usable L2 book (Engine.depthBook), for paper fills that walk its levels; null = touch only. */
  depthBook?(instrument: string, exchange: Exchange, settle?: string): DepthBook | null;
  /** Whether the venue's feed is down or the venue disabled (default venue view; see venue-state.ts). */
  isExchangeDown?(exchange: Exchange): boolean;
}
