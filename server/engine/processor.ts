/**
 * Applies pipeline records: sanity check → quarantine review → market store → detector. It is the pipeline's zero-copy
 * sink, so record fields are read straight out of the ring and no double crosses a call boundary that
 * V8 might not inline (which would box it: an allocation per update).
 */
import type { Detector } from './detector.js';
import { TIME_NOW_MS, TIME_RECV_US } from './detector.js';
import type { InstrumentMap } from './instruments.js';
import type { MarketStore } from './market-store.js';
import {
  F_ASK,
  F_ASK_SIZE,
  F_BID,
  F_BID_SIZE,
  F_EXCHANGE_TS_MS,
  F_FUNDING_PRICE,
  F_INTERVAL_MS,
  F_NEXT_FUNDING_MS,
  F_OPEN_INTEREST_USD,
  F_PREDICTED,
  F_RATE,
  F_RECV_US,
  F_VOLUME_24H_USD,
  KIND_QUOTE,
  KIND_STATS,
  type RecordSink,
} from './pipeline.js';
import { IN_ASK, IN_BID, IN_NOW_MS, Q_CROSSED, Q_NONE, Q_NON_POSITIVE, type QuoteQuarantine } from './quarantine.js';
import { REJECT_NONE, REJECT_REASONS, R_CROSSED, R_PRICE, R_TIMESTAMP, R_UNKNOWN_ID, checkFunding, checkFundingPrice, checkQuote, timestampOk } from './sanity.js';

export class RecordProcessor implements RecordSink {
  /** Rejections per REJECT_REASONS index. */
  readonly rejected = new Float64Array(REJECT_REASONS.length);
  updates = 0;
  quotes = 0;
  fundings = 0;
  /** Open-interest / volume records applied (they change no price: nothing is re-scored on them). */
  stats = 0;
  /** Quotes held by the quarantine (also counted per venue and reason there). */
  quarantined = 0;
  /** recvUs of the stamped records applied since the last resetBatch() (for the latency histogram). */
  readonly batchRecvUs: Float64Array;
  batchCount = 0;

  constructor(
    private readonly instruments: InstrumentMap,
    private readonly store: MarketStore,
    private readonly detector: Detector,
    private readonly quarantine: QuoteQuarantine,
    /** Largest batch: the pipeline's capacity (a drain never reads more). */
    maxBatch: number,
  ) {
    this.batchRecvUs = new Float64Array(maxBatch);
  }

  /** Call before each drain with the business time the batch is processed at. */
  beginBatch(nowMs: number): void {
    this.detector.time[TIME_NOW_MS] = nowMs;
    this.batchCount = 0;
  }

