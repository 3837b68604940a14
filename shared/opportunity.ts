import type { Exchange } from './exchanges.js';

import { DEFAULT_SETTLE, type SettleCurrency } from './instrument-key.js';

export { SETTLE_CURRENCIES, DEFAULT_SETTLE, type SettleCurrency } from './instrument-key.js';

/** Why an opportunity stopped being one. Machine-readable: the dashboard and the strategy switch on it. */
export const OPPORTUNITY_CLOSE_REASONS = [
  'spread_below_min',
  'funding_below_min',
  'confidence_below_min',
  'unprofitable',
  'stale_quote',
  'feed_down',
  'config_changed',
  /** The spread passed thresholds.maxSpreadBps: a price is wrong, not an opportunity. */
  'spread_implausible',
  /**
   * A leg's venue's latest quote for the instrument is quarantined (server/engine/quarantine.ts): its
   * current price is unknown, so the pair is not an opportunity on the leg's last accepted quote.
   * (Appended: persisted events store the index into this list.)
   */
  'quote_quarantined',
  /**
   * A leg's venue symbol was delisted (or stopped trading) according to the venue's instrument discovery:
   * it is unsubscribed and unusable until listed again. (Appended, as above.)
   */
  'instrument_delisted',
] as const;
export type OpportunityCloseReason = (typeof OPPORTUNITY_CLOSE_REASONS)[number];

/** Expected funding over the horizon from current rates, or from realised averages over 24 h / 7 d. */
export const FUNDING_BASES = ['current', 'avg24h', 'avg7d'] as const;
export type FundingBasis = (typeof FUNDING_BASES)[number];
/** How an opportunity's slippage was estimated. */
export const SLIPPAGE_SOURCES = ['touch', 'depth'] as const;
export type SlippageSource = (typeof SLIPPAGE_SOURCES)[number];

/**
 * One scored cross-exchange opportunity: buy (long) `instrument` on `longExchange` at its ask,
 * sell (short) it on `shortExchange` at its bid. Identified by (instrument, longExchange, shortExchange).
 *
 * Units: prices in quote currency, sizes in BASE units (never contracts), rates as fractions
 * (0.0001 = 1 bp), `*Bps` in basis points, times in epoch milliseconds (`*Ms`).
 */
export interface Opportunity {
  /**
   * `${instrument}|${longLeg}|${shortLeg}`, a leg being the exchange, suffixed `:${settle}` when not USDT
   * (`BTC-PERP|<long venue>|<short venue>`, `BTC-PERP|<long venue>:USDC|<short venue>`): unique per (instrument, long leg, short leg), and
   * unchanged from the first release for USDT legs. See opportunityId.
   */
  id: string;
  /** Normalised instrument key, e.g. `BTC-PERP`. */
  instrument: string;
  longExchange: Exchange;
  shortExchange: Exchange;
  longSymbol: string;
  shortSymbol: string;
  /** Settle (quote) currency of each leg's market: prices, fees and P&L of that leg are in it. */
  longSettle: SettleCurrency;
  shortSettle: SettleCurrency;
  /**
   * longSettle ≠ shortSettle (a USDT leg against a USDC leg). Prices are compared as if USDT = USDC;
   * the spread then includes the USDT/USDC basis. Scored only when config detector.allowCrossQuote.
   */
  crossQuote: boolean;
  longAsk: number;
  shortBid: number;
  longAskSize: number;
  shortBidSize: number;
  /** (shortBid - longAsk) / longAsk * 1e4 */
  spreadBps: number;
  /** Funding rates normalised to an 8 h interval, as fractions. */
  longFundingRate8h: number;
  shortFundingRate8h: number;
  /** shortFundingRate8h - longFundingRate8h; positive = the pair EARNS funding (the short receives positive funding). */
  fundingDelta8h: number;
  /** Annualised funding edge of the pair in percent (fundingDelta8h * 3 * 365 * 100). */
  fundingAprPct: number;
  /** True when the leg's rate is a predicted/indicative rate rather than the current one (engine ≥ issue 2). */
  longFundingPredicted?: boolean;
  shortFundingPredicted?: boolean;
  longNextFundingMs: number;
  shortNextFundingMs: number;
  /** 0 with the next settlement 0: the leg's funding is UNKNOWN (see fundingUnknown), its rate is then not a known zero. */
  longFundingIntervalMs: number;
  shortFundingIntervalMs: number;
  /** Taker fees for entry AND exit of both legs, in bps of notional. */
  feesBps: number;
  /**
   * The fee breakdown: which fee level applied to each leg (the venue's tier id from config fees.tier, e.g.
   * `regular`, `vip1`, or `custom`) and its taker fee per fill (bps); feesBps = 2 × (long + short).
   * Absent on records from before fee tiers.
   */
  longFeeTier?: string;
  shortFeeTier?: string;
  longTakerFeeBps?: number;
  shortTakerFeeBps?: number;
  /** Estimated slippage of both legs at the configured notional, in bps: entry plus an equal exit estimate. */
  slippageBps: number;
  /** Funding expected over the holding horizon from the funding events that fall in it, in bps (signed). */
  expectedFundingBps: number;
  /** spreadBps + expectedFundingBps - feesBps - slippageBps */
  projectedProfitBps: number;
  /** projectedProfitBps for the configured notional, in USD. */
  projectedProfitUsd: number;
  notionalUsd: number;
  /** Seed's score: spread 50 %, funding 30 %, base 20 %; 0..100. */
  confidence: number;
  /** Hours of funding edge needed to pay back entry + exit costs; null when the funding edge is <= 0. */
  breakEvenHours: number | null;
  // ---- Wave 2 extensions (all optional: records from before them read without them) -----------------
  /** Which funding figure expectedFundingBps used (config detector.fundingBasis). */
  fundingBasis?: FundingBasis;
  /** Funding expected over the horizon from the legs' CURRENT rates, bps (signed): today's figure. */
  expectedFundingCurrentBps?: number;
  /**
   * Funding expected over the horizon from the legs' REALISED averages (the basis window; 24 h when the
   * basis is `current`), bps (signed); null = not enough settled history for a leg.
   */
  expectedFundingRealisedBps?: number | null;
  /** Realised short − long funding over that window, fraction per 8 h; null = not enough history. */
  realisedFundingDelta8h?: number | null;
  /** Stability of the pair's carry over the window: share (0..1) of its settlements where the pair earned; null = none. */
  carryEarnedShare?: number | null;
  /** Standard deviation of the pair's per-settlement carry over the window, bps; null = fewer than two settlements. */
  carryStdevBps?: number | null;
  /** Settlements the stability figures are computed from. */
  carrySettlements?: number;
  /** projectedProfitBps annualised over the holding horizon, percent: the rank of carry-driven opportunities. */
  netAprPct?: number;
  /** Where slippageBps came from: `depth` = VWAP on fresh books of both legs; `touch` = the top-of-book estimate. */
  slippageSource?: SlippageSource;
  /** Entry slippage (both legs, bps of notional) and the exit estimate from the opposite sides of the same books. */
  entrySlippageBps?: number;
  exitSlippageBps?: number;
  /** Largest notional (USD) at which projectedProfitBps still reaches thresholds.minProfitBps on both books; null = no fresh books. */
  capacityUsd?: number | null;
  /** Open interest and 24 h traded volume of each leg's market, USD; null = the venue does not publish it (or not yet). */
  longOpenInterestUsd?: number | null;
  shortOpenInterestUsd?: number | null;
  longVolume24hUsd?: number | null;
  shortVolume24hUsd?: number | null;
  longQuoteAgeMs: number;
  shortQuoteAgeMs: number;
  firstSeenMs: number;
  updatedMs: number;
  peakProfitBps: number;
  updateCount: number;
}

