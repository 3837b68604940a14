/**
 * Engine facade: instrument map + market store + pipeline + detector + opportunity bus, wired together.
 * No I/O. Feeds push records and call `drain()`; consumers subscribe to `bus`.
 */
import type { Config } from '../../shared/config.js';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import type { Opportunity, OpportunityCloseReason, OpportunityEvent, SettleCurrency } from '../../shared/opportunity.js';
import { AcceptedRecordHooks, type AcceptedRecordListener } from './accepted-records.js';
import { BroadcastRing, type SubscriberStats } from './bus.js';
import { nowUs, systemNowMs } from './clock.js';
import { Detector, TIME_NOW_MS, TIME_RECV_US } from './detector.js';
import { DepthStore } from '../depth/store.js';
import type { DepthBook, DepthResyncReason, DepthView } from '../depth/types.js';
import { bookFresh, bookUsable } from './depth-scoring.js';
import { type LatencyBuckets, LatencyHistogram, type LatencySummary } from './histogram.js';
import { InstrumentMap, exchangeIndex, isSupportedSettle } from './instruments.js';
import { MarketStore } from './market-store.js';
import { MarketPipeline } from './pipeline.js';
import { RecordProcessor } from './processor.js';
import type { FundingHistoryView } from '../funding/history-types.js';
import { SAME_SETTLEMENT_MS } from './carry-stats.js';
import { QuoteQuarantine, type QuarantineReason, type QuarantineStats } from './quarantine.js';
import { REJECT_NONE, REJECT_REASONS, checkFundingPrice, type RejectReason } from './sanity.js';

export interface EngineOptions {
  config: Config;
  /** Business clock, epoch ms (default Date.now). */
  now?: () => number;
  /** Pipeline records (rounded up to a power of two; default 65,536). */
  pipelineCapacity?: number;
  /** Opportunity events retained for slow subscribers (default 16,384; each holds an Opportunity). */
  busCapacity?: number;
}

/** Latest market state of one venue symbol. */
export interface QuoteView {
  id: number;
  exchange: Exchange;
  symbol: string;
  instrument: string;
  /** Settle (quote) currency of the leg. */
  settle: SettleCurrency;
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
  fundingRate: number;
  fundingIntervalMs: number;
  nextFundingMs: number;
  fundingPredicted: boolean;
  exchangeTsMs: number;
  receivedMs: number;
  ageMs: number;
  /** Fresh and its feed up. */
  usable: boolean;
  /**
   * Why the venue's LATEST quote was quarantined (the fields above are then its last accepted quote,
   * still usable until it goes stale), or null.
   */
  quarantine: QuarantineReason | null;
  /**
   * The venue's funding reference price per unit of the underlying (its mark price; the oracle price on a
   * venue that pays funding on that) when one is fresh by the quote staleness rules and within the
   * quarantine band of this quote's mid; null = none (the venue's stream carries none, or it is stale).
   */
  fundingPrice: number | null;
}

/** Open interest and 24 h traded volume of one leg's market, USD; null = its venue has not published it. */
export interface MarketStatsView {
  openInterestUsd: number | null;
  volume24hUsd: number | null;
}

/** Latest funding of one leg (Engine.funding). */
export interface FundingView {
  /** Fraction per `intervalMs`. */
  rate: number;
  intervalMs: number;
  /** Next settlement (epoch ms); 0 when the venue gave none. */
  nextFundingMs: number;
  predicted: boolean;
  /** Engine-clock time it was applied. */
  receivedMs: number;
}

export interface EngineCounters {
  /** Records processed (accepted + rejected). */
  updates: number;
  quotes: number;
  fundings: number;
  rejected: Record<RejectReason, number>;
  rejectedTotal: number;
  pipeline: { capacity: number; pending: number; pushed: number; dropped: number };
  bus: { capacity: number; published: number; subscribers: SubscriberStats[] };
  detector: { evaluations: number; opened: number; updated: number; closed: Record<OpportunityCloseReason, number>; open: number };
  /** refusedSettle: registrations refused for a settle currency the engine does not pair. */
  instruments: { ids: number; instruments: number; refusedSettle: number };
  exchangesDown: Exchange[];
  /** Not in config.market.exchanges: quotes unused. */
  exchangesDisabled: Exchange[];
  /** Implausible quotes held out of the store (server/engine/quarantine.ts), per venue and reason. */
  quarantine: QuarantineStats;
  /** Per-stage latency, µs: record recvUs → detection done; event built → published on the bus. */
  latencyUs: { pipeline_to_detected: LatencySummary; detected_to_bus: LatencySummary };
}

