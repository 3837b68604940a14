/**
 * The small structural views server/api needs of the engine's and the strategy's broadcast rings
 * (docs/INTERFACES.md `BroadcastRing` / `Subscription`), so the API layer depends on behaviour, not classes.
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { FeedState } from '../../shared/feeds.js';
import type { Opportunity } from '../../shared/opportunity.js';
import type { ExitReason, Fill, Portfolio, Position, RiskRejection, TradingState } from '../../shared/position.js';
export interface EventSubscription<T> {
  readonly name: string;
  popBatch(max: number): T[];
  readonly pending: number;
  takeMissed(): number;
  close(): void;
}

export interface EventSource<T> {
  subscribe(name: string, onWake?: () => void): EventSubscription<T>;
}

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** What the API reads from the engine (server/engine `Engine`). */
export interface EngineView {
  opportunities(): Opportunity[];
}

/** What the API uses of the strategy (server/strategy `StrategyRunner`). */
export interface StrategyView {
  positions(): Position[];
  position(id: string): Position | undefined;
  fills(): Fill[];
  portfolio(): Portfolio;
  rejections(limit?: number): RiskRejection[];
  tradingState(): TradingState;
  closePosition(id: string, reason?: ExitReason): Position;
  setTradingState(state: TradingState, opts?: { closeAll?: boolean; reason?: string }): void;
}

/** What the API reads from the feeds (server/feeds `FeedManager`). */
export interface FeedsView {
  states(): FeedState[];
  /** Starts one configured venue's feed afresh; false when the venue is not configured. */
  restartVenue(venue: Exchange): Promise<boolean>;
}