export type OpportunityEventKind = 'opened' | 'updated' | 'closed';

export interface OpportunityOpened {
  kind: 'opened';
  /** Bus sequence number (global, increasing). */
  seq: number;
  tsMs: number;
  /** Local receive time (epoch µs) of the market frame that caused this event; for latency accounting. */
  recvUs: number;
  opportunity: Opportunity;
}
export interface OpportunityUpdated {
  kind: 'updated';
  seq: number;
  tsMs: number;
  /** Local receive time (epoch µs) of the market frame that caused this event; for latency accounting. */
  recvUs: number;
  opportunity: Opportunity;
}
export interface OpportunityClosed {
  kind: 'closed';
  seq: number;
  tsMs: number;
  recvUs: number;
  opportunity: Opportunity;
  reason: OpportunityCloseReason;
  lifetimeMs: number;
}
export type OpportunityEvent = OpportunityOpened | OpportunityUpdated | OpportunityClosed;

/** A leg in an opportunity id: the exchange, with `:${settle}` when the settle is not USDT. */
export function legTag(exchange: Exchange, settle: string = DEFAULT_SETTLE): string {
  return settle === DEFAULT_SETTLE ? exchange : `${exchange}:${settle}`;
}

export function opportunityId(instrument: string, longExchange: Exchange, shortExchange: Exchange, longSettle: string = DEFAULT_SETTLE, shortSettle: string = DEFAULT_SETTLE): string {
  return `${instrument}|${legTag(longExchange, longSettle)}|${legTag(shortExchange, shortSettle)}`;
}

/**
 * Whether one leg's funding is unknown: the engine had no funding (rate, interval and next settlement)
 * for it, so its interval or next settlement is 0 and its rate is not a known zero.
 */
export function legFundingUnknown(intervalMs: number, nextFundingMs: number): boolean {
  return !(intervalMs > 0) || !(nextFundingMs > 0);
}

/**
 * A "funding unknown" pair (issue 13): either leg's funding is unknown. The detector opens one only with
 * detector.requireFunding false, counting no funding in its profit (expectedFundingBps 0); the dashboard marks it.
 */
export function fundingUnknown(o: Pick<Opportunity, 'longFundingIntervalMs' | 'longNextFundingMs' | 'shortFundingIntervalMs' | 'shortNextFundingMs'>): boolean {
  return legFundingUnknown(o.longFundingIntervalMs, o.longNextFundingMs) || legFundingUnknown(o.shortFundingIntervalMs, o.shortNextFundingMs);
}
