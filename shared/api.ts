/**
 * The REST contract: TypeBox schemas of every route's inputs and responses. The server declares them on its
 * routes (validation, and the OpenAPI document at /api/docs); the dashboard's client (web/src/lib/api.ts)
 * reads the same types, `type X = Static<typeof XSchema>`.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { ConfigSchema, type VersionedConfig } from './config.js';
import { EXCHANGES } from './exchanges.js';
import {
  ClosedOpportunitySchema,
  EngineStatsSchema,
  ExchangeEnum,
  FeedStateSchema,
  FillSchema,
  OpportunitySchema,
  PortfolioSchema,
  PositionSchema,
  RiskRejectionSchema,
  type SameShape,
  TradingStateEnum,
} from './schemas.js';

// ---- inputs ----

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Every property optional, recursively through nested objects; unknown fields still rejected. */
function deepPartial(schema: TSchema): TSchema {
  const s = schema as TSchema & { type?: string; properties?: Record<string, TSchema>; description?: string };
  if (s.type !== 'object' || !s.properties) return schema;
  const props: Record<string, TSchema> = {};
  for (const [k, v] of Object.entries(s.properties)) props[k] = Type.Optional(deepPartial(v));
  return Type.Object(props, { additionalProperties: false, ...(s.description ? { description: s.description } : {}) });
}

export const ConfigPatchSchema = deepPartial(ConfigSchema);

export const ConfigPutQuery = Type.Object(
  { force: Type.Optional(Type.Boolean({ description: 'Apply a change that leaves no venue or no instrument scanned' })) },
  { additionalProperties: false },
);

/**
 * The one body of every error the server sends, whatever sends it: route handlers, validation, the Host and
 * Origin guard (421, 403), authentication (401, 429), rate limits (429), the request timeout (408), shutdown
 * (503), not found (404). Routes declare it for each error status they can answer.
 */
export const ErrorResponseSchema = Type.Object(
  {
    error: Type.String({ description: 'Machine-readable error code, e.g. validation, unauthorized, rate_limited' }),
    field: Type.Union([Type.String(), Type.Null()], { description: 'The offending input, e.g. thresholds.minSpreadBps, querystring.limit, authorization, host, origin; null when no one input is at fault' }),
    message: Type.String({ description: 'What went wrong, for a human' }),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }), { description: 'Every problem, when there was more than one' })),
  },
  { $id: 'ErrorBody', additionalProperties: false },
);
export type ErrorBody = Static<typeof ErrorResponseSchema>;

export const ExchangeParam = Type.Union(EXCHANGES.map((e) => Type.Literal(e)));
export const Limit = (max: number, dflt: number) => Type.Integer({ minimum: 1, maximum: max, default: dflt });

/**
 * `?format=csv|json` on a list route: the same rows as a file download (Content-Disposition: attachment).
 * CSV columns are derived from the row schema; docs/exports.md lists them and their rules.
 */
export const EXPORT_FORMATS = ['csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const ExportFormatParam = Type.Optional(
  Type.Union([Type.Literal('csv'), Type.Literal('json')], { description: 'Download as a file: csv (RFC 4180, header row, ISO-8601 UTC times) or json (this response); absent = ordinary JSON' }),
);

export const OpportunitiesQuery = Type.Object(
  {
    sort: Type.Optional(
      Type.Union([Type.Literal('profit'), Type.Literal('spread'), Type.Literal('funding'), Type.Literal('confidence'), Type.Literal('age'), Type.Literal('netApr')], {
        default: 'profit',
        description: 'netApr: projected profit annualised over the holding horizon (netAprPct), the rank of carry-driven opportunities',
      }),
    ),
    order: Type.Optional(Type.Union([Type.Literal('desc'), Type.Literal('asc')], { default: 'desc' })),
    instrument: Type.Optional(Type.String({ pattern: '^[A-Z0-9]+(-USDT|-USDC)?-PERP$', description: 'Instrument key, e.g. BTC-PERP (first-release BTC-USDT-PERP is read as BTC-PERP)' })),
    exchange: Type.Optional(ExchangeParam),
    minProfitBps: Type.Optional(Type.Number({ minimum: -10_000, maximum: 10_000 })),
    minCarryEarnedShare: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'Only pairs whose carry earned in at least this share (0..1) of the window\'s settlements (carryEarnedShare; unknown = excluded)' }),
    ),
    limit: Type.Optional(Limit(5000, 500)),
    format: ExportFormatParam,
  },
  { additionalProperties: false },
);

export const HistoryQuery = Type.Object({ limit: Type.Optional(Limit(1000, 100)), format: ExportFormatParam }, { additionalProperties: false });

export const PositionsQuery = Type.Object(
  {
    state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed'), Type.Literal('all')], { default: 'all' })),
    limit: Type.Optional(Limit(10_000, 1000)),
    format: ExportFormatParam,
  },
  { additionalProperties: false },
);

/** Any string: an unknown venue gets a 400 that names it (not a schema error listing the enum). */
export const VenueParams = Type.Object({ venue: Type.String({ minLength: 1, maxLength: 64 }) });

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

export const LimitQuery = Type.Object({ limit: Type.Optional(Limit(10_000, 500)) }, { additionalProperties: false });

export const TradesQuery = Type.Object({ limit: Type.Optional(Limit(10_000, 500)), format: ExportFormatParam }, { additionalProperties: false });

export const TradingStateBody = Type.Object(
  {
    state: Type.Union([Type.Literal('active'), Type.Literal('reducing'), Type.Literal('halted')], { description: 'active: trade; reducing: exits only; halted: nothing' }),
    closeAll: Type.Optional(Type.Boolean({ description: 'Also close every open position now' })),
    reason: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const ClosePositionBody = Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()]);

