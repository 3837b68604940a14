/**
 * Applies pipeline records: sanity check → market store → detector. It is the pipeline's zero-copy
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
  F_INTERVAL_MS,
  F_NEXT_FUNDING_MS,
  F_PREDICTED,
  F_RATE,
  F_RECV_US,
  KIND_QUOTE,
  type RecordSink,
} from './pipeline.js';
import { REJECT_NONE, REJECT_REASONS, R_UNKNOWN_ID, checkFunding, checkQuote } from './sanity.js';

export class RecordProcessor implements RecordSink {
  /** Rejections per REJECT_REASONS index. */
  readonly rejected = new Float64Array(REJECT_REASONS.length);
  updates = 0;
  quotes = 0;
  fundings = 0;
  /** recvUs of the stamped records applied since the last resetBatch() (for the latency histogram). */
  readonly batchRecvUs: Float64Array;
  batchCount = 0;

  constructor(
    private readonly instruments: InstrumentMap,
    private readonly store: MarketStore,
    private readonly detector: Detector,
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
        return;
      }
      this.quotes++;
      this.store.setQuote(id, bid, ask, bidSize, askSize, exchangeTsMs, nowMs, recvUs);
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
  }
}
