/** Everything the routes need, handed over by server/app.ts. */
import type { DepthStatus } from '../../shared/depth.js';
import type { FundingCrossCheck } from '../../shared/cross-check.js';
import type { FeedState } from '../../shared/feeds.js';
import type { AlertsService } from '../alerts/service.js';
import type { FundingBoard } from '../funding/board.js';
import type { FundingBackfillStatus } from '../../shared/funding-history.js';
import type { FundingHistoryView, FundingLegRef } from '../funding/history-types.js';
import type { Persistence } from '../persistence/persistence.js';
import type { ConfigService } from '../config/service.js';
import type { AuthFailureLimiter } from './auth-failures.js';
import type { ApiMetrics } from './metrics.js';
import type { EngineView, FeedsView, StrategyView } from './ports.js';
import type { StreamHub } from './stream/hub.js';

export interface Readiness {
  ready: boolean;
  engine: boolean;
  feeds: 'none' | 'live' | 'not_live';
  persistence: 'memory' | 'connected' | 'unreachable';
  /** Times the store was found empty and the full state rewritten from memory, and when last (epoch ms). */
  persistenceResyncs: number;
  lastResyncMs: number | null;
  details: FeedState[];
}

export interface ApiContext {
  engine: EngineView;
  strategy: StrategyView;
  feeds: FeedsView | null;
  /** Order-book feeds for candidate instruments (server/feeds/depth-manager.ts); absent = none run. */
  depth?: () => DepthStatus;
  /** The funding cross-check per source venue (server/feeds/funding-cross-check.ts); absent = none runs. */
  fundingChecks?: () => FundingCrossCheck[];
  /** The funding board (GET /api/funding; on an edge the engine's mirrored board); absent = an empty board. */
  fundingBoard?: Pick<FundingBoard, 'rows' | 'historySource' | 'now'>;
  /** Settled funding per leg and the backfill's progress (GET /api/funding/history[/status]); absent = empty answers. */
  fundingHistory?: { view: FundingHistoryView; legs(): FundingLegRef[]; retentionMs: number; status(): FundingBackfillStatus | null };
  persistence: Persistence;
  /** Alert rules, sinks and delivery (server/alerts/); absent = no alert routes. An edge reads a mirrored view (its PUT and test are relayed). */
  alerts?: Pick<AlertsService, 'view' | 'update' | 'test'>;
  config: ConfigService;
  hub: StreamHub;
  metrics: ApiMetrics;
  /** True once the main loop (drain, sweep, strategy) is running. */
  running(): boolean;
  startedMs: number;
  /** Bearer token for mutating routes; null = open (only allowed on loopback). */
  apiToken: string | null;
  rateLimit: { max: number; timeWindowMs: number };
  /** Failed authentications per client address (shared by every mutating route). */
  authFailures: AuthFailureLimiter;
}
