/**
 * Funding history (issue 13 §2): settled rates per leg, backfilled from the venues' history endpoints
 * and recorded live. Served by GET /api/funding/history; the Funding tab charts it (rates across venues,
 * and the cumulative carry of a chosen pair). `Static<typeof Schema>` is the type.
 *
 * Units as in shared/funding.ts: `rateIntervalBps` per the settlement's own interval, `rate8hBps` per 8 h.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { ExchangeParam, ExportFormatParam } from './api.js';
import { EXCHANGES } from './exchanges.js';
import { SETTLE_CURRENCIES } from './instrument-key.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const FundingHistoryPointSchema = Type.Object(
  {
    settledMs: Type.Number({ description: 'Settlement time (epoch ms)' }),
    rateIntervalBps: Type.Number({ description: 'Rate applied at the settlement, bps per its interval (positive = longs pay shorts)' }),
    intervalMs: Nullable(Type.Number({ description: 'Interval the rate covered (ms); null = unknown' })),
    rate8hBps: Nullable(Type.Number({ description: 'The same per 8 h (bps); null when the interval is unknown' })),
  },
  { title: 'FundingHistoryPoint' },
);

export const FundingHistorySeriesSchema = Type.Object(
  {
    instrument: Type.String({ description: 'Instrument key, e.g. BTC-PERP' }),
    venue: Type.Enum(EXCHANGES),
    settle: Type.Enum(SETTLE_CURRENCIES),
    points: Type.Array(FundingHistoryPointSchema, { description: 'Oldest first' }),
  },
  { title: 'FundingHistorySeries' },
);

export const FundingHistoryResponseSchema = Type.Object(
  {
    from: Type.Number({ description: 'Start of the range (epoch ms)' }),
    to: Type.Number({ description: 'End of the range (epoch ms)' }),
    retentionMs: Type.Number({ description: 'How far back history is kept (ms)' }),
    series: Type.Array(FundingHistorySeriesSchema, { description: 'One per matching leg (instrument × venue × settle)' }),
  },
  { title: 'FundingHistoryResponse' },
);

export type FundingHistoryPoint = Static<typeof FundingHistoryPointSchema>;
export type FundingHistorySeries = Static<typeof FundingHistorySeriesSchema>;
export type FundingHistoryResponse = Static<typeof FundingHistoryResponseSchema>;

/** `GET /api/funding/history` query: one instrument, optionally one venue, a time range (epoch ms). */
export const FundingHistoryQuery = Type.Object(
  {
    instrument: Type.String({ pattern: '^[A-Z0-9]+(-USDT|-USDC)?-PERP$', description: 'Instrument key, e.g. BTC-PERP' }),
    venue: Type.Optional(ExchangeParam),
    from: Type.Optional(Type.Integer({ minimum: 0, description: 'Start (epoch ms, inclusive); default: `to` minus the retention' })),
    to: Type.Optional(Type.Integer({ minimum: 0, description: 'End (epoch ms, inclusive); default: now' })),
    format: ExportFormatParam,
  },
  { additionalProperties: false },
);
export type FundingHistoryQueryType = Static<typeof FundingHistoryQuery>;

/** One CSV row of the funding-history export: a point with its leg (series flattened, oldest first per leg). */
export const FundingHistoryRowSchema = Type.Object(
  {
    instrument: Type.String(),
    venue: Type.Enum(EXCHANGES),
    settle: Type.Enum(SETTLE_CURRENCIES),
    settledMs: FundingHistoryPointSchema.properties.settledMs,
    rateIntervalBps: FundingHistoryPointSchema.properties.rateIntervalBps,
    intervalMs: FundingHistoryPointSchema.properties.intervalMs,
    rate8hBps: FundingHistoryPointSchema.properties.rate8hBps,
  },
  { title: 'FundingHistoryRow' },
);
export type FundingHistoryRow = Static<typeof FundingHistoryRowSchema>;

export const FundingBackfillVenueSchema = Type.Object(
  {
    venue: Type.Enum(EXCHANGES),
    state: Type.Union([Type.Literal('waiting'), Type.Literal('running'), Type.Literal('done'), Type.Literal('unsupported')], {
      description: 'waiting = no listed legs yet; done = every known leg read (new legs are read as they appear); unsupported = the venue has no history endpoint',
    }),
    legs: Type.Integer({ description: 'Listed legs of the venue known to the backfill' }),
    legsDone: Type.Integer({ description: 'Legs whose window is fully read' }),
    legsFailed: Type.Integer({ description: 'Legs given up after repeated errors (retried on the next start)' }),
    requests: Type.Integer({ description: 'History requests sent' }),
    points: Type.Integer({ description: 'Settlements stored (new or changed)' }),
    errors: Type.Integer({ description: 'Requests that failed' }),
    requestsPerSecond: Type.Number({ description: 'The pace used (requests per second), below the venue’s documented limit' }),
    intervalsFromInstrument: Type.Integer({ description: 'Settlements whose interval neither the venue nor the spacing gave: the instrument’s current interval was used' }),
    lastError: Nullable(Type.String()),
  },
  { title: 'FundingBackfillVenue' },
);

export const FundingBackfillStatusSchema = Type.Object(
  {
    windowMs: Type.Number({ description: 'How far back the backfill reads (ms)' }),
    retentionMs: Type.Number({ description: 'How long settlements are kept (ms)' }),
    store: Type.Union([Type.Literal('memory'), Type.Literal('redis')]),
    storedLegs: Type.Integer(),
    storedPoints: Type.Integer(),
    startedMs: Nullable(Type.Number({ description: 'When the backfill started (epoch ms); null = not started' })),
    venues: Type.Array(FundingBackfillVenueSchema),
  },
  { title: 'FundingBackfillStatus' },
);
export type FundingBackfillVenue = Static<typeof FundingBackfillVenueSchema>;
export type FundingBackfillStatus = Static<typeof FundingBackfillStatusSchema>;