export class Engine {
  readonly instruments = new InstrumentMap();
  readonly store: MarketStore;
  readonly pipeline: MarketPipeline;
  readonly bus: BroadcastRing<OpportunityEvent>;
  private readonly detector: Detector;
  /** Settled funding history (settlementRate falls back to it for settlements older than the store keeps); null = none. */
  private fundingHistory: FundingHistoryView | null = null;
  private readonly depthStore: DepthStore;
  /** The latest in-sync order book per id (pushDepth), for scoring; stale books are not served. */
  readonly depth: DepthView;
  private readonly now: () => number;
  private config: Config;
  private readonly pipelineLatency = new LatencyHistogram();
  private readonly busLatency = new LatencyHistogram();
  private readonly processor: RecordProcessor;
  private readonly quarantine: QuoteQuarantine;
  private readonly acceptedRecords = new AcceptedRecordHooks();
  private draining = false;
  /** registerInstrument calls refused for an unsupported settle currency. */
  private refusedSettle = 0;

  constructor(opts: EngineOptions) {
    this.config = opts.config;
    this.now = opts.now ?? systemNowMs;
    this.store = new MarketStore(opts.config.detector.staleAfterMs);
    this.pipeline = new MarketPipeline(opts.pipelineCapacity ?? 65_536);
    this.depthStore = new DepthStore(this.now, opts.config.detector.staleAfterMs);
    this.depth = this.depthStore;
    this.bus = new BroadcastRing<OpportunityEvent>(opts.busCapacity ?? 16_384);
    this.instruments.onCreate((id) => this.store.addId(id, this.instruments.exchangeIndexOf(id)));
    this.quarantine = new QuoteQuarantine(this.instruments, this.store);
    this.detector = new Detector(this.instruments, this.store, this.bus, opts.config, this.busLatency, this.quarantine);
    this.detector.setDepth(this.depthStore); // slippage and capacity on the books (issue 14)
    this.quarantine.band = opts.config.detector.quarantineBandPct / 100;
    this.quarantine.confirmMs = opts.config.detector.quarantineConfirmMs;
    this.quarantine.reviewAfterMs = opts.config.detector.reviewAfterMs;
    this.processor = new RecordProcessor(this.instruments, this.store, this.detector, this.quarantine, this.pipeline.capacity);
    this.applyEnabledExchanges(opts.config);
  }

  /**
   * Registers (or returns) the id (leg) for a venue symbol; base/quote from venue metadata (the quote is
   * the settle currency). A settle currency the engine cannot pair (not in SETTLE_CURRENCIES, e.g. an
   * inverse contract's USD) gets -1, counted in stats().instruments.refusedSettle: a feed keeps -1 as
   * "not registered" and a record pushed with it is rejected as an unknown id. Throws for an unknown
   * exchange or an empty base/quote (see InstrumentMap.register).
   */
  registerInstrument(exchange: Exchange, symbol: string, meta: { base: string; quote: string }): number {
    if (meta.quote && !isSupportedSettle(meta.quote) && this.instruments.id(exchange, symbol) < 0) {
      this.refusedSettle++;
      return -1;
    }
    return this.instruments.register(exchange, symbol, meta);
  }

  /** Pre-registers instrument keys on exchanges with the symbols `symbolFor` guesses (see InstrumentMap.preRegister). */
  preRegister(keys: readonly string[], exchanges: readonly Exchange[], symbolFor: (exchange: Exchange, base: string) => string): number[] {
    return this.instruments.preRegister(keys, exchanges, symbolFor);
  }

