/**
 * Detector: on an update of one instrument id, scores only the pairs that involve that venue for that
 * instrument, in both directions, and runs each pair's lifecycle (opened → updated* → closed).
 *
 * A leg is an instrument id: (instrument, exchange, settle currency), leg index = exchange · S + settle
 * (instruments.ts; L = LEG_COUNT = exchanges × settle currencies). Per-pair state lives in typed arrays
 * indexed by pair = (instrument · L + longLeg) · L + shortLeg; the per-update path allocates nothing.
 * Legs pair only across DIFFERENT venues: the USDT and USDC markets of one venue are one venue's books
 * (same fee schedule, same outage, often one margin account), not a cross-exchange arbitrage.
 * A USDT leg against a USDC leg is a cross-quote pair (prices compared as if USDT = USDC), scored only
 * when config detector.allowCrossQuote; its money figures are computed exactly like any other pair's.
 * Opportunity objects are made only when an event is published; the last one published per open pair
 * is kept for `opportunities()`.
 *
 * Lifecycle: a pair OPENS when spread ≥ minSpreadBps, fundingDelta8h ≥ minFundingDelta8h, confidence
 * ≥ minConfidence and profit ≥ minProfitBps. An open pair CLOSES only when a metric falls below its
 * threshold minus the hysteresis (hysteresisBps for bps metrics and confidence points,
 * hysteresisBps/1e4 for the funding fraction), so a value hovering at a threshold does not flap.
 * A leg whose quote went stale closes it with `stale_quote`, a leg whose feed is down with `feed_down`.
 * A spread beyond ±maxSpreadBps is a wrong price, not an opportunity: it never opens one and closes an
 * open one with `spread_implausible` (the quarantine should have caught the price first; this is the
 * last line). A leg whose venue's latest quote for the instrument is quarantined (held, see
 * quarantine.ts) is unusable though the store still has its last accepted quote: nothing opens on it and
 * an open pair using it closes with `quote_quarantined` (on the held quote itself, or by sweep).
 */
import type { Config } from '../../shared/config.js';
import type { DepthBook, DepthView } from '../depth/types.js';
import { EXCHANGES } from '../../shared/exchanges.js';
import { opportunityId, type FundingBasis, type Opportunity, type OpportunityCloseReason, type OpportunityEvent } from '../../shared/opportunity.js';
import type { FundingHistoryView } from '../funding/history-types.js';
import type { BroadcastRing } from './bus.js';
import { nowUs } from './clock.js';
import { PairDepthSlippage, bookFresh, capacityUsd, pairDepthSlippage } from './depth-scoring.js';
import type { LatencyHistogram } from './histogram.js';
import { EXCHANGE_COUNT, LEG_COUNT, SETTLE_COUNT, SETTLE_LEG_MASKS, VENUE_LEG_MASKS, type InstrumentMap } from './instruments.js';
import type { MarketStore } from './market-store.js';
import { CARRY_EARNED_SHARE, CARRY_SETTLEMENTS, CARRY_STDEV_BPS, netAprPct, realisedFundingBps } from './carry-stats.js';
import { RealisedCarry, basisWindow } from './realised-carry.js';
import {
  HOUR_MS,
  breakEvenHours,
  confidenceScore,
  expectedFundingBps,
  fundingAprPct,
  fundingEventsInWindow,
  rate8h,
  roundTripFeesBps,
  spreadBps,
  touchSlippageBps,
} from './scoring.js';

const E = EXCHANGE_COUNT;
const S = SETTLE_COUNT;
const L = LEG_COUNT;
const PAIRS_PER_INSTRUMENT = L * L;
export const TIME_NOW_MS = 0;
export const TIME_RECV_US = 1;
// Ordered by precedence: the worse of two legs (Math.max) names the close reason.
const LEGS_OK = 0;
const LEGS_STALE = 1;
const LEGS_HELD = 2;
const LEGS_DOWN = 3;
const CLOSE_REASON_INDEX: Record<OpportunityCloseReason, number> = {
  spread_below_min: 0,
  funding_below_min: 1,
  confidence_below_min: 2,
  unprofitable: 3,
  stale_quote: 4,
  feed_down: 5,
  config_changed: 6,
  spread_implausible: 7,
  quote_quarantined: 8,
  instrument_delisted: 9,
};

/** Which venue symbols have their latest quote quarantined (QuoteQuarantine satisfies it). */
export interface HeldQuotes {
  isHeld(id: number): boolean;
}

export interface DetectorCounters {
  /** Pair evaluations (two per other venue per update). */
  evaluations: number;
  opened: number;
  updated: number;
  closed: Record<OpportunityCloseReason, number>;
  open: number;
}