  onRecord(kind: number, id: number, d: Float64Array, at: number): void {
    this.updates++;
    if (id >= this.instruments.size) {
      this.rejected[R_UNKNOWN_ID]++;
      return;
    }
    if (kind === KIND_STATS) {
      this.applyStats(id, d[at + F_OPEN_INTEREST_USD], d[at + F_VOLUME_24H_USD]);
      this.applyFundingPrice(id, d[at + F_FUNDING_PRICE], d[at + F_EXCHANGE_TS_MS]);
      return;
    }
    const time = this.detector.time;
    const nowMs = time[TIME_NOW_MS];
    const recvUs = d[at + F_RECV_US];
    const exchangeTsMs = d[at + F_EXCHANGE_TS_MS];
    if (kind === KIND_QUOTE) {
      const bid = d[at + F_BID];
      const ask = d[at + F_ASK];
      const bidSize = d[at + F_BID_SIZE];
      const askSize = d[at + F_ASK_SIZE];
      const bad = checkQuote(bid, ask, bidSize, askSize, exchangeTsMs, nowMs);
      if (bad !== REJECT_NONE) {
        this.rejected[bad]++;
        // A broken book says the venue's current state is unknown: counted per venue, nothing held.
        if (bad === R_PRICE || bad === R_CROSSED) {
          this.quarantine.hold(id, bad === R_PRICE ? Q_NON_POSITIVE : Q_CROSSED, 0, 0, 0, 0, 0, 0, 0);
          // The leg is unusable now: open opportunities on it close at once (quote_quarantined).
          time[TIME_RECV_US] = recvUs;
          this.detector.onUpdate(id);
        }
        return;
      }
      const q = this.quarantine;
      q.input[IN_BID] = bid;
      q.input[IN_ASK] = ask;
      q.input[IN_NOW_MS] = nowMs;
      const held = q.review(id);
      if (held !== Q_NONE) {
        this.quarantined++;
        q.hold(id, held, bid, ask, bidSize, askSize, exchangeTsMs, nowMs, recvUs);
        // Held: open opportunities on this leg close now (quote_quarantined), not when its last accepted quote goes stale.
        time[TIME_RECV_US] = recvUs;
        this.detector.onUpdate(id);
        return;
      }
      this.quotes++;
      this.store.setQuote(id, bid, ask, bidSize, askSize, exchangeTsMs, nowMs, recvUs);
      q.accept(id, (bid + ask) / 2, nowMs);
    } else {
      const rate = d[at + F_RATE];
      const intervalMs = d[at + F_INTERVAL_MS];
      const nextFundingMs = d[at + F_NEXT_FUNDING_MS];
      const bad = checkFunding(rate, intervalMs, nextFundingMs, exchangeTsMs, nowMs);
      if (bad !== REJECT_NONE) {
        this.rejected[bad]++;
        return;
      }
      this.fundings++;
      this.store.setFunding(id, rate, intervalMs, nextFundingMs, d[at + F_PREDICTED] !== 0, exchangeTsMs, nowMs);
    }
    time[TIME_RECV_US] = recvUs;
    this.detector.onUpdate(id);
    if (recvUs > 0) this.batchRecvUs[this.batchCount++] = recvUs; // 0 = the producer did not stamp it
    if (kind === KIND_QUOTE) this.releaseConverged(id, nowMs);
  }

  /** Non-finite or negative figures are not open interest or volume: treated as not published. */
  private applyStats(id: number, openInterestUsd: number, volume24hUsd: number): void {
    this.stats++;
    this.store.setStats(id, openInterestUsd >= 0 && openInterestUsd < Infinity ? openInterestUsd : Number.NaN, volume24hUsd >= 0 && volume24hUsd < Infinity ? volume24hUsd : Number.NaN);
  }

  /**
   * The funding reference price (NaN = not in this record): kept out and counted when it is not a positive
   * price within the quarantine band of the id's own book (last accepted quote); its exchange time must be
   * plausible as a quote's. It changes no score: nothing is re-detected on it.
   */
  private applyFundingPrice(id: number, price: number, exchangeTsMs: number): void {
    if (price !== price) return;
    const s = this.store;
    const nowMs = this.detector.time[TIME_NOW_MS];
    let bad = checkFundingPrice(price, s.bid[id], s.ask[id], this.quarantine.band);
    if (bad === REJECT_NONE && !timestampOk(exchangeTsMs, nowMs)) bad = R_TIMESTAMP;
    if (bad !== REJECT_NONE) {
      this.rejected[bad]++;
      return;
    }
    s.setFundingPrice(id, price, exchangeTsMs, nowMs);
  }

  /** After `id`'s quote was accepted: held quotes of the same instrument that now pass are applied and scored. */
  private releaseConverged(id: number, nowMs: number): void {
    const inst = this.instruments.instrumentIndexOf(id);
    if (this.quarantine.heldIn(inst) === 0) return;
    for (let released = this.quarantine.nextReleasable(inst, nowMs); released >= 0; released = this.quarantine.nextReleasable(inst, nowMs)) {
      this.detector.time[TIME_RECV_US] = this.quarantine.applyHeld(released);
      this.detector.onUpdate(released);
    }
  }
}
