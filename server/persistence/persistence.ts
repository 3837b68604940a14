/**
 * The persistence interface the server writes through. Two implementations: memory (the embedded
 * default, when REDIS_URL is unset) and Redis (write-behind; see server/persistence/redis.ts).
 *
 * Rules: every `save*`/`append*` call is fire-and-forget and MUST NOT block or await on the detection
 * path: the Redis implementation buffers and writes in batches behind the hot path. `load*` calls are
 * made at start-up (restore) and by REST handlers, never per market update. Writes are idempotent by id
 * (a retried batch does not duplicate a fill).
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { AlertsConfig } from '../../shared/alerts.js';
import type { VersionedConfig } from '../../shared/config.js';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import type { Fill, Position, TradingState } from '../../shared/position.js';
import type { ClosedOpportunity } from '../../shared/protocol.js';

/** Strategy-level state that is not a position or a fill, restored exactly after a restart. */
export interface PortfolioState {
  startingCapitalUsd: number;
  realisedPnlUsd: number;
  feesPaidUsd: number;
  fundingUsd: number;
  /** UTC day (YYYY-MM-DD) the daily PnL belongs to, and that day's realised PnL. */
  day: string;
  dailyRealisedPnlUsd: number;
  tradingState: TradingState;
  /** instrument → epoch ms until which new entries are blocked. */
  cooldownUntilMs: Record<string, number>;
  updatedMs: number;
}

/** A normalised market update as recorded for replay. */
export interface MarketRecord {
  exchange: Exchange;
  symbol: string;
  kind: 'quote' | 'funding';
  recvMs: number;
  exchangeTsMs: number;
  bid?: number;
  ask?: number;
  bidSize?: number;
  askSize?: number;
  fundingRate?: number;
  fundingIntervalMs?: number;
  nextFundingMs?: number;
  predicted?: boolean;
}

export interface PersistenceHealth {
  kind: 'memory' | 'redis';
  /** Redis reachable (always true for memory). */
  connected: boolean;
  /** True while writes are buffered and not yet acknowledged because the store is unreachable. */
  degraded: boolean;
  backlog: number;
  /** Writes dropped (oldest first) because the backlog passed its bound. */
  dropped: number;
  written: number;
  batches: number;
  /** Times the store was found empty (Redis restarted without persistence) and the full state rewritten from memory. */
  resyncs: number;
  /** When the last such rewrite was queued (epoch ms), or null. */
  lastResyncMs: number | null;
}

/** Everything a store must hold to restore this process: what a resync rewrites after the store lost it. */
export interface StateSnapshot {
  config: VersionedConfig;
  /** The alerts rules and sinks (absent = nothing to rewrite). */
  alerts?: AlertsConfig | null;
  portfolio: PortfolioState | null;
  positions: Position[];
  fills: Fill[];
}

export interface Persistence {
  readonly kind: 'memory' | 'redis';
  /** Connects (Redis) and loads nothing; safe to call once. Must not throw when Redis is down: report via health(). */
  open(): Promise<void>;

  loadConfig(): Promise<VersionedConfig | null>;
  saveConfig(config: VersionedConfig): void;
  /** The alerts rules and sinks (secrets included: the store is as trusted as the config). */
  loadAlerts(): Promise<AlertsConfig | null>;
  saveAlerts(alerts: AlertsConfig): void;

  loadPositions(): Promise<Position[]>;
  savePosition(position: Position): void;
  loadFills(): Promise<Fill[]>;
  saveFill(fill: Fill): void;
  loadPortfolioState(): Promise<PortfolioState | null>;
  savePortfolioState(state: PortfolioState): void;

  appendOpportunityEvent(event: OpportunityEvent): void;
  /** Closed opportunities, newest first. */
  opportunityHistory(limit: number): Promise<ClosedOpportunity[]>;
  /** All recorded opportunity events in order (for replay comparisons), optionally since epoch ms. */
  readOpportunityEvents(sinceMs?: number): Promise<OpportunityEvent[]>;

  appendMarketRecord(record: MarketRecord): void;
  /** Recorded market updates across venues in receive order, for `--replay redis`. */
  readMarketRecords(sinceMs?: number): AsyncIterable<MarketRecord>;

  /**
   * Where the full state comes from when the store is found empty while this process runs (Redis
   * restarted without persistence): it is then rewritten from memory, so the next restart loses nothing.
   */
  setResyncSource(source: () => StateSnapshot): void;

  health(): PersistenceHealth;
  /** Writes everything buffered (best effort within timeoutMs). */
  flush(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}