export class Detector {
  // Config, cached as plain numbers for the hot path.
  private minSpreadBps = 0;
  private minFundingDelta8h = 0;
  private minConfidence = 0;
  private minProfitBps = 0;
  private hysteresisBps = 0;
  private maxSpreadBps = Number.POSITIVE_INFINITY;
  private notionalUsd = 0;
  private horizonMs = 0;
  private impactBps = 0;
  private epsilonBps = 0;
  private maxUpdateIntervalMs = 0;
  private allowCrossQuote = true;
  private requireFunding = true;
  private fundingBasis: FundingBasis = 'current';
  /** The realised window of the basis (realised-carry.ts WINDOW_*): 24 h for `current` and `avg24h`, 7 d for `avg7d`. */
  private carryWindow = 0;
  private minCarryEarnedShare = 0;
  private minOpenInterestUsd = 0;
  private minVolume24hUsd = 0;
  /** Realised funding figures from the settled history (none until setFundingHistory). */
  private readonly carry: RealisedCarry;
  private readonly takerBps = new Float64Array(E);
  /** Per exchange index: the config's fee tier id (or `custom`) the taker fee came from, for the opportunity's breakdown. */
  private readonly feeTier: string[] = new Array<string>(E).fill('');

  /**
   * [TIME_NOW_MS, TIME_RECV_US] of the update being processed, written by the caller. Doubles travel
   * through this array rather than as arguments: a double passed to a call V8 does not inline is boxed
   * (a heap allocation per update).
   */
  readonly time = new Float64Array(2);

  // Per-pair state.
  private pairCap = 0;
  private pOpen = new Uint8Array(0);
  private pOpenPos = new Int32Array(0); // index in openList
  private pFirstSeenMs = new Float64Array(0);
  private pLastEmitMs = new Float64Array(0);
  private pLastProfit = new Float64Array(0);
  private pLastSpread = new Float64Array(0);
  private pLastDelta = new Float64Array(0);
  private pPeakProfit = new Float64Array(0);
  private pUpdates = new Float64Array(0);
  private readonly snapshots: Array<Opportunity | undefined> = [];
  /** Opportunity id string per pair, made on first use (no string built per event). */
  private readonly pairIds: Array<string | undefined> = [];
  private openList = new Int32Array(64);
  private openCount = 0;

  // Scratch values of the pair being scored (fields, not an object: nothing allocated per update).
  private sSpread = 0;
  private sLong8h = 0;
  private sShort8h = 0;
  private sDelta = 0;
  private sFees = 0;
  private sSlip = 0;
  private sEntrySlip = 0;
  private sExitSlip = 0;
  /** 1 when sSlip came from both legs' fresh books, 0 for the touch estimate. */
  private sSlipDepth = 0;
  private readonly depthSlip = new PairDepthSlippage();
  /** Latest in-sync book per id (issue 14); null = touch estimates only. */
  private depth: DepthView | null = null;
  private sExpFunding = 0;
  /** Expected funding from current rates (bps), realised averages of the basis window (bps; NaN = a leg has no history), their 8 h delta (NaN likewise). */
  private sExpCurrent = 0;
  private sExpRealised = Number.NaN;
  private sRealisedDelta = Number.NaN;
  /** Whether sExpFunding used the realised figure (false: current rates, by config or by fallback). */
  private sBasisRealised = false;
  private sProfit = 0;
  private sConfidence = 0;

  private evaluations = 0;
  private openedCount = 0;
  private updatedCount = 0;
  private readonly closedByReason = new Float64Array(Object.keys(CLOSE_REASON_INDEX).length);

  constructor(
    private readonly instruments: InstrumentMap,
    private readonly store: MarketStore,
    private readonly bus: BroadcastRing<OpportunityEvent>,
    config: Config,
    private readonly busLatency?: LatencyHistogram,
    /** Without it no leg counts as held (detector-only tests). */
    private readonly held: HeldQuotes | null = null,
  ) {
    this.carry = new RealisedCarry(instruments);
    this.setConfig(config);
    this.ensurePairs(Math.max(1, instruments.instrumentCount));
    instruments.onCreate(() => this.ensurePairs(instruments.instrumentCount));
  }

  /**
   * Books to score slippage and capacity on (the engine's depth store); null = touch estimates only.
   * Takes effect on the next evaluation; a book change should trigger onUpdate of its id.
   */
  setDepth(view: DepthView | null): void {
    this.depth = view;
  }