  /**
   * A leg's book when it is fresh (detector.staleAfterMs) and usable (two-sided, not crossed), for paper
   * fills that walk the levels; null otherwise (the caller falls back to the touch).
   */
  depthBook(instrument: string, exchange: Exchange, settle?: string): DepthBook | null {
    const id = this.instruments.idFor(instrument, exchange, settle);
    const book = id < 0 ? undefined : this.depth.get(id);
    return book !== undefined && bookFresh(book, this.now(), this.store.staleAfterMs) && bookUsable(book) ? book : null;
  }

  /** Queue a top-of-book update (sizes in BASE units). false = ring full, dropped and counted. */
  pushQuote(id: number, bid: number, ask: number, bidSize: number, askSize: number, exchangeTsMs: number, recvUs: number): boolean {
    const ok = this.pipeline.pushQuote(id, bid, ask, bidSize, askSize, exchangeTsMs, recvUs);
    if (ok && this.acceptedRecords.active) this.acceptedRecords.quote(id, bid, ask, bidSize, askSize, exchangeTsMs, recvUs);
    return ok;
  }

  /** Queue a funding update: rate per its own interval; `predicted` for a predicted/indicative rate. */
  /**
   * A venue symbol's open interest and 24 h traded volume (USD) and its funding reference price (per unit of
   * the underlying); NaN = not in this frame. Applied on drain().
   */
  pushStats(id: number, openInterestUsd: number, volume24hUsd: number, exchangeTsMs: number, recvUs: number, fundingPrice = Number.NaN): boolean {
    return this.pipeline.pushStats(id, openInterestUsd, volume24hUsd, exchangeTsMs, recvUs, fundingPrice);
  }

  pushFunding(id: number, rate: number, intervalMs: number, nextFundingMs: number, predicted: boolean, exchangeTsMs: number, recvUs: number): boolean {
    const ok = this.pipeline.pushFunding(id, rate, intervalMs, nextFundingMs, predicted, exchangeTsMs, recvUs);
    if (ok && this.acceptedRecords.active) this.acceptedRecords.funding(id, rate, intervalMs, nextFundingMs, predicted, exchangeTsMs, recvUs);
    return ok;
  }

  /**
   * Calls `listener` for every record the pipeline accepts (not dropped as full), before the sanity checks
   * run, so a recording replays exactly what the engine was given (rejections included). Returns a
   * function that removes the listener.
   */
  onAcceptedRecord(listener: AcceptedRecordListener): () => void {
    return this.acceptedRecords.add(listener);
  }

  /**
   * The in-sync top-N book of `id` (engine units, see server/depth/types.ts): stored with the engine-clock
   * receive time, and the pairs of `id` are rescored. false = unknown id, nothing stored.
   */
  pushDepth(id: number, book: DepthBook): boolean {
    if (!this.instruments.has(id)) return false;
    const nowMs = this.now();
    this.depthStore.set(id, book, nowMs);
    this.rescore(id, nowMs);
    return true;
  }

  /** `id`'s book lost sync (or was released): it is not used any more and its pairs are rescored. */
  dropDepth(id: number, reason: DepthResyncReason | 'released'): void {
    if (this.depthStore.drop(id, reason)) this.rescore(id, this.now());
  }

  /** Depth counters: books held, stored, dropped by reason. */
  depthStats(): { held: number; pushed: number; dropped: Partial<Record<DepthResyncReason | 'released', number>> } {
    return { held: this.depthStore.size, pushed: this.depthStore.pushed, dropped: { ...this.depthStore.dropped } };
  }

  /** Scores the pairs of `id` again (its book changed) through the detector's per-id update path. */
  private rescore(id: number, nowMs: number): void {
    const time = this.detector.time;
    // Inside a drain (a callback), keep the batch's business time for the records still to come.
    const savedNow = time[TIME_NOW_MS];
    const savedRecv = time[TIME_RECV_US];
    time[TIME_NOW_MS] = nowMs;
    time[TIME_RECV_US] = nowUs();
    this.detector.onUpdate(id);
    time[TIME_NOW_MS] = savedNow;
    time[TIME_RECV_US] = savedRecv;
  }

