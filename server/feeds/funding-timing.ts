/**
 * What a metadata re-read (e.g. after a settlement) does to a symbol's funding: the live FeedManager and
 * the replay both update the known entry in place and push the venue's current rate only when the
 * funding timing changed, so a replayed mid-run REST response has the effect the live one had.
 */
import { type InstrumentMeta, knownFundingIntervalMs } from './adapter.js';

/** The last funding figure pushed for one symbol. */
export interface LastFunding {
  rate: number;
  intervalMs: number;
  nextFundingMs: number;
  predicted: boolean;
  exchangeTsMs: number;
}

/** A symbol's funding timing before a refresh (interval 0 = unknown or assumed). */
export interface FundingTiming {
  intervalMs: number;
  nextFundingMs: number;
}

/**
 * Copies a re-read entry's fields onto the known one (its engine id kept) and returns the timing it had.
 * Refreshed metadata that carries the interval clears an earlier assumption (assign keeps absent keys).
 */
export function applyRefreshedMeta(known: InstrumentMeta, fresh: InstrumentMeta): FundingTiming {
  const before = { intervalMs: knownFundingIntervalMs(known), nextFundingMs: known.nextFundingMs };
  Object.assign(known, fresh, { id: known.id });
  if (fresh.fundingIntervalAssumed !== true) delete known.fundingIntervalAssumed;
  return before;
}

/** The funding to push after a refresh, or null when nothing is to be pushed. */
export interface TimingPush extends LastFunding {
  intervalChanged: boolean;
}

/**
 * After a refresh of `m` (timing before: `before`): when its interval or next time changed, the venue's
 * current rate — the fresher of the REST seed and `last`, the last figure pushed (streamed or seeded) —
 * with the new timing. Null when the timing is unchanged, no rate is known yet (the venue's first funding
 * frame brings it), or the next time has passed by `nowMs` (a venue's REST not yet rolled after a
 * settlement: the stream rolls the figure forward meanwhile).
 */
export function timingPush(m: InstrumentMeta, before: FundingTiming, last: LastFunding | undefined, nowMs: number): TimingPush | null {
  if (m.id < 0) return null;
  const intervalMs = knownFundingIntervalMs(m);
  const intervalChanged = intervalMs !== before.intervalMs && intervalMs > 0;
  // Within a second is the same time (a venue that gives the time REMAINING yields a slightly different figure each read).
  const nextChanged = m.nextFundingMs > 0 && Math.abs(m.nextFundingMs - before.nextFundingMs) >= 1000;
  if (!intervalChanged && !nextChanged) return null;
  const seed = m.seedFunding;
  const src = seed && (!last || seed.tsMs >= last.exchangeTsMs) ? { rate: seed.rate, nextFundingMs: seed.nextFundingMs, predicted: seed.predicted, exchangeTsMs: seed.tsMs } : last;
  if (src === undefined) return null;
  const nextFundingMs = m.nextFundingMs > 0 ? m.nextFundingMs : src.nextFundingMs;
  if (!(nextFundingMs > nowMs)) return null;
  return { rate: src.rate, intervalMs, nextFundingMs, predicted: src.predicted, exchangeTsMs: src.exchangeTsMs, intervalChanged };
}
