/**
 * Funding board: one row per instrument × venue × settle currency with the leg's live funding, normalised to
 * 8 h and annualised, its own next settlement, the last settled rate and (later) realised averages.
 * `Static<typeof Schema>` is the type. Served by GET /api/funding; the dashboard's Funding tab polls it.
 *
 * Units: rates in bps (1 bp = 0.0001 = 0.01 %); `rateIntervalBps` is per the leg's own interval, `rate8hBps` per 8 h,
 * `aprPct` a simple (not compounded) annual rate in percent. Exactly:
 *   rate8hBps = rate × 10⁴ × (8 h / interval)
 *   aprPct    = rate × 100 × (365 × 24 h / interval)
 * A leg whose venue never stated its interval ("funding unknown") still has a row with its rate, but its
 * interval, 8 h figure and APR are null: nothing is normalised from a guessed interval.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { ExchangeParam } from './api.js';
import { EXCHANGES } from './exchanges.js';
import { SETTLE_CURRENCIES } from './instrument-key.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const HOUR_MS = 3_600_000;
export const EIGHT_HOURS_MS = 8 * HOUR_MS;
export const YEAR_MS = 365 * 24 * HOUR_MS;

/** Per-interval fraction → bps per 8 h. NaN for an unknown or non-positive interval. */
export function rate8hBps(rate: number, intervalMs: number): number {
  return intervalMs > 0 ? (rate * 1e4 * EIGHT_HOURS_MS) / intervalMs : Number.NaN;
}

/** Per-interval fraction → simple APR in percent (365 days of 24 h). NaN for an unknown or non-positive interval. */
export function aprPct(rate: number, intervalMs: number): number {
  return intervalMs > 0 ? (rate * 100 * YEAR_MS) / intervalMs : Number.NaN;
}

export const SettledFundingSchema = Type.Object(
  {
    rateIntervalBps: Type.Number({ description: 'The rate the venue published for that settlement (bps per its interval)' }),
    rate8hBps: Type.Number({ description: 'The same per 8 h (bps)' }),
    intervalMs: Type.Number({ description: 'Interval of that settlement (ms)' }),
    settledMs: Type.Number({ description: 'Settlement time (epoch ms)' }),
    predicted: Type.Boolean({ description: 'The last figure before the settlement was a predicted/indicative one' }),
  },
  { title: 'SettledFunding' },
);
export type SettledFunding = Static<typeof SettledFundingSchema>;

export const RealisedFundingSchema = Type.Object(
  {
    avg24h: Nullable(Type.Number({ description: 'Mean settled rate over the last 24 h, bps per 8 h; null = no history yet' })),
    avg3d: Nullable(Type.Number({ description: 'Over 3 days, bps per 8 h; null = no history yet' })),
    avg7d: Nullable(Type.Number({ description: 'Over 7 days, bps per 8 h; null = no history yet' })),
    avg30d: Nullable(Type.Number({ description: 'Over 30 days, bps per 8 h; null = no history yet' })),
  },
  { title: 'RealisedFunding' },
);
export type RealisedFunding = Static<typeof RealisedFundingSchema>;

/** Which side of the instrument's best carry pair the row is (null = not in it). */
export const CarrySideSchema = Nullable(Type.Union([Type.Literal('long'), Type.Literal('short')], { description: 'long pays the lower rate, short receives the higher' }));

export const FundingRowSchema = Type.Object(
  {
    instrument: Type.String({ description: 'Instrument key, e.g. BTC-PERP' }),
    venue: Type.Enum(EXCHANGES, { description: 'Venue id' }),
    settle: Type.Enum(SETTLE_CURRENCIES, { description: 'Settle currency of the perpetual' }),
    symbol: Type.String({ description: 'Native symbol on the venue' }),
    rateIntervalBps: Type.Number({ description: 'Latest rate, bps per the leg’s own interval' }),
    rate8hBps: Nullable(Type.Number({ description: 'rate × 8 h / interval, bps; null when the interval is unknown' })),
    aprPct: Nullable(Type.Number({ description: 'rate × (365 × 24 h / interval), percent (simple); null when the interval is unknown' })),
    intervalMs: Nullable(Type.Number({ description: 'Funding interval of the leg (ms), live per symbol; null = the venue never stated it (funding unknown)' })),
    intervalHours: Nullable(Type.Number({ description: 'The same in hours (1, 4, 8, …); null when unknown' })),
    nextFundingMs: Nullable(Type.Number({ description: 'This venue’s next settlement (epoch ms); null when the venue gave none' })),
    predicted: Type.Boolean({ description: 'The latest figure is the venue’s predicted/indicative rate, not the current one' }),
    updatedMs: Type.Number({ description: 'When the latest figure was applied (epoch ms, server clock)' }),
    feedDown: Type.Boolean({ description: 'The venue’s feed is down or disabled: these are its last figures, not current ones' }),
    lastSettled: Nullable(SettledFundingSchema),
    realised: RealisedFundingSchema,
    openInterestUsd: Nullable(Type.Number({ description: 'Open interest (USD); null = not available from this venue’s data' })),
    volume24hUsd: Nullable(Type.Number({ description: '24 h volume (USD); null = not available' })),
    bestCarry: CarrySideSchema,
    bestCarry8hBps: Nullable(Type.Number({ description: 'The instrument’s best carry: max over venue pairs of short rate − long rate, bps per 8 h (same on every row of the instrument)' })),
    bestCarryCrossQuote: Type.Boolean({ description: 'The instrument’s best pair settles in two currencies' }),
  },
  { title: 'FundingRow' },
);
export type FundingRow = Static<typeof FundingRowSchema>;

export const FundingResponseSchema = Type.Object(
  {
    nowMs: Type.Number({ description: 'Server time of the answer (epoch ms), for countdowns' }),
    count: Type.Integer({ description: 'Rows matching the filters' }),
    historySource: Nullable(Type.String({ description: 'What fills `realised`; null = no history source yet (all averages null)' })),
    liquidity: Type.Boolean({ description: 'Some row carries open interest or 24 h volume (the minimum filters apply)' }),
    rows: Type.Array(FundingRowSchema),
  },
  { title: 'FundingResponse' },
);
export type FundingResponse = Static<typeof FundingResponseSchema>;

export const FundingQuery = Type.Object(
  {
    instrument: Type.Optional(Type.String({ pattern: '^[A-Z0-9]+(-USDT|-USDC)?-PERP$', description: 'Instrument key, e.g. BTC-PERP' })),
    venue: Type.Optional(ExchangeParam),
    settle: Type.Optional(Type.Union(SETTLE_CURRENCIES.map((s) => Type.Literal(s)))),
    minOpenInterestUsd: Type.Optional(Type.Number({ minimum: 0, maximum: 1e12, description: 'Only rows whose market has at least this open interest (USD); rows without one are left out' })),
    minVolume24hUsd: Type.Optional(Type.Number({ minimum: 0, maximum: 1e13, description: 'Only rows whose market traded at least this in 24 h (USD); rows without a figure are left out' })),
  },
  { additionalProperties: false },
);
export type FundingQueryType = Static<typeof FundingQuery>;