  /** Process queued records: store → detector → bus. Returns records processed. */
  drain(max = Number.POSITIVE_INFINITY): number {
    if (this.draining) return 0; // re-entered from a callback: the outer drain continues
    this.draining = true;
    try {
      return this.drainBatch(max);
    } finally {
      this.draining = false;
    }
  }

  private drainBatch(max: number): number {
    const processor = this.processor;
    processor.beginBatch(this.now());
    const n = this.pipeline.consumeRaw(max, processor);
    if (processor.batchCount > 0) {
      // One clock read per drain (performance.now() costs ~50-100 ns): every record of the batch is
      // "detected" when the batch is done.
      // Outside [0, 60 s] the stamp is from another clock (a replay's recorded time): not a latency.
      const doneUs = nowUs();
      for (let i = 0; i < processor.batchCount; i++) {
        const latencyUs = doneUs - processor.batchRecvUs[i];
        if (latencyUs >= 0 && latencyUs <= 60e6) this.pipelineLatency.recordUs(latencyUs);
      }
    }
    return n;
  }

  /**
   * Takes effect on the next update. An exchange removed from config.market.exchanges is disabled: its
   * open opportunities close now with `config_changed` and its quotes are not used until re-enabled.
   */
  setConfig(config: Config): void {
    const previous = this.config;
    this.config = config;
    this.store.staleAfterMs = config.detector.staleAfterMs;
    this.depthStore.staleAfterMs = config.detector.staleAfterMs;
    this.quarantine.band = config.detector.quarantineBandPct / 100;
    this.quarantine.confirmMs = config.detector.quarantineConfirmMs;
    this.quarantine.reviewAfterMs = config.detector.reviewAfterMs;
    this.detector.setConfig(config);
    if (previous.detector.allowCrossQuote && !config.detector.allowCrossQuote) this.detector.closeCrossQuote(this.now());
    this.applyEnabledExchanges(config);
    this.applyRemovedInstruments(previous, config);
  }

  /**
   * The settled funding history the detector reads for realised funding (detector.fundingBasis, stability
   * figures, thresholds.minCarryEarnedShare); null = none, realised figures are then unknown (null).
   */
  setFundingHistory(view: FundingHistoryView | null): void {
    this.fundingHistory = view;
    this.detector.setFundingHistory(view);
  }

  /**
   * An instrument removed from config.market.instruments: its open opportunities close now with
   * `config_changed` and its quotes are forgotten, so nothing trades it on a quote from before the change
   * (the feeds unsubscribe it; a late frame or a re-add brings a fresh quote). Only instruments that the
   * previous config listed are affected: ids registered outside the config (replays, benchmarks) are not.
   */
  private applyRemovedInstruments(previous: Config, config: Config): void {
    // With "all" the feeds decide what is scanned (and close what leaves: setInstrumentListed).
    if (previous.market.instruments === 'all' || config.market.instruments === 'all') return;
    const kept = new Set(config.market.instruments);
    for (const key of previous.market.instruments) {
      if (kept.has(key)) continue;
      const inst = this.instruments.instrumentIndex(key);
      if (inst < 0) continue;
      this.detector.closeInstrument(inst, this.now());
      for (const id of this.instruments.idsFor(key)) {
        this.store.forgetQuote(id);
        this.quarantine.forget(id);
      }
    }
  }

  private applyEnabledExchanges(config: Config): void {
    EXCHANGES.forEach((exchange, ex) => {
      const disabled = !config.market.exchanges.includes(exchange);
      if (disabled && !this.store.isExchangeDisabled(ex)) this.detector.closeExchange(ex, this.now(), 'config_changed');
      this.store.setExchangeDisabled(ex, disabled);
    });
  }

  getConfig(): Config {
    return this.config;
  }