  /** Takes effect on the next evaluation. */
  setConfig(config: Config): void {
    const t = config.thresholds;
    const d = config.detector;
    this.minSpreadBps = t.minSpreadBps;
    this.minFundingDelta8h = t.minFundingDelta8h;
    this.minConfidence = t.minConfidence;
    this.minProfitBps = t.minProfitBps;
    this.hysteresisBps = t.hysteresisBps;
    this.maxSpreadBps = t.maxSpreadBps;
    this.notionalUsd = d.notionalUsd;
    this.horizonMs = d.holdingHorizonHours * HOUR_MS;
    this.impactBps = d.slippageImpactBps;
    this.epsilonBps = d.updateEpsilonBps;
    this.maxUpdateIntervalMs = d.maxUpdateIntervalMs;
    this.allowCrossQuote = d.allowCrossQuote;
    this.requireFunding = d.requireFunding;
    this.fundingBasis = d.fundingBasis;
    this.carryWindow = basisWindow(d.fundingBasis);
    this.minCarryEarnedShare = t.minCarryEarnedShare;
    this.minOpenInterestUsd = config.market.minOpenInterestUsd;
    this.minVolume24hUsd = config.market.minVolume24hUsd;
    for (let i = 0; i < E; i++) {
      this.takerBps[i] = config.fees.takerBps[EXCHANGES[i]];
      this.feeTier[i] = config.fees.tier[EXCHANGES[i]];
    }
  }

  /**
   * Scores every pair involving `id` (both directions) after its quote or funding changed, at business
   * time `time[TIME_NOW_MS]`, triggered by a record received at `time[TIME_RECV_US]`.
   */
  onUpdate(id: number): void {
    const m = this.instruments;
    const inst = m.instrumentIndexOf(id);
    const leg = m.legIndexOf(id);
    const ex = this.store.exchange[id];
    const own = this.legState(id, ex);
    // The instrument's legs with an id, less this venue's own (its USDT and USDC markets never pair: not
    // a cross-exchange pair), less the other settle currencies' when cross-quote pairs are off.
    let legs = m.legMask(inst) & ~VENUE_LEG_MASKS[ex];
    if (!this.allowCrossQuote) legs &= SETTLE_LEG_MASKS[leg % S];
    while (legs !== 0) {
      const bit = legs & -legs;
      legs ^= bit;
      const other = 31 - Math.clz32(bit);
      const otherId = m.legId(inst, other);
      // feed_down wins over held, held over stale: check the other leg unless ours is already down.
      const state = own === LEGS_DOWN ? LEGS_DOWN : Math.max(own, this.legState(otherId, this.store.exchange[otherId]));
      this.evaluatePair(inst, id, leg, otherId, other, state);
      this.evaluatePair(inst, otherId, other, id, leg, state);
    }
  }

  /**
   * LEGS_OK, LEGS_STALE (no fresh quote), LEGS_HELD (its latest quote is quarantined: the stored one is
   * not its current price) or LEGS_DOWN (its exchange's feed is down).
   */
  private legState(id: number, ex: number): number {
    if (this.store.exchangeDown[ex] !== 0) return LEGS_DOWN;
    if (this.held !== null && this.held.isHeld(id)) return LEGS_HELD;
    return this.store.fresh(id, this.time[TIME_NOW_MS]) ? LEGS_OK : LEGS_STALE;
  }

  /** Closes every open opportunity with a leg on exchange index `ex` (its feed went down, or it was disabled). */
  closeExchange(ex: number, nowMs: number, reason: OpportunityCloseReason = 'feed_down'): void {
    const recvUs = nowUs();
    this.time[TIME_NOW_MS] = nowMs;
    for (let i = this.openCount - 1; i >= 0; i--) {
      const p = this.openList[i];
      const lx = Math.floor((Math.floor(p / L) % L) / S);
      const sx = Math.floor((p % L) / S);
      if (lx === ex || sx === ex) this.closeFromSnapshot(p, reason, nowMs, recvUs);
    }
  }

  /** Closes every open cross-quote opportunity (config detector.allowCrossQuote was turned off). */
  closeCrossQuote(nowMs: number, reason: OpportunityCloseReason = 'config_changed'): void {
    const recvUs = nowUs();
    this.time[TIME_NOW_MS] = nowMs;
    for (let i = this.openCount - 1; i >= 0; i--) {
      const p = this.openList[i];
      if ((Math.floor(p / L) % L) % S !== (p % L) % S) this.closeFromSnapshot(p, reason, nowMs, recvUs);
    }
  }

  /** Closes every open opportunity of instrument index `inst` (it was removed from the config). */
  closeInstrument(inst: number, nowMs: number, reason: OpportunityCloseReason = 'config_changed'): void {
    const recvUs = nowUs();
    this.time[TIME_NOW_MS] = nowMs;
    for (let i = this.openCount - 1; i >= 0; i--) {
      const p = this.openList[i];
      if (Math.floor(p / PAIRS_PER_INSTRUMENT) === inst) this.closeFromSnapshot(p, reason, nowMs, recvUs);
    }
  }

