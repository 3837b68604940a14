/**
 * Funding cross-check: a venue that publishes its view of OTHER venues' funding (VenueAdapter.fundingReferences)
 * is compared with our own figures for those venues. A large difference is a red flag for either side (our
 * parser or theirs). Shown on the System panel; never used for scoring. `Static<typeof Schema>` is the type.
 *
 * Rates are compared normalised to 8 h, in bps: rate × 8 h / interval (theirs with the interval they give,
 * else ours; ours with ours).
 */
import Type, { type Static, type TSchema } from 'typebox';
import { EXCHANGES } from './exchanges.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Venue = (description: string) => Type.Enum(EXCHANGES, { description });

export const FundingCrossCheckRowSchema = Type.Object(
  {
    instrument: Type.String({ description: 'Instrument key, e.g. BTC-PERP' }),
    venue: Venue('The venue the figure is about'),
    settle: Type.String({ description: 'Settle currency of that venue’s perpetual' }),
    theirs8hBps: Type.Number({ description: 'The source’s figure, per 8 h (bps)' }),
    ours8hBps: Type.Number({ description: 'Our latest funding for the leg, per 8 h (bps)' }),
    diff8hBps: Type.Number({ description: 'theirs − ours, per 8 h (bps)' }),
    theirIntervalMs: Nullable(Type.Number({ description: 'Interval the source gives (ms); null = not given' })),
    ourIntervalMs: Type.Number({ description: 'Our interval for the leg (ms)' }),
    theirNextMs: Nullable(Type.Number({ description: 'Next settlement per the source (epoch ms); null = not given' })),
    ourNextMs: Nullable(Type.Number({ description: 'Our next settlement (epoch ms); null = not known' })),
    flagged: Type.Boolean({ description: 'Rate differs by more than the threshold, or the next settlement by more than the tolerance' }),
  },
  { title: 'FundingCrossCheckRow' },
);
export type FundingCrossCheckRow = Static<typeof FundingCrossCheckRowSchema>;

export const FundingCrossCheckSchema = Type.Object(
  {
    source: Venue('The venue whose published view of other venues was checked'),
    checkedMs: Nullable(Type.Number({ description: 'When the last good check completed (epoch ms); null before the first' })),
    references: Type.Integer({ description: 'Figures the source published at the last good check' }),
    compared: Type.Integer({ description: 'Figures compared with ours' }),
    unmatched: Type.Integer({ description: 'Figures for a leg we have no current funding for (not scanned, none received yet, or its feed down or disabled)' }),
    invalid: Type.Integer({ description: 'Figures with no usable rate or interval (null, NaN, non-positive interval): not compared' }),
    flagged: Type.Integer({ description: 'Compared figures over the threshold' }),
    maxAbsDiff8hBps: Nullable(Type.Number({ description: 'Largest |theirs − ours| per 8 h (bps); null when nothing was compared' })),
    thresholdBps: Type.Number({ description: 'A rate difference over this (bps per 8 h) is flagged' }),
    nextToleranceMs: Type.Number({ description: 'A next-settlement difference over this (ms) is flagged' }),
    failures: Type.Integer({ description: 'Failed checks since start (the last good result is kept meanwhile)' }),
    lastError: Nullable(Type.Object({ message: Type.String(), atMs: Type.Number({ description: 'epoch ms' }) })),
    rows: Type.Array(FundingCrossCheckRowSchema, { description: 'The worst compared figures: flagged first, then by |difference|' }),
  },
  { title: 'FundingCrossCheck' },
);
export type FundingCrossCheck = Static<typeof FundingCrossCheckSchema>;

export const FundingCrossChecksResponseSchema = Type.Object({
  checks: Type.Array(FundingCrossCheckSchema, { description: 'One per enabled venue that publishes references; empty when none does' }),
});
export type FundingCrossChecksResponse = Static<typeof FundingCrossChecksResponseSchema>;