  /** down: its open opportunities close with `feed_down` and its quotes are forgotten (only the new snapshot counts). */
  setExchangeDown(exchange: Exchange, down: boolean): void {
    const ex = exchangeIndex(exchange);
    if (ex < 0) return;
    this.store.setExchangeDown(ex, down);
    if (down) {
      this.detector.closeExchange(ex, this.now());
      this.store.forgetQuotes(ex, this.instruments.size); // no ghost quote survives the reconnect
      this.quarantine.forgetExchange(ex);
      for (const id of this.depthStore.ids()) if (this.instruments.exchangeIndexOf(id) === ex) this.depthStore.drop(id, 'disconnected');
    }
  }

  /**
   * One venue symbol's id leaves (listed=false) or rejoins the scanned universe: unlisted, its open
   * opportunities close now with `reason` (the venue delisted it: `instrument_delisted`; a config
   * exclusion: `config_changed`), its quote is forgotten and no later quote makes it usable (a record
   * still in the pipeline included) until it is listed again. The per-id counterpart of setExchangeDown.
   */
  setInstrumentListed(id: number, listed: boolean, reason: 'instrument_delisted' | 'config_changed' = 'instrument_delisted'): void {
    if (!this.instruments.has(id)) return;
    this.store.setListed(id, listed);
    if (listed) return;
    this.detector.closeId(id, this.now(), reason);
    this.store.forgetQuote(id);
    this.quarantine.forget(id);
    this.depthStore.drop(id, 'released');
  }

  /** Whether the venue symbol's id is in the scanned universe (see setInstrumentListed). */
  isInstrumentListed(id: number): boolean {
    return this.instruments.has(id) && this.store.isListed(id);
  }

  /** Whether the venue's feed is down (lost, per setExchangeDown) or the venue is disabled by config. */
  isExchangeDown(exchange: Exchange): boolean {
    const ex = exchangeIndex(exchange);
    return ex >= 0 && (this.store.isExchangeDown(ex) || this.store.isExchangeDisabled(ex));
  }

  /** Closes opportunities with a stale leg (`stale_quote`); call every ~250 ms. */
  sweep(nowMs: number = this.now()): void {
    this.detector.sweep(nowMs);
  }

  /** The current open set (as last published on the bus). */
  opportunities(): Opportunity[] {
    return this.detector.opportunities();
  }

  /** The latest quote of a leg; `settle` defaults to USDT (the leg of every first-release caller). */
  quote(instrument: string, exchange: Exchange, settle?: string): QuoteView | null {
    const id = this.instruments.idFor(instrument, exchange, settle);
    return id < 0 ? null : this.quoteById(id);
  }

  /**
   * The latest funding of a leg (rate per its own interval), or null when the leg is unknown or has had no
   * funding yet. A plain read of the store: for side consumers (the funding cross-check), not the hot path.
   */
  funding(instrument: string, exchange: Exchange, settle?: string): FundingView | null {
    const id = this.instruments.idFor(instrument, exchange, settle);
    const s = this.store;
    if (id < 0 || s.hasFunding[id] !== 1) return null;
    return { rate: s.fundingRate[id], intervalMs: s.fundingIntervalMs[id], nextFundingMs: s.nextFundingMs[id], predicted: s.fundingPredicted[id] === 1, receivedMs: s.fundingReceivedMs[id] };
  }

  /** A leg's open interest and 24 h volume (USD; null = not published), or null when the leg is unknown. A plain store read. */
  marketStats(instrument: string, exchange: Exchange, settle?: string): MarketStatsView | null {
    const id = this.instruments.idFor(instrument, exchange, settle);
    if (id < 0) return null;
    const oi = this.store.openInterestUsd[id];
    const vol = this.store.volume24hUsd[id];
    return { openInterestUsd: Number.isNaN(oi) ? null : oi, volume24hUsd: Number.isNaN(vol) ? null : vol };
  }

