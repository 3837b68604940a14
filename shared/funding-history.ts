/**
 * Funding history (issue 13 §2): settled rates per leg, backfilled from the venues' history endpoints
 * and recorded live. Served by GET /api/funding/history; the Funding tab charts it (rates across venues,
 * and the cumulative carry of a chosen pair). `Static<typeof Schema>` is the type.
 *
 * Units as in shared/funding.ts: `rateIntervalBps` per the settlement's own interval, `rate8hBps` per 8 h.
 */
import Type, { type Static, type TSchema } from 'typebox';
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