  /** Closes every open opportunity with venue symbol `id` as a leg (it left the scanned universe: setInstrumentListed). */
  closeId(id: number, nowMs: number, reason: OpportunityCloseReason): void {
    const recvUs = nowUs();
    this.time[TIME_NOW_MS] = nowMs;
    for (let i = this.openCount - 1; i >= 0; i--) {
      const p = this.openList[i];
      const inst = Math.floor(p / PAIRS_PER_INSTRUMENT);
      if (this.instruments.legId(inst, Math.floor(p / L) % L) === id || this.instruments.legId(inst, p % L) === id) this.closeFromSnapshot(p, reason, nowMs, recvUs);
    }
  }

  /** Closes open opportunities that have a stale, held or down leg (no update arrives to notice it). */
  sweep(nowMs: number): void {
    const recvUs = nowUs();
    this.time[TIME_NOW_MS] = nowMs;
    for (let i = this.openCount - 1; i >= 0; i--) {
      const p = this.openList[i];
      const inst = Math.floor(p / PAIRS_PER_INSTRUMENT);
      const longId = this.instruments.legId(inst, Math.floor(p / L) % L);
      const shortId = this.instruments.legId(inst, p % L);
      const lx = this.store.exchange[longId];
      const sx = this.store.exchange[shortId];
      if (this.store.exchangeDown[lx] !== 0 || this.store.exchangeDown[sx] !== 0) this.closeFromSnapshot(p, 'feed_down', nowMs, recvUs);
      else if (this.held !== null && (this.held.isHeld(longId) || this.held.isHeld(shortId))) this.closeFromSnapshot(p, 'quote_quarantined', nowMs, recvUs);
      else if (!this.store.fresh(longId, nowMs) || !this.store.fresh(shortId, nowMs)) this.closeFromSnapshot(p, 'stale_quote', nowMs, recvUs);
    }
  }

  /** The open opportunities, as last published. */
  opportunities(): Opportunity[] {
    const out: Opportunity[] = [];
    for (let i = 0; i < this.openCount; i++) {
      const snap = this.snapshots[this.openList[i]];
      if (snap) out.push(snap);
    }
    return out;
  }

  get openCountNow(): number {
    return this.openCount;
  }

  counters(): DetectorCounters {
    const closed = {} as Record<OpportunityCloseReason, number>;
    for (const [reason, i] of Object.entries(CLOSE_REASON_INDEX)) closed[reason as OpportunityCloseReason] = this.closedByReason[i];
    return { evaluations: this.evaluations, opened: this.openedCount, updated: this.updatedCount, closed, open: this.openCount };
  }

  /** `longLeg`/`shortLeg`: leg indexes within the instrument; `legs`: the worse state of the two legs (LEGS_*), computed once per update by onUpdate. */
  private evaluatePair(inst: number, longId: number, longLeg: number, shortId: number, shortLeg: number, legs: number): void {
    this.evaluations++;
    const nowMs = this.time[TIME_NOW_MS];
    const recvUs = this.time[TIME_RECV_US];
    const p = (inst * L + longLeg) * L + shortLeg;
    const open = this.pOpen[p] === 1;
    const store = this.store;
    const lx = store.exchange[longId];
    const sx = store.exchange[shortId];
    if (legs !== LEGS_OK) {
      if (open) this.closeFromSnapshot(p, legs === LEGS_DOWN ? 'feed_down' : legs === LEGS_HELD ? 'quote_quarantined' : 'stale_quote', nowMs, recvUs);
      return;
    }
    if (!open) {
      // Cheap exits first: most pairs fail the spread test (one direction is nearly always negative),
      // and an unopened pair cannot open without passing it, so the rest need not be scored.
      const spread = spreadBps(store.ask[longId], store.bid[shortId]);
      if (!(spread >= this.minSpreadBps) || !(Math.abs(spread) <= this.maxSpreadBps)) return;
      // Funding unknown on a leg: not opened unless config allows it, and then never on a funding
      // threshold it cannot be shown to meet (an unknown rate is not a zero rate).
      const fundingKnown = this.fundingKnown(longId) && this.fundingKnown(shortId);
      if (!fundingKnown && (this.requireFunding || this.minFundingDelta8h > 0)) return;
      const delta = rate8h(store.fundingRate[shortId], store.fundingIntervalMs[shortId]) - rate8h(store.fundingRate[longId], store.fundingIntervalMs[longId]);
      if (!(delta >= this.minFundingDelta8h)) return;
      this.score(longId, lx, shortId, sx);
      if (this.sConfidence >= this.minConfidence && this.sProfit >= this.minProfitBps && this.carryStableEnough(p, longId, shortId, nowMs) && this.liquidEnough(longId) && this.liquidEnough(shortId))
        this.open(p, longId, shortId, nowMs, recvUs);
      return;
    }

    this.score(longId, lx, shortId, sx);
    const spread = this.sSpread;
    const delta = this.sDelta;
    const profit = this.sProfit;
    const confidence = this.sConfidence;

    const h = this.hysteresisBps;
    let reason: OpportunityCloseReason | null = null;
    if (!(Math.abs(spread) <= this.maxSpreadBps)) reason = 'spread_implausible';
    else if (spread < this.minSpreadBps - h) reason = 'spread_below_min';
    else if (delta < this.minFundingDelta8h - h / 1e4) reason = 'funding_below_min';
    else if (confidence < this.minConfidence - h) reason = 'confidence_below_min';
    else if (profit < this.minProfitBps - h) reason = 'unprofitable';
    if (reason !== null) {
      this.closeScored(p, longId, shortId, reason, nowMs, recvUs);
      return;
    }

    this.pUpdates[p]++;
    if (profit > this.pPeakProfit[p]) this.pPeakProfit[p] = profit;
    const dProfit = Math.abs(profit - this.pLastProfit[p]);
    const dSpread = Math.abs(spread - this.pLastSpread[p]);
    const moved = dProfit > this.epsilonBps || dSpread > this.epsilonBps;
    const changed = dProfit > 0 || dSpread > 0 || delta !== this.pLastDelta[p];
    const due = this.maxUpdateIntervalMs > 0 && nowMs - this.pLastEmitMs[p] >= this.maxUpdateIntervalMs;
    if (moved || (changed && due)) this.emitUpdated(p, longId, shortId, nowMs, recvUs);
  }

