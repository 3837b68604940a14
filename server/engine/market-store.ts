/**
 * Market store: the latest top of book and funding per instrument id, in typed arrays that grow by
 * doubling (no object per update). Times: `*Ms` business time from the engine clock, `*Us` epoch µs
 * as stamped by the feed (latency only).
 */
import { EXCHANGE_COUNT } from './instruments.js';

const INITIAL_CAPACITY = 256;
export const EXCHANGE_DOWN = 1;
export const EXCHANGE_DISABLED = 2;

export class MarketStore {
  bid = new Float64Array(INITIAL_CAPACITY);
  ask = new Float64Array(INITIAL_CAPACITY);
  /** Sizes at the touch, in BASE units. */
  bidSize = new Float64Array(INITIAL_CAPACITY);
  askSize = new Float64Array(INITIAL_CAPACITY);
  quoteExchangeTsMs = new Float64Array(INITIAL_CAPACITY);
  /** Engine-clock time the last quote was applied; staleness is measured from it. */
  quoteReceivedMs = new Float64Array(INITIAL_CAPACITY);
  quoteRecvUs = new Float64Array(INITIAL_CAPACITY);
  /** 1 once a quote has been applied. */
  hasQuote = new Uint8Array(INITIAL_CAPACITY);
  /** Funding rate as a fraction per its own interval (0 until known). */
  fundingRate = new Float64Array(INITIAL_CAPACITY);
  fundingIntervalMs = new Float64Array(INITIAL_CAPACITY);
  nextFundingMs = new Float64Array(INITIAL_CAPACITY);
  /** 1 when the rate is a predicted/indicative one rather than the current (locked) one. */
  fundingPredicted = new Uint8Array(INITIAL_CAPACITY);
  fundingExchangeTsMs = new Float64Array(INITIAL_CAPACITY);
  fundingReceivedMs = new Float64Array(INITIAL_CAPACITY);
  hasFunding = new Uint8Array(INITIAL_CAPACITY);
  /**
   * The settled-rate record, captured as records are applied (not when a consumer looks): per id, the last
   * CURRENT (non-predicted) rate published before its settlement, for the latest settlement named
   * (`settleNextMs`) and the one before (`settlePrevNextMs`), so a rate that arrived between two strategy
   * passes, just before the venue rolled to the next period, is still the one booked (0 = none).
   */
  settleRate = new Float64Array(INITIAL_CAPACITY);
  settleNextMs = new Float64Array(INITIAL_CAPACITY);
  settlePrevRate = new Float64Array(INITIAL_CAPACITY);
  settlePrevNextMs = new Float64Array(INITIAL_CAPACITY);
  /** Open interest and 24 h traded volume of the venue symbol, USD (NaN = the venue has not published it). */
  openInterestUsd = new Float64Array(INITIAL_CAPACITY).fill(Number.NaN);
  volume24hUsd = new Float64Array(INITIAL_CAPACITY).fill(Number.NaN);
  /**
   * The venue's funding reference price per unit of the underlying (its mark price; the oracle price where
   * the venue pays funding on that), with its exchange and engine-clock receive times (NaN = none).
   */
  fundingPrice = new Float64Array(INITIAL_CAPACITY).fill(Number.NaN);
  fundingPriceExchangeTsMs = new Float64Array(INITIAL_CAPACITY);
  fundingPriceReceivedMs = new Float64Array(INITIAL_CAPACITY);
  /** 1 while the id is out of the scanned universe (delisted or excluded): setQuote then keeps it unusable. */
  unlisted = new Uint8Array(INITIAL_CAPACITY);
  /** Exchange index of each id (copied from the instrument map so `usable` needs no other lookup). */
  exchange = new Uint8Array(INITIAL_CAPACITY);
  /**
   * Per exchange index: 0 when its quotes may be used; else DOWN (feed down) and/or DISABLED (not in
   * config.market.exchanges) bits. One byte so the hot path tests a single value.
   */
  readonly exchangeDown = new Uint8Array(EXCHANGE_COUNT);
  staleAfterMs: number;
  private cap = INITIAL_CAPACITY;

  constructor(staleAfterMs = 5000) {
    this.staleAfterMs = staleAfterMs;
  }

  get capacity(): number {
    return this.cap;
  }

