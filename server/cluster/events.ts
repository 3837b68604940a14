/**
 * What the engine publishes to edges: events (each with a sequence number) and the snapshot they start
 * from. Payloads are JSON; a batch `{ token, first, events }` gives its i-th event the seq `first + i`.
 */
import type { AlertsResponse } from '../../shared/alerts.js';
import type { VersionedConfig } from '../../shared/config.js';
import type { FundingCrossCheck } from '../../shared/cross-check.js';
import type { FeedState } from '../../shared/feeds.js';
import type { OpportunityEvent, Opportunity } from '../../shared/opportunity.js';
import type { Fill, Portfolio, Position, RiskRejection, StrategyEvent, TradingState } from '../../shared/position.js';
import type { FundingRow } from '../../shared/funding.js';
import type { EngineStats } from '../../shared/protocol.js';
import type { FillCount } from '../strategy/fill-log.js';

export type ClusterEvent =
  | { t: 'opp'; e: OpportunityEvent }
  | { t: 'strategy'; e: StrategyEvent }
  | { t: 'feed'; e: FeedState }
  | { t: 'check'; e: FundingCrossCheck }
  | { t: 'config'; e: VersionedConfig }
  | { t: 'stats'; e: EngineStats }
  /** The alerts config (secrets masked by the engine: the raw ones never reach Redis) and delivery counters. */
  | { t: 'alerts'; e: AlertsResponse }
  /** The engine's trading counters (for an edge's /metrics). */
  | { t: 'counters'; e: TradingCounters }
  /** A new funding board was written to the funding key (too large for the stream): read it from there. */
  | { t: 'funding'; e: { tsMs: number } }
  /** The engine's own subscriber lost events (it fell behind its bus): take a fresh snapshot. */
  | { t: 'resync' };

export interface EventBatch {
  /** Fencing token of the engine that published it. */
  token: number;
  /** Seq of events[0]; events are numbered consecutively. */
  first: number;
  events: ClusterEvent[];
}

/** Counters the engine's /metrics exports beside its state (risk rejections by reason, fills by venue and purpose). */
export interface TradingCounters {
  rejections: Record<string, number>;
  fills: FillCount[];
}

/** The engine's funding board (every row, unfiltered) as written to the funding key with the token that wrote it. */
export interface FundingBoardState {
  token: number;
  /** The engine's clock when the rows were computed. */
  tsMs: number;
  historySource: string | null;
  rows: FundingRow[];
}

/** The engine's state as of one seq (every event up to and including `seq` applied). */
export interface EngineSnapshot {
  seq: number;
  token: number;
  opportunities: Opportunity[];
  positions: Position[];
  portfolio: Portfolio;
  tradingState: TradingState;
  feeds: FeedState[];
  fundingChecks: FundingCrossCheck[];
  config: VersionedConfig;
  fills: Fill[];
  rejections: RiskRejection[];
  stats: EngineStats;
  /** Null when the engine runs no alerts service. */
  alerts: AlertsResponse | null;
  counters: TradingCounters;
}

/** Snapshot parts stored as JSON fields of the snapshot hash (seq and token are plain fields). */
export const SNAPSHOT_PARTS = ['opportunities', 'positions', 'portfolio', 'tradingState', 'feeds', 'fundingChecks', 'config', 'fills', 'rejections', 'stats', 'alerts', 'counters'] as const;
type SnapshotPart = (typeof SNAPSHOT_PARTS)[number];

export function encodeSnapshotFields(s: Omit<EngineSnapshot, 'seq' | 'token'>): string[] {
  return SNAPSHOT_PARTS.flatMap((part) => [part, JSON.stringify(s[part])]);
}

/** The snapshot hash as read by HGETALL, or null when it is missing or incomplete (no engine wrote one yet). */
export function decodeSnapshot(hash: Record<string, string>): EngineSnapshot | null {
  if (hash.seq === undefined || hash.token === undefined) return null;
  const parts: Partial<Record<SnapshotPart, unknown>> = {};
  for (const part of SNAPSHOT_PARTS) {
    const raw = hash[part];
    if (raw === undefined) return null;
    parts[part] = JSON.parse(raw) as unknown;
  }
  return { seq: Number(hash.seq), token: Number(hash.token), ...(parts as Omit<EngineSnapshot, 'seq' | 'token'>) };
}

/** Seq of a stream entry id `<seq>-0`. */
export function streamIdSeq(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}