  /**
   * Whether the leg has a funding rate, interval and next settlement from its venue. An unknown leg's
   * interval and next settlement stay 0 in the store, so the opportunity carries it (shared fundingUnknown).
   */
  private fundingKnown(id: number): boolean {
    const s = this.store;
    return s.hasFunding[id] === 1 && s.fundingIntervalMs[id] > 0 && s.nextFundingMs[id] > 0;
  }

  /** Fills the scratch fields for (long, short) from the store. */
  private score(longId: number, lx: number, shortId: number, sx: number): void {
    const s = this.store;
    const nowMs = this.time[TIME_NOW_MS];
    const longAsk = s.ask[longId];
    const shortBid = s.bid[shortId];
    const longRate = s.fundingRate[longId];
    const shortRate = s.fundingRate[shortId];
    const longInterval = s.fundingIntervalMs[longId];
    const shortInterval = s.fundingIntervalMs[shortId];
    this.sSpread = spreadBps(longAsk, shortBid);
    this.sLong8h = rate8h(longRate, longInterval);
    this.sShort8h = rate8h(shortRate, shortInterval);
    this.sDelta = this.sShort8h - this.sLong8h;
    this.sFees = roundTripFeesBps(this.takerBps[lx], this.takerBps[sx]);
    this.scoreSlippage(longId, longAsk, shortId, shortBid);
    const nLong = fundingEventsInWindow(nowMs, this.horizonMs, s.nextFundingMs[longId], longInterval);
    const nShort = fundingEventsInWindow(nowMs, this.horizonMs, s.nextFundingMs[shortId], shortInterval);
    // One leg's funding alone is not the pair's carry: with either unknown, none is counted (flagged in the opportunity).
    const known = this.fundingKnown(longId) && this.fundingKnown(shortId);
    this.sExpCurrent = known ? expectedFundingBps(nShort, shortRate, nLong, longRate) : 0;
    this.scoreRealisedFunding(longId, shortId, nowMs);
    if (!known) this.sBasisRealised = false; // no funding counted at all: no basis applied
    this.sExpFunding = !known ? 0 : this.sBasisRealised ? this.sExpRealised : this.sExpCurrent;
    this.sProfit = this.sSpread + this.sExpFunding - this.sFees - this.sSlip;
    this.sConfidence = confidenceScore(this.sSpread, this.sDelta);
  }

  // ---- Depth (issue 14 §2): slippage and capacity on the books -------------------------------------------

