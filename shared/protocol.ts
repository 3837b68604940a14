/**
 * The WebSocket protocol of `/ws`, shared by server and dashboard.
 *
 * Server → client: every WebSocket text frame is one `ServerFrame` JSON object. `frame` numbers are
 * per connection and contiguous (1, 2, 3 …): a client that sees a gap must resync (reconnect and take a
 * new snapshot). The first frame after connecting holds exactly one `snapshot` message. Each message
 * carries `seq`, the server's global stream sequence (increasing, not contiguous per client because of
 * filters and coalescing).
 *
 * Client → server: `ClientMessage` JSON text frames.
 */
import type { FundingCrossCheck } from './cross-check.js';
import type { Exchange } from './exchanges.js';
import type { FeedState } from './feeds.js';
import type { Opportunity, OpportunityCloseReason } from './opportunity.js';
import type { Fill, Portfolio, Position, RiskRejection, TradingState } from './position.js';

/** Stages of the seed's latency budget, measured per update. */
export const LATENCY_STAGES = ['receive_to_parsed', 'parsed_to_pipeline', 'pipeline_to_detected', 'detected_to_bus', 'bus_to_sent', 'end_to_end'] as const;
export type LatencyStage = (typeof LATENCY_STAGES)[number];

export interface LatencySummary {
  p50Us: number;
  p99Us: number;
  count: number;
}

/**
 * Why the engine's quote quarantine held a quote out of the store (server/engine/quarantine.ts):
 * a non-positive or non-finite price, a crossed or locked book (bid ≥ ask), a book wider than the
 * band, a mid off the other venues' consensus, a jump from the venue's own last accepted mid.
 */
export const QUARANTINE_REASONS = ['non_positive', 'crossed_book', 'spread_sanity', 'off_consensus', 'price_jump'] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

export interface QuarantineStats {
  /** Quotes quarantined since start (a counter: never decreases). */
  total: number;
  /** The same per venue and reason (only non-zero entries). */
  byExchange: Partial<Record<Exchange, Partial<Record<QuarantineReason, number>>>>;
  /** Venue symbols whose latest quote is quarantined now, per venue (only non-zero entries). */
  active: Partial<Record<Exchange, number>>;
  /**
   * Venue symbols flagged for review: held off the other venues' consensus without a break for at least
   * config detector.reviewAfterMs. Most likely the venue's ticker names ANOTHER token than the others'
   * (same ticker, different coin): it never pairs while held. Longest-held first.
   */
  review: ReviewFlag[];
}

/** One venue symbol flagged for review (see QuarantineStats.review). */
export interface ReviewFlag {
  instrument: string;
  exchange: Exchange;
  symbol: string;
  /** Settle currency of the venue's market (USDT, USDC). */
  settle: string;
  /** Mid of its latest (held) quote. */
  price: number;
  /** Median mid of the other venues' fresh accepted quotes, or null when none is fresh. */
  consensusPrice: number | null;
  /** price / consensusPrice − 1, in percent (null without a consensus). */
  deviationPct: number | null;
  /** Since when it has been held without a break (epoch ms), from its first off-consensus quote. */
  sinceMs: number;
  /** When its latest held quote arrived (epoch ms). */
  lastQuoteMs: number;
}

export interface EngineStats {
  tsMs: number;
  updatesPerSec: number;
  updatesTotal: number;
  /** Updates dropped because the pipeline ring was full. */
  pipelineDropped: number;
  /** Updates rejected for insane values (bad rate, timestamp unit), by reason. */
  rejected: Record<string, number>;
  /** Events missed by slow bus subscribers, by subscriber name. */
  busMissed: Record<string, number>;
  opportunitiesOpen: number;
  /** Implausible quotes the engine held out of scoring, per venue and reason. */
  quarantine: QuarantineStats;
  wsClients: number;
  latency: Partial<Record<LatencyStage, LatencySummary>>;
}

export interface ClosedOpportunity {
  opportunity: Opportunity;
  reason: OpportunityCloseReason;
  lifetimeMs: number;
  closedMs: number;
}

export interface Snapshot {
  type: 'snapshot';
  seq: number;
  tsMs: number;
  opportunities: Opportunity[];
  recentlyClosed: ClosedOpportunity[];
  positions: Position[];
  portfolio: Portfolio | null;
  tradingState: TradingState;
  feeds: FeedState[];
  /** The funding cross-check per source venue (absent from servers without feeds). */
  fundingChecks?: FundingCrossCheck[];
  configVersion: number;
  stats: EngineStats;
}

export type ServerMessage =
  | Snapshot
  /** `recvUs`: receive time (epoch µs) of the market frame that caused it, for end-to-end latency. */
  | { type: 'opportunity'; seq: number; tsMs: number; recvUs: number; event: 'opened' | 'updated'; opportunity: Opportunity }
  | { type: 'opportunity'; seq: number; tsMs: number; recvUs: number; event: 'closed'; opportunity: Opportunity; reason: OpportunityCloseReason; lifetimeMs: number }
  | { type: 'position'; seq: number; tsMs: number; event: 'opened' | 'updated' | 'closed'; position: Position }
  | { type: 'fill'; seq: number; tsMs: number; fill: Fill }
  | { type: 'rejection'; seq: number; tsMs: number; rejection: RiskRejection }
  | { type: 'portfolio'; seq: number; tsMs: number; portfolio: Portfolio }
  | { type: 'trading_state'; seq: number; tsMs: number; state: TradingState; reason: string }
  | { type: 'feed'; seq: number; tsMs: number; feed: FeedState }
  /** A source venue's funding cross-check completed (or failed: its counters changed). */
  | { type: 'funding_check'; seq: number; tsMs: number; check: FundingCrossCheck }
  | { type: 'stats'; seq: number; tsMs: number; stats: EngineStats }
  | { type: 'config'; seq: number; tsMs: number; version: number }
  /** This client fell behind the event stream and lost `count` events: it should resync. */
  | { type: 'missed'; seq: number; tsMs: number; count: number };

export interface ServerFrame {
  frame: number;
  /** Server clock (epoch µs) when the tick that sent this frame began; arrival − sentUs = delivery latency. */
  sentUs?: number;
  messages: ServerMessage[];
}

export interface StreamFilter {
  instruments?: string[];
  exchanges?: Exchange[];
  minProfitBps?: number;
}

export type ClientMessage = { type: 'subscribe'; filter: StreamFilter } | { type: 'ping'; id?: string };