  /** Makes room for ids 0..n-1 (doubling). */
  ensureCapacity(n: number): void {
    if (n <= this.cap) return;
    let cap = this.cap;
    while (cap < n) cap *= 2;
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const f64Unknown = (a: Float64Array) => {
      const b = new Float64Array(cap).fill(Number.NaN);
      b.set(a);
      return b;
    };
    const u8 = (a: Uint8Array) => {
      const b = new Uint8Array(cap);
      b.set(a);
      return b;
    };
    this.bid = f64(this.bid);
    this.ask = f64(this.ask);
    this.bidSize = f64(this.bidSize);
    this.askSize = f64(this.askSize);
    this.quoteExchangeTsMs = f64(this.quoteExchangeTsMs);
    this.quoteReceivedMs = f64(this.quoteReceivedMs);
    this.quoteRecvUs = f64(this.quoteRecvUs);
    this.hasQuote = u8(this.hasQuote);
    this.fundingRate = f64(this.fundingRate);
    this.fundingIntervalMs = f64(this.fundingIntervalMs);
    this.nextFundingMs = f64(this.nextFundingMs);
    this.fundingPredicted = u8(this.fundingPredicted);
    this.fundingExchangeTsMs = f64(this.fundingExchangeTsMs);
    this.fundingReceivedMs = f64(this.fundingReceivedMs);
    this.hasFunding = u8(this.hasFunding);
    this.settleRate = f64(this.settleRate);
    this.settleNextMs = f64(this.settleNextMs);
    this.settlePrevRate = f64(this.settlePrevRate);
    this.settlePrevNextMs = f64(this.settlePrevNextMs);
    this.openInterestUsd = f64Unknown(this.openInterestUsd);
    this.volume24hUsd = f64Unknown(this.volume24hUsd);
    this.fundingPrice = f64Unknown(this.fundingPrice);
    this.fundingPriceExchangeTsMs = f64(this.fundingPriceExchangeTsMs);
    this.fundingPriceReceivedMs = f64(this.fundingPriceReceivedMs);
    this.exchange = u8(this.exchange);
    this.unlisted = u8(this.unlisted);
    this.cap = cap;
  }

  /** Records which exchange index an id belongs to (called when the id is created). */
  addId(id: number, exchangeIndex: number): void {
    this.ensureCapacity(id + 1);
    this.exchange[id] = exchangeIndex;
  }

  setQuote(id: number, bid: number, ask: number, bidSize: number, askSize: number, exchangeTsMs: number, receivedMs: number, recvUs: number): void {
    this.bid[id] = bid;
    this.ask[id] = ask;
    this.bidSize[id] = bidSize;
    this.askSize[id] = askSize;
    this.quoteExchangeTsMs[id] = exchangeTsMs;
    this.quoteReceivedMs[id] = receivedMs;
    this.quoteRecvUs[id] = recvUs;
    this.hasQuote[id] = this.unlisted[id] === 0 ? 1 : 0;
  }

  /**
   * A predicted rate never replaces the CURRENT rate known for the same settlement (a venue may push a
   * per-minute prediction next to the rate in force): that rate is what the settlement will charge.
   * A predicted rate for a later settlement, or with no current rate known, is stored (and flagged).
   */
  setFunding(id: number, rate: number, intervalMs: number, nextFundingMs: number, predicted: boolean, exchangeTsMs: number, receivedMs: number): void {
    if (!predicted) this.captureSettlementRate(id, rate, nextFundingMs, exchangeTsMs !== 0 ? exchangeTsMs : receivedMs);
    if (predicted && this.hasFunding[id] === 1 && this.fundingPredicted[id] === 0 && this.nextFundingMs[id] === nextFundingMs) return;
    this.fundingRate[id] = rate;
    this.fundingIntervalMs[id] = intervalMs;
    this.nextFundingMs[id] = nextFundingMs;
    this.fundingPredicted[id] = predicted ? 1 : 0;
    this.fundingExchangeTsMs[id] = exchangeTsMs;
    this.fundingReceivedMs[id] = receivedMs;
    this.hasFunding[id] = 1;
  }

  /** Open interest / 24 h volume (USD); a NaN figure (not in this frame) keeps the last known one. */
  setStats(id: number, openInterestUsd: number, volume24hUsd: number): void {
    if (openInterestUsd === openInterestUsd) this.openInterestUsd[id] = openInterestUsd;
    if (volume24hUsd === volume24hUsd) this.volume24hUsd[id] = volume24hUsd;
  }

  /** A funding reference price (already checked by the processor: positive, near the book). */
  setFundingPrice(id: number, price: number, exchangeTsMs: number, receivedMs: number): void {
    this.fundingPrice[id] = price;
    this.fundingPriceExchangeTsMs[id] = exchangeTsMs;
    this.fundingPriceReceivedMs[id] = receivedMs;
  }

  /**
   * The id's funding reference price when it is fresh by the quote staleness rules (see `fresh`: receive
   * age and exchange age both within staleAfterMs) and the venue's feed is up; NaN otherwise.
   */
  freshFundingPrice(id: number, nowMs: number): number {
    const price = this.fundingPrice[id];
    if (price !== price || this.exchangeDown[this.exchange[id]] !== 0) return Number.NaN;
    const limit = this.staleAfterMs;
    if (!(nowMs - this.fundingPriceReceivedMs[id] <= limit)) return Number.NaN;
    const exchangeTs = this.fundingPriceExchangeTsMs[id];
    return exchangeTs === 0 || nowMs - exchangeTs <= limit ? price : Number.NaN;
  }