  /**
   * Fills sSlip (= entry + exit), sEntrySlip, sExitSlip and sSlipDepth: VWAP on both legs' books when
   * both are fresh and usable, else the touch estimate (the exit assumed to cost what the entry does).
   */
  private scoreSlippage(longId: number, longAsk: number, shortId: number, shortBid: number): void {
    const long = this.freshBook(longId);
    const short = long === undefined ? undefined : this.freshBook(shortId);
    if (long !== undefined && short !== undefined && pairDepthSlippage(long, short, this.notionalUsd, this.impactBps, this.depthSlip)) {
      this.sEntrySlip = this.depthSlip.entryBps;
      this.sExitSlip = this.depthSlip.exitBps;
      this.sSlipDepth = 1;
    } else {
      const s = this.store;
      const entry = touchSlippageBps(this.notionalUsd, longAsk, s.askSize[longId], this.impactBps) + touchSlippageBps(this.notionalUsd, shortBid, s.bidSize[shortId], this.impactBps);
      this.sEntrySlip = entry;
      this.sExitSlip = entry;
      this.sSlipDepth = 0;
    }
    this.sSlip = this.sEntrySlip + this.sExitSlip;
  }

  /** The id's book when the depth view holds one (it serves none older than the staleness limit) and its venue stamp is fresh. */
  private freshBook(id: number): DepthBook | undefined {
    const book = this.depth?.get(id);
    return book !== undefined && bookFresh(book, this.time[TIME_NOW_MS], this.store.staleAfterMs) ? book : undefined;
  }

  /**
   * capacityUsd of the pair just scored: computed only when an event is built (it walks every level of
   * four sides). null without fresh, usable books on both legs.
   */
  private pairCapacityUsd(longId: number, shortId: number): number | null {
    if (this.sSlipDepth === 0) return null;
    const long = this.freshBook(longId);
    const short = this.freshBook(shortId);
    if (long === undefined || short === undefined) return null;
    return capacityUsd(long, short, this.sSpread + this.sExpFunding - this.sFees, this.minProfitBps);
  }

  // ---- Realised carry (issue 13 §3): funding basis, stability -----------------------------------------

  /** Realised funding history for the funding basis and stability figures; null = none (realised figures unknown). */
  setFundingHistory(view: FundingHistoryView | null): void {
    this.carry.setView(view);
  }

  /**
   * Fills sExpRealised / sRealisedDelta from the legs' cached realised averages over the basis window, and
   * sBasisRealised: the realised figure replaces the current one only with a realised basis and history on
   * both legs (otherwise the current rates stand, and the opportunity's fundingBasis says `current`).
   */
  private scoreRealisedFunding(longId: number, shortId: number, nowMs: number): void {
    const longAvg = this.carry.legAverage8h(longId, this.carryWindow, nowMs);
    const shortAvg = this.carry.legAverage8h(shortId, this.carryWindow, nowMs);
    // NaN (a leg without history) propagates into both figures.
    this.sRealisedDelta = shortAvg - longAvg;
    this.sExpRealised = realisedFundingBps(shortAvg, longAvg, this.horizonMs);
    this.sBasisRealised = this.fundingBasis !== 'current' && !Number.isNaN(this.sExpRealised);
  }

  /** thresholds.minCarryEarnedShare (0 = off): the pair earned in at least that share of the window's settlements (none known = not enough). */
  private carryStableEnough(p: number, longId: number, shortId: number, nowMs: number): boolean {
    if (!(this.minCarryEarnedShare > 0)) return true;
    const share = this.carry.pairStat(p, longId, shortId, this.carryWindow, nowMs, CARRY_EARNED_SHARE);
    return share >= this.minCarryEarnedShare; // false for NaN
  }

  // ---- Liquidity (issue 13 §5): open interest and 24 h volume per leg ----------------------------------

  /** market.minOpenInterestUsd / minVolume24hUsd (0 = off): the leg's market reaches both; an unknown figure does not. */
  private liquidEnough(id: number): boolean {
    const s = this.store;
    return (!(this.minOpenInterestUsd > 0) || s.openInterestUsd[id] >= this.minOpenInterestUsd) && (!(this.minVolume24hUsd > 0) || s.volume24hUsd[id] >= this.minVolume24hUsd);
  }

