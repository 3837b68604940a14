/**
 * The part of the engine the strategy uses: the opportunity bus (as subscriber 'strategy'), the current
 * open set (to resynchronise after missed bus items) and the latest quote per venue. `Engine` from
 * server/engine satisfies it structurally; tests and replays may pass the real Engine.
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { Opportunity, OpportunityEvent } from '../../shared/opportunity.js';
import type { Subscription } from '../engine/bus.js';

/** Fields of the engine's `QuoteView` (docs/INTERFACES.md) that the strategy reads. */
export interface StrategyQuote {
  exchange: Exchange;
  symbol: string;
  instrument: string;
  bid: number;
  ask: number;
  /** Sizes in BASE units. */
  bidSize: number;
  askSize: number;
  /** Rate for the settlement at `nextFundingMs`, per its own interval (fraction). */
  fundingRate: number;
  fundingIntervalMs: number;
  /** Next funding settlement (epoch ms); 0 when unknown. */
  nextFundingMs: number;
  /** True when `fundingRate` is a predicted/indicative rate rather than the one in force. */
  fundingPredicted: boolean;
  receivedMs: number;
  ageMs: number;
  /** Fresh and feed up. */
  usable: boolean;
}

export interface StrategyEngine {
  readonly bus: { subscribe(name: string, onWake?: () => void): Subscription<OpportunityEvent> };
  opportunities(): Opportunity[];
  quote(instrument: string, exchange: Exchange): StrategyQuote | null;
}