  /**
   * Records a current rate for the settlement at `nextFundingMs` if it was published (`publishedMs`: the
   * exchange time, else the receive time) at or before it: the last such rate is what that settlement
   * charges. A rate stamped after its settlement is not (the venue had already settled).
   */
  private captureSettlementRate(id: number, rate: number, nextFundingMs: number, publishedMs: number): void {
    if (!(nextFundingMs > 0) || publishedMs > nextFundingMs) return;
    const latest = this.settleNextMs[id];
    if (nextFundingMs === latest) this.settleRate[id] = rate;
    else if (nextFundingMs > latest) {
      this.settlePrevRate[id] = this.settleRate[id];
      this.settlePrevNextMs[id] = latest;
      this.settleRate[id] = rate;
      this.settleNextMs[id] = nextFundingMs;
    } else if (nextFundingMs === this.settlePrevNextMs[id]) this.settlePrevRate[id] = rate;
  }

  /** The last current rate published before the settlement at `fundingMs` (see captureSettlementRate), or null. */
  settlementRate(id: number, fundingMs: number): number | null {
    if (!(fundingMs > 0)) return null;
    if (this.settleNextMs[id] === fundingMs) return this.settleRate[id];
    if (this.settlePrevNextMs[id] === fundingMs) return this.settlePrevRate[id];
    return null;
  }

  /** Age of the last quote in ms (Infinity before the first). */
  quoteAgeMs(id: number, nowMs: number): number {
    return this.hasQuote[id] === 1 ? nowMs - this.quoteReceivedMs[id] : Number.POSITIVE_INFINITY;
  }

  /**
   * A quote younger than staleAfterMs exists for the id: by its receive time AND by its exchange time (a
   * frame received now but stamped long ago is old news: a stuck or replaying venue). The same limit
   * applies to both ages; a venue clock somewhat behind ours (feed latency, skew) only shortens the
   * window. An exchange time of 0 (the venue sent none) leaves the receive age alone to decide.
   */
  fresh(id: number, nowMs: number): boolean {
    const limit = this.staleAfterMs;
    if (this.hasQuote[id] !== 1 || !(nowMs - this.quoteReceivedMs[id] <= limit)) return false;
    const exchangeTs = this.quoteExchangeTsMs[id];
    return exchangeTs === 0 || nowMs - exchangeTs <= limit;
  }

  /** Fresh and its exchange's feed is up: the quote may be used for detection. */
  usable(id: number, nowMs: number): boolean {
    return this.exchangeDown[this.exchange[id]] === 0 && this.fresh(id, nowMs);
  }

  /**
   * Forgets the quotes of ids 0..idCount-1 on `exchangeIndex` (its feed dropped): a quote from before a
   * drop is never used after the reconnect, even while it is younger than staleAfterMs. Prices stay
   * readable; the id is unusable until the venue's new snapshot sets a quote again.
   */
  forgetQuotes(exchangeIndex: number, idCount: number): void {
    for (let id = 0; id < idCount; id++) if (this.exchange[id] === exchangeIndex) this.forgetQuote(id);
  }

  /** Forgets one id's quote: unusable until a new quote arrives. */
  forgetQuote(id: number): void {
    this.hasQuote[id] = 0;
    this.fundingPrice[id] = Number.NaN; // a reference price from before a drop is not used after it either
  }

  /** An unlisted id's quote is forgotten and every later one stays unusable until it is listed again. */
  setListed(id: number, listed: boolean): void {
    this.ensureCapacity(id + 1);
    this.unlisted[id] = listed ? 0 : 1;
    if (!listed) this.forgetQuote(id);
  }

  isListed(id: number): boolean {
    return this.unlisted[id] === 0;
  }

  setExchangeDown(exchangeIndex: number, down: boolean): void {
    this.exchangeDown[exchangeIndex] = down ? this.exchangeDown[exchangeIndex] | EXCHANGE_DOWN : this.exchangeDown[exchangeIndex] & ~EXCHANGE_DOWN;
  }

  setExchangeDisabled(exchangeIndex: number, disabled: boolean): void {
    this.exchangeDown[exchangeIndex] = disabled
      ? this.exchangeDown[exchangeIndex] | EXCHANGE_DISABLED
      : this.exchangeDown[exchangeIndex] & ~EXCHANGE_DISABLED;
  }

  isExchangeDown(exchangeIndex: number): boolean {
    return (this.exchangeDown[exchangeIndex] & EXCHANGE_DOWN) !== 0;
  }

  isExchangeDisabled(exchangeIndex: number): boolean {
    return (this.exchangeDown[exchangeIndex] & EXCHANGE_DISABLED) !== 0;
  }
}
