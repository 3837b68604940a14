/**
 * Funding accrual for one leg at the venue's real settlement timestamps.
 *
 * The rate settled at time T is the CURRENT rate in force for the period ending at T — the last
 * non-predicted rate the venue published while its next funding time was T. Once T passes, venues
 * switch the quote to the next period (new rate, new next time), so the leg remembers the rate for
 * its pending settlement (`leg.fundingRate`) instead of reading the quote after the fact.
 * A leg's `nextFundingMs` only moves forward after that settlement is booked, so accrual happens once
 * per timestamp per leg, also across restarts (the advanced timestamp is persisted with the position).
 *
 * Venues value a position for funding at their own reference price, not at the book: position value =
 * size × mark price on the centralised venues, size × oracle price where a venue pays on that. A
 * settlement is booked at the leg's venue reference price when the quote carries a fresh one
 * (StrategyQuote.fundingPrice: fresh by the quote staleness rules, near the book); otherwise at the leg's
 * book price (`markPrice`, the close side), as before such prices existed. `leg.lastFunding` records which.
 */
import type { FundingPriceSource, Leg } from '../../shared/position.js';
import { fundingPayment } from './accounting.js';
import type { StrategyQuote } from './engine-view.js';

/**
 * ASSUMPTION, used only when a venue never told us its interval (the common 8 h schedule): it steps a
 * leg's projected next settlement when the quote has not rolled yet; the venue's next time corrects it.
 */
const DEFAULT_INTERVAL_MS = 8 * 3_600_000;
/** A venue's next time later than the leg's counts as a reschedule only this long before the leg's time. */
const ROLL_SKEW_MS = 60_000;

/** The last current rate published before the settlement at `fundingMs` (captured at push time), or null. */
export type SettlementRates = (fundingMs: number) => number | null;

export interface FundingSettlement {
  fundingMs: number;
  rate: number;
  /** Price per unit of the underlying the leg was valued at, and where it came from. */
  price: number;
  priceSource: FundingPriceSource;
  notionalUsd: number;
  /** Signed for the holder: negative = paid. */
  amountUsd: number;
}

/** Learns the rate (and the schedule) for the leg's pending settlement from a current quote. */
export function learnFunding(leg: Leg, quote: StrategyQuote | null, nowMs = -Infinity): void {
  if (!quote || !(quote.nextFundingMs > 0)) return;
  // A leg without a schedule adopts the venue's next time only if it is still ahead (never a past settlement).
  if (!(leg.nextFundingMs > 0)) {
    if (quote.nextFundingMs <= nowMs) return;
    leg.nextFundingMs = quote.nextFundingMs;
  }
  // The venue's next settlement is EARLIER than the leg's but after the start of the leg's current period:
  // the leg projected its next time with the old interval (the settlement was booked before the quote
  // rolled) and the venue has since switched to a shorter one (some venues go 1 h at the cap). That
  // settlement is unbooked and due: follow the venue, never skip it. (At or before the start of the
  // period it is the one already booked.)
  const interval = leg.fundingIntervalMs !== undefined && leg.fundingIntervalMs > 0 ? leg.fundingIntervalMs : DEFAULT_INTERVAL_MS;
  if (quote.nextFundingMs < leg.nextFundingMs && quote.nextFundingMs > leg.nextFundingMs - interval) leg.nextFundingMs = quote.nextFundingMs;
  // The venue's next settlement is LATER than the leg's while the leg's is still well ahead: venues roll
  // their next time only at a settlement, so there is none at the leg's time (the interval went back to
  // a longer one after the leg projected an hourly step). Follow the venue instead of booking settlements
  // that never happen. The margin keeps a venue clock slightly ahead of ours from skipping a real one.
  if (quote.nextFundingMs > leg.nextFundingMs && nowMs < leg.nextFundingMs - ROLL_SKEW_MS) leg.nextFundingMs = quote.nextFundingMs;
  if (quote.nextFundingMs !== leg.nextFundingMs) return; // the quote describes another period
  if (quote.fundingPredicted && leg.fundingRate !== undefined) return; // never replace a real rate by a predicted one
  leg.fundingRate = quote.fundingRate;
  if (quote.fundingIntervalMs > 0) leg.fundingIntervalMs = quote.fundingIntervalMs;
}

/**
 * The price a settlement values the leg at: the venue's fresh funding reference price from the quote, else
 * the leg's book price.
 */
export function fundingPriceOf(leg: Leg, quote: StrategyQuote | null): { price: number; source: FundingPriceSource } {
  const ref = quote?.fundingPrice;
  return ref != null && ref > 0 && ref < Number.POSITIVE_INFINITY ? { price: ref, source: 'reference' } : { price: leg.markPrice, source: 'book' };
}

/**
 * Books every settlement of `leg` due at or before `nowMs`, valued at `fundingPriceOf` (the venue's reference
 * price, else the book). Mutates `leg.fundingUsd`, `leg.lastFunding`, `leg.nextFundingMs` (and the rate once
 * the quote shows the new period).
 */
export function settleFunding(leg: Leg, quote: StrategyQuote | null, nowMs: number, published?: SettlementRates): FundingSettlement[] {
  learnFunding(leg, quote, nowMs);
  const out: FundingSettlement[] = [];
  // Bounded: after a long outage a leg owes a few settlements, never thousands.
  for (let guard = 0; leg.nextFundingMs > 0 && nowMs >= leg.nextFundingMs && guard < 1000; guard++) {
    // The engine's record of the last current rate published before this settlement wins: it saw every
    // push, while the leg learned only at strategy passes (a rate published 40 ms before the settlement,
    // after the last pass, would otherwise be missed).
    const rate = published?.(leg.nextFundingMs) ?? leg.fundingRate ?? 0;
    const { price, source } = fundingPriceOf(leg, quote);
    const amountUsd = fundingPayment(leg.side, rate, leg.quantity, price);
    out.push({ fundingMs: leg.nextFundingMs, rate, price, priceSource: source, notionalUsd: leg.quantity * price, amountUsd });
    leg.fundingUsd += amountUsd;
    leg.lastFunding = { fundingMs: leg.nextFundingMs, rate, price, priceSource: source, quantity: leg.quantity, amountUsd };
    const interval = leg.fundingIntervalMs !== undefined && leg.fundingIntervalMs > 0 ? leg.fundingIntervalMs : DEFAULT_INTERVAL_MS;
    const quoteNext = quote && quote.nextFundingMs > leg.nextFundingMs ? quote.nextFundingMs : 0;
    // Step one interval at a time (never skip a settlement after an outage), or to the venue's next time if sooner.
    leg.nextFundingMs = quoteNext > 0 ? Math.min(quoteNext, leg.nextFundingMs + interval) : leg.nextFundingMs + interval;
    // With the real clock: a stepped time that is already due is a settlement owed, not a reschedule to skip.
    learnFunding(leg, quote, nowMs);
  }
  return out;
}

/** Starts funding on a freshly entered leg: its pending settlement must be after we held it, so a timestamp the venue has not rolled yet is skipped. */
export function startFunding(leg: Leg, quote: StrategyQuote | null, nowMs: number): void {
  learnFunding(leg, quote);
  const interval = leg.fundingIntervalMs && leg.fundingIntervalMs > 0 ? leg.fundingIntervalMs : DEFAULT_INTERVAL_MS;
  while (leg.nextFundingMs > 0 && leg.nextFundingMs <= nowMs) leg.nextFundingMs += interval;
}