// ---- responses ----

export const VersionedConfigSchema = Type.Object({
  version: Type.Integer({ description: 'Increases by one on every accepted change' }),
  config: ConfigSchema,
  updatedMs: Type.Optional(Type.Number({ description: 'When this version was accepted (epoch ms)' })),
});
// A compile error here: VersionedConfig (shared/config.ts) and its schema disagree; change both.
const versionedConfigMatches: SameShape<Static<typeof VersionedConfigSchema>, VersionedConfig> = true;
void versionedConfigMatches;

export const OpportunitiesResponseSchema = Type.Object({
  count: Type.Integer({ description: 'Matching opportunities before `limit`' }),
  opportunities: Type.Array(OpportunitySchema),
});
export type OpportunitiesResponse = Static<typeof OpportunitiesResponseSchema>;

export const HistoryResponseSchema = Type.Object({ count: Type.Integer(), history: Type.Array(ClosedOpportunitySchema, { description: 'Newest first' }) });
export type HistoryResponse = Static<typeof HistoryResponseSchema>;

export const PositionsResponseSchema = Type.Object({ count: Type.Integer({ description: 'Matching positions before `limit`' }), positions: Type.Array(PositionSchema, { description: 'Newest first' }) });
export type PositionsResponse = Static<typeof PositionsResponseSchema>;

export const TradesResponseSchema = Type.Object({ count: Type.Integer(), fills: Type.Array(FillSchema, { description: 'Newest first' }) });
export type TradesResponse = Static<typeof TradesResponseSchema>;

export const RejectionsResponseSchema = Type.Object({ count: Type.Integer(), rejections: Type.Array(RiskRejectionSchema, { description: 'Newest first' }) });
export type RejectionsResponse = Static<typeof RejectionsResponseSchema>;

export const TradingStateResponseSchema = Type.Object({ state: TradingStateEnum });
export type TradingStateResponse = Static<typeof TradingStateResponseSchema>;

export const TradingStateChangeResponseSchema = Type.Object({ state: TradingStateEnum, portfolio: PortfolioSchema });
export type TradingStateChangeResponse = Static<typeof TradingStateChangeResponseSchema>;

export const FeedsResponseSchema = Type.Object({ feeds: Type.Array(FeedStateSchema) });
export type FeedsResponse = Static<typeof FeedsResponseSchema>;

/** POST /api/feeds/:venue/restart: the venue restarted and its state right after (not yet live). */
export const FeedRestartResponseSchema = Type.Object({ restarted: ExchangeEnum, feed: Type.Union([FeedStateSchema, Type.Null()]) });
export type FeedRestartResponse = Static<typeof FeedRestartResponseSchema>;

export const HealthResponseSchema = Type.Object({
  status: Type.Literal('ok'),
  uptimeMs: Type.Number(),
  configVersion: Type.Integer(),
});
export type HealthResponse = Static<typeof HealthResponseSchema>;

export const ReadinessSchema = Type.Object({
  ready: Type.Boolean({ description: 'Engine running, feeds live, persistence reachable' }),
  engine: Type.Boolean(),
  feeds: Type.Enum(['none', 'live', 'not_live']),
  persistence: Type.Enum(['memory', 'connected', 'unreachable']),
  details: Type.Array(FeedStateSchema),
  persistenceResyncs: Type.Integer({ description: 'Times the store was found empty (Redis restarted without persistence) and rewritten from memory' }),
  lastResyncMs: Nullable(Type.Number({ description: 'When the last resync happened (epoch ms)' })),
});
export type ReadinessResponse = Static<typeof ReadinessSchema>;

export const StreamCountersSchema = Type.Object({
  clients: Type.Integer(),
  connectionsTotal: Type.Integer(),
  framesSent: Type.Integer(),
  bytesSent: Type.Integer(),
  framesEncoded: Type.Integer({ description: 'Frame bodies encoded: one per audience (clients sharing a subscribe filter) per tick, plus one per snapshot' }),
  messagesCreated: Type.Integer(),
  framesDropped: Type.Integer({ description: 'Frames not sent to clients over their buffer limit (replaced by a snapshot when they resync)' }),
  resyncs: Type.Integer({ description: 'Clients over their buffer limit brought back with a fresh snapshot once drained' }),
  terminatedSlow: Type.Integer({ description: 'Clients cut off because they could not keep up (backlog past the limit while lagging, or lagging again soon after a resync)' }),
  malformedClientMessages: Type.Integer(),
  rateLimitedClientMessages: Type.Integer({ description: 'Client messages dropped because their client sent faster than its budget' }),
  missedEvents: Type.Integer(),
});

export const PersistenceHealthSchema = Type.Object({
  kind: Type.Enum(['memory', 'redis']),
  connected: Type.Boolean(),
  degraded: Type.Boolean({ description: 'Writes are buffered because the store is unreachable' }),
  backlog: Type.Integer(),
  dropped: Type.Integer({ description: 'Writes dropped because the backlog passed its bound' }),
  written: Type.Integer(),
  batches: Type.Integer(),
  resyncs: Type.Integer({ description: 'Full rewrites after the store was found empty' }),
  lastResyncMs: Nullable(Type.Number({ description: 'epoch ms' })),
});

export const StatsResponseSchema = Type.Object({ stats: EngineStatsSchema, stream: StreamCountersSchema, persistence: PersistenceHealthSchema });
export type StatsResponse = Static<typeof StatsResponseSchema>;

export const MetricsTextSchema = Type.String({ description: 'Prometheus text exposition format 0.0.4' });