  /** The opportunity's per-leg open interest and volume (null = not published). */
  private liquidityFields(longId: number, shortId: number): Partial<Opportunity> {
    const s = this.store;
    const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);
    return {
      longOpenInterestUsd: orNull(s.openInterestUsd[longId]),
      shortOpenInterestUsd: orNull(s.openInterestUsd[shortId]),
      longVolume24hUsd: orNull(s.volume24hUsd[longId]),
      shortVolume24hUsd: orNull(s.volume24hUsd[shortId]),
    };
  }

  /** The opportunity's funding-basis, realised-carry, stability and net APR fields (on an event only). */
  private realisedCarryFields(p: number, longId: number, shortId: number, nowMs: number): Partial<Opportunity> {
    const w = this.carryWindow;
    const share = this.carry.pairStat(p, longId, shortId, w, nowMs, CARRY_EARNED_SHARE);
    const stdev = this.carry.pairStat(p, longId, shortId, w, nowMs, CARRY_STDEV_BPS);
    return {
      fundingBasis: this.sBasisRealised ? this.fundingBasis : 'current',
      expectedFundingCurrentBps: this.sExpCurrent,
      expectedFundingRealisedBps: Number.isNaN(this.sExpRealised) ? null : this.sExpRealised,
      realisedFundingDelta8h: Number.isNaN(this.sRealisedDelta) ? null : this.sRealisedDelta,
      carryEarnedShare: Number.isNaN(share) ? null : share,
      carryStdevBps: Number.isNaN(stdev) ? null : stdev,
      carrySettlements: this.carry.pairStat(p, longId, shortId, w, nowMs, CARRY_SETTLEMENTS),
      netAprPct: netAprPct(this.sProfit, this.horizonMs),
    };
  }

  private open(p: number, longId: number, shortId: number, nowMs: number, recvUs: number): void {
    this.pOpen[p] = 1;
    this.pFirstSeenMs[p] = nowMs;
    this.pPeakProfit[p] = this.sProfit;
    this.pUpdates[p] = 1;
    if (this.openCount === this.openList.length) {
      const grown = new Int32Array(this.openList.length * 2);
      grown.set(this.openList);
      this.openList = grown;
    }
    this.pOpenPos[p] = this.openCount;
    this.openList[this.openCount++] = p;
    this.openedCount++;
    const t0 = nowUs();
    const opp = this.build(p, longId, shortId, nowMs);
    this.remember(p, opp, nowMs);
    this.publish({ kind: 'opened', seq: this.bus.published + 1, tsMs: nowMs, recvUs, opportunity: opp }, t0);
  }

  private emitUpdated(p: number, longId: number, shortId: number, nowMs: number, recvUs: number): void {
    this.updatedCount++;
    const t0 = nowUs();
    const opp = this.build(p, longId, shortId, nowMs);
    this.remember(p, opp, nowMs);
    this.publish({ kind: 'updated', seq: this.bus.published + 1, tsMs: nowMs, recvUs, opportunity: opp }, t0);
  }

  /** Close after scoring: the event carries the values that failed the threshold. */
  private closeScored(p: number, longId: number, shortId: number, reason: OpportunityCloseReason, nowMs: number, recvUs: number): void {
    const t0 = nowUs();
    this.pUpdates[p]++;
    const opp = this.build(p, longId, shortId, nowMs);
    this.finishClose(p, opp, reason, nowMs, recvUs, t0);
  }

  /** Close without fresh values (stale, held or down leg): the last published values, with current ages. */
  private closeFromSnapshot(p: number, reason: OpportunityCloseReason, nowMs: number, recvUs: number): void {
    const t0 = nowUs();
    const last = this.snapshots[p];
    if (!last) return;
    const inst = Math.floor(p / PAIRS_PER_INSTRUMENT);
    const longId = this.instruments.legId(inst, Math.floor(p / L) % L);
    const shortId = this.instruments.legId(inst, p % L);
    const opp: Opportunity = {
      ...last,
      updatedMs: nowMs,
      longQuoteAgeMs: this.store.quoteAgeMs(longId, nowMs),
      shortQuoteAgeMs: this.store.quoteAgeMs(shortId, nowMs),
      peakProfitBps: this.pPeakProfit[p],
      updateCount: this.pUpdates[p],
    };
    this.finishClose(p, opp, reason, nowMs, recvUs, t0);
  }

  private finishClose(p: number, opp: Opportunity, reason: OpportunityCloseReason, nowMs: number, recvUs: number, t0: number): void {
    this.pOpen[p] = 0;
    const pos = this.pOpenPos[p];
    const lastPair = this.openList[--this.openCount];
    this.openList[pos] = lastPair;
    this.pOpenPos[lastPair] = pos;
    this.snapshots[p] = undefined;
    this.closedByReason[CLOSE_REASON_INDEX[reason]]++;
    this.publish(
      { kind: 'closed', seq: this.bus.published + 1, tsMs: nowMs, recvUs, opportunity: opp, reason, lifetimeMs: nowMs - this.pFirstSeenMs[p] },
      t0,
    );
  }

  private remember(p: number, opp: Opportunity, nowMs: number): void {
    this.snapshots[p] = opp;
    this.pLastEmitMs[p] = nowMs;
    this.pLastProfit[p] = opp.projectedProfitBps;
    this.pLastSpread[p] = opp.spreadBps;
    this.pLastDelta[p] = opp.fundingDelta8h;
  }

  private publish(event: OpportunityEvent, t0: number): void {
    this.bus.publish(event);
    this.busLatency?.recordUs(nowUs() - t0);
  }

  /** An Opportunity from the scratch fields (allocation happens only here, on an event). */
  private build(p: number, longId: number, shortId: number, nowMs: number): Opportunity {
    const s = this.store;
    const m = this.instruments;
    const instrument = m.instrumentOf(longId);
    const longExchange = m.exchangeOf(longId);
    const shortExchange = m.exchangeOf(shortId);
    const longSettle = m.settleOf(longId);
    const shortSettle = m.settleOf(shortId);
    const profit = this.sProfit;
    if (profit > this.pPeakProfit[p]) this.pPeakProfit[p] = profit;
    return {
      id: (this.pairIds[p] ??= opportunityId(instrument, longExchange, shortExchange, longSettle, shortSettle)),
      instrument,
      longExchange,
      shortExchange,
      longSymbol: m.symbolOf(longId),
      shortSymbol: m.symbolOf(shortId),
      longSettle,
      shortSettle,
      crossQuote: longSettle !== shortSettle,
      longAsk: s.ask[longId],
      shortBid: s.bid[shortId],
      longAskSize: s.askSize[longId],
      shortBidSize: s.bidSize[shortId],
      spreadBps: this.sSpread,
      longFundingRate8h: this.sLong8h,
      shortFundingRate8h: this.sShort8h,
      fundingDelta8h: this.sDelta,
      fundingAprPct: fundingAprPct(this.sDelta),
      longFundingPredicted: s.fundingPredicted[longId] === 1,
      shortFundingPredicted: s.fundingPredicted[shortId] === 1,
      longNextFundingMs: s.nextFundingMs[longId],
      shortNextFundingMs: s.nextFundingMs[shortId],
      longFundingIntervalMs: s.fundingIntervalMs[longId],
      shortFundingIntervalMs: s.fundingIntervalMs[shortId],
      feesBps: this.sFees,
      longFeeTier: this.feeTier[s.exchange[longId]],
      shortFeeTier: this.feeTier[s.exchange[shortId]],
      longTakerFeeBps: this.takerBps[s.exchange[longId]],
      shortTakerFeeBps: this.takerBps[s.exchange[shortId]],
      slippageBps: this.sSlip,
      slippageSource: this.sSlipDepth === 1 ? 'depth' : 'touch',
      entrySlippageBps: this.sEntrySlip,
      exitSlippageBps: this.sExitSlip,
      capacityUsd: this.pairCapacityUsd(longId, shortId),
      expectedFundingBps: this.sExpFunding,
      projectedProfitBps: profit,
      projectedProfitUsd: (profit / 1e4) * this.notionalUsd,
      notionalUsd: this.notionalUsd,
      confidence: this.sConfidence,
      breakEvenHours: breakEvenHours(this.sFees, this.sSlip, this.sSpread, this.sDelta),
      ...this.realisedCarryFields(p, longId, shortId, nowMs),
      ...this.liquidityFields(longId, shortId),
      longQuoteAgeMs: s.quoteAgeMs(longId, nowMs),
      shortQuoteAgeMs: s.quoteAgeMs(shortId, nowMs),
      firstSeenMs: this.pFirstSeenMs[p],
      updatedMs: nowMs,
      peakProfitBps: this.pPeakProfit[p],
      updateCount: this.pUpdates[p],
    };
  }

  private ensurePairs(instrumentCount: number): void {
    const need = instrumentCount * PAIRS_PER_INSTRUMENT;
    if (need <= this.pairCap) return;
    let cap = Math.max(this.pairCap, 64 * PAIRS_PER_INSTRUMENT);
    while (cap < need) cap *= 2;
    const grow = <A extends Float64Array | Int32Array | Uint8Array>(a: A, make: (n: number) => A): A => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.pOpen = grow(this.pOpen, (n) => new Uint8Array(n));
    this.pOpenPos = grow(this.pOpenPos, (n) => new Int32Array(n));
    this.pFirstSeenMs = grow(this.pFirstSeenMs, (n) => new Float64Array(n));
    this.pLastEmitMs = grow(this.pLastEmitMs, (n) => new Float64Array(n));
    this.pLastProfit = grow(this.pLastProfit, (n) => new Float64Array(n));
    this.pLastSpread = grow(this.pLastSpread, (n) => new Float64Array(n));
    this.pLastDelta = grow(this.pLastDelta, (n) => new Float64Array(n));
    this.pPeakProfit = grow(this.pPeakProfit, (n) => new Float64Array(n));
    this.pUpdates = grow(this.pUpdates, (n) => new Float64Array(n));
    this.pairCap = cap;
  }
}