  /**
   * The rate a leg's settlement at `fundingMs` charges: the last current (non-predicted) rate its venue
   * published for it before it, as captured when the record was applied (so one that arrived between two
   * reads is not missed). The store keeps the last two settlements only: an older one (owed after an outage)
   * comes from the funding history when it holds that settlement. null when neither has it (the caller
   * keeps its own last known rate).
   */
  settlementRate(instrument: string, exchange: Exchange, fundingMs: number, settle?: string): number | null {
    const id = this.instruments.idFor(instrument, exchange, settle);
    if (id < 0) return null;
    const captured = this.store.settlementRate(id, fundingMs);
    if (captured !== null || this.fundingHistory === null || !(fundingMs > 0)) return captured;
    const leg = { instrument: this.instruments.instrumentOf(id), venue: this.instruments.exchangeOf(id), settle: this.instruments.settleOf(id) };
    // Venues stamp a settlement a few ms off the hour in their history: the same settlement within SAME_SETTLEMENT_MS.
    const near = this.fundingHistory.settlements(leg, fundingMs - SAME_SETTLEMENT_MS + 1, fundingMs + SAME_SETTLEMENT_MS - 1);
    return near.length > 0 ? near[0]!.rate : null;
  }

  quoteById(id: number): QuoteView | null {
    if (!this.instruments.has(id)) return null;
    const s = this.store;
    const nowMs = this.now();
    return {
      id,
      exchange: this.instruments.exchangeOf(id),
      symbol: this.instruments.symbolOf(id),
      instrument: this.instruments.instrumentOf(id),
      settle: this.instruments.settleOf(id),
      bid: s.bid[id],
      ask: s.ask[id],
      bidSize: s.bidSize[id],
      askSize: s.askSize[id],
      fundingRate: s.fundingRate[id],
      fundingIntervalMs: s.fundingIntervalMs[id],
      nextFundingMs: s.nextFundingMs[id],
      fundingPredicted: s.fundingPredicted[id] === 1,
      exchangeTsMs: s.quoteExchangeTsMs[id],
      receivedMs: s.quoteReceivedMs[id],
      ageMs: s.quoteAgeMs(id, nowMs),
      usable: s.usable(id, nowMs),
      quarantine: this.quarantine.reasonOf(id),
      fundingPrice: this.fundingPriceOf(id, nowMs),
    };
  }

  /** The id's fresh funding reference price, if it is still within the quarantine band of the book's mid (see QuoteView.fundingPrice). */
  private fundingPriceOf(id: number, nowMs: number): number | null {
    const s = this.store;
    const price = s.freshFundingPrice(id, nowMs);
    return price === price && checkFundingPrice(price, s.bid[id], s.ask[id], this.quarantine.band) === REJECT_NONE ? price : null;
  }

  /** The cumulative latency histograms, read-only (Prometheus histograms at /metrics). */
  latencyBuckets(): { pipeline_to_detected: LatencyBuckets; detected_to_bus: LatencyBuckets } {
    return { pipeline_to_detected: this.pipelineLatency, detected_to_bus: this.busLatency };
  }

  /** Clears the latency histograms (counters are never reset). */
  resetLatency(): void {
    this.pipelineLatency.reset();
    this.busLatency.reset();
  }

  stats(): EngineCounters {
    const rejected = {} as Record<RejectReason, number>;
    let rejectedTotal = 0;
    const p = this.processor;
    REJECT_REASONS.forEach((reason, i) => {
      rejected[reason] = p.rejected[i];
      rejectedTotal += p.rejected[i];
    });
    return {
      updates: p.updates,
      quotes: p.quotes,
      fundings: p.fundings,
      rejected,
      rejectedTotal,
      pipeline: { capacity: this.pipeline.capacity, pending: this.pipeline.size, pushed: this.pipeline.pushed, dropped: this.pipeline.dropped },
      bus: { capacity: this.bus.capacity, published: this.bus.published, subscribers: this.bus.subscribers() },
      detector: this.detector.counters(),
      instruments: { ids: this.instruments.size, instruments: this.instruments.instrumentCount, refusedSettle: this.refusedSettle },
      exchangesDown: EXCHANGES.filter((_, i) => this.store.isExchangeDown(i)),
      exchangesDisabled: EXCHANGES.filter((_, i) => this.store.isExchangeDisabled(i)),
      quarantine: this.quarantine.stats(this.now()),
      latencyUs: { pipeline_to_detected: this.pipelineLatency.summary(), detected_to_bus: this.busLatency.summary() },
    };
  }
}
