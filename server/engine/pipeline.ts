/**
 * Market pipeline: a bounded single-producer/single-consumer ring of fixed 64-byte update records over
 * SharedArrayBuffers, so a producer (a feed worker) and the consumer (the detector) can later sit on
 * different threads. The write and read counters live in a shared Int32Array and are published with
 * Atomics (store = release, load = acquire); the record bytes are written before the write counter.
 *
 * Record layout (8 float64 slots = 64 bytes):
 *   slot 0: uint32 kind (1 quote, 2 funding, 3 stats) | uint32 id
 *   quote:   1 bid, 2 ask, 3 bidSize, 4 askSize, 5 exchangeTsMs, 6 recvUs, 7 reserved
 *   funding: 1 rate, 2 intervalMs, 3 nextFundingMs, 4 predicted (0/1), 5 exchangeTsMs, 6 recvUs, 7 reserved
 *   stats:   1 openInterestUsd, 2 volume24hUsd, 3 fundingPrice (NaN = not in this frame), 4 reserved, 5 exchangeTsMs, 6 recvUs, 7 reserved
 *
 * Full policy: REJECT THE NEWEST and count it (`dropped`). The producer never touches the consumer's
 * read counter, so records the consumer may be reading are never overwritten and no lock is needed;
 * and a quote is superseded by the next one for the same symbol, so losing the newest costs at most one
 * tick, which the dropped-count metric makes visible. (Drop-oldest would need the producer to move the
 * consumer's cursor, i.e. a multi-writer counter.)
 */

export const RECORD_BYTES = 64;
const SLOTS = RECORD_BYTES / 8;
export const KIND_QUOTE = 1;
export const KIND_FUNDING = 2;
/** Market statistics of a venue symbol: open interest and 24 h traded volume (USD), funding reference price. */
export const KIND_STATS = 3;

/** Control words (Int32) in the shared control buffer. */
const C_WRITE = 0; // records written (wraps as int32)
const C_READ = 1; // records read (wraps as int32)
const C_DROPPED = 2; // records rejected because the ring was full
const C_WORDS = 4;

/** Float64 slot offsets of the fields inside a record (slot 0 holds kind and id). */
export const F_BID = 1;
export const F_ASK = 2;
export const F_BID_SIZE = 3;
export const F_ASK_SIZE = 4;
export const F_RATE = 1;
export const F_INTERVAL_MS = 2;
export const F_NEXT_FUNDING_MS = 3;
export const F_PREDICTED = 4;
export const F_OPEN_INTEREST_USD = 1;
export const F_VOLUME_24H_USD = 2;
/** The venue's funding reference price (mark, or oracle where it pays on that), per unit of the underlying. */
export const F_FUNDING_PRICE = 3;
export const F_EXCHANGE_TS_MS = 5;
export const F_RECV_US = 6;

/** Zero-copy consumer: reads the record's fields from `data[at + F_*]` before returning. */
export interface RecordSink {
  onRecord(kind: number, id: number, data: Float64Array, at: number): void;
}

/** Decoded consumer (tests, tools): the pipeline calls one of these per record. */
export interface RecordVisitor {
  onQuote(id: number, bid: number, ask: number, bidSize: number, askSize: number, exchangeTsMs: number, recvUs: number): void;
  onFunding(id: number, rate: number, intervalMs: number, nextFundingMs: number, predicted: boolean, exchangeTsMs: number, recvUs: number): void;
  /** Optional: a visitor without it skips stats records. */
  onStats?(id: number, openInterestUsd: number, volume24hUsd: number, exchangeTsMs: number, recvUs: number, fundingPrice: number): void;
}

/** What another thread needs to attach to the same ring (postMessage-able). */
export interface PipelineBuffers {
  records: SharedArrayBuffer;
  control: SharedArrayBuffer;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class MarketPipeline {
  /** Capacity in records (a power of two). */
  readonly capacity: number;
  readonly buffers: PipelineBuffers;
  private readonly mask: number;
  private readonly f64: Float64Array;
  private readonly u32: Uint32Array;
  private readonly control: Int32Array;

  /** `capacity` is rounded up to a power of two; or pass the buffers of an existing ring to attach to it. */
  constructor(capacity: number | PipelineBuffers = 65_536) {
    if (typeof capacity === 'number') {
      if (!(capacity >= 2 && capacity <= 1 << 24)) throw new RangeError('pipeline capacity must be 2..16777216');
      const cap = nextPowerOfTwo(capacity);
      this.buffers = { records: new SharedArrayBuffer(cap * RECORD_BYTES), control: new SharedArrayBuffer(C_WORDS * 4) };
    } else {
      this.buffers = capacity;
    }
    this.capacity = this.buffers.records.byteLength / RECORD_BYTES;
    this.mask = this.capacity - 1;
    this.f64 = new Float64Array(this.buffers.records);
    this.u32 = new Uint32Array(this.buffers.records);
    this.control = new Int32Array(this.buffers.control);
  }

  /** Records waiting to be consumed. */
  get size(): number {
    return (Atomics.load(this.control, C_WRITE) - Atomics.load(this.control, C_READ)) | 0;
  }

  /** Records accepted so far (wraps at 2^32). */
  get pushed(): number {
    return Atomics.load(this.control, C_WRITE) >>> 0;
  }

  /** Records rejected because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.control, C_DROPPED) >>> 0;
  }

  /** Producer: queue a top-of-book update. false = ring full, the record was dropped and counted. */
  pushQuote(id: number, bid: number, ask: number, bidSize: number, askSize: number, exchangeTsMs: number, recvUs: number): boolean {
    const slot = this.claim();
    if (slot < 0) return false;
    const f = slot * SLOTS;
    this.u32[f * 2] = KIND_QUOTE;
    this.u32[f * 2 + 1] = id;
    this.f64[f + F_BID] = bid;
    this.f64[f + F_ASK] = ask;
    this.f64[f + F_BID_SIZE] = bidSize;
    this.f64[f + F_ASK_SIZE] = askSize;
    this.f64[f + F_EXCHANGE_TS_MS] = exchangeTsMs;
    this.f64[f + F_RECV_US] = recvUs;
    this.publish();
    return true;
  }

  /** Producer: queue a funding update. false = ring full, dropped and counted. */
  pushFunding(id: number, rate: number, intervalMs: number, nextFundingMs: number, predicted: boolean, exchangeTsMs: number, recvUs: number): boolean {
    const slot = this.claim();
    if (slot < 0) return false;
    const f = slot * SLOTS;
    this.u32[f * 2] = KIND_FUNDING;
    this.u32[f * 2 + 1] = id;
    this.f64[f + F_RATE] = rate;
    this.f64[f + F_INTERVAL_MS] = intervalMs;
    this.f64[f + F_NEXT_FUNDING_MS] = nextFundingMs;
    this.f64[f + F_PREDICTED] = predicted ? 1 : 0;
    this.f64[f + F_EXCHANGE_TS_MS] = exchangeTsMs;
    this.f64[f + F_RECV_US] = recvUs;
    this.publish();
    return true;
  }

  /**
   * Producer: queue a venue symbol's open interest and 24 h volume (USD) and its funding reference price
   * (per unit of the underlying); NaN = the frame did not carry that figure. false = ring full, dropped and counted.
   */
  pushStats(id: number, openInterestUsd: number, volume24hUsd: number, exchangeTsMs: number, recvUs: number, fundingPrice = Number.NaN): boolean {
    const slot = this.claim();
    if (slot < 0) return false;
    const f = slot * SLOTS;
    this.u32[f * 2] = KIND_STATS;
    this.u32[f * 2 + 1] = id;
    this.f64[f + F_OPEN_INTEREST_USD] = openInterestUsd;
    this.f64[f + F_VOLUME_24H_USD] = volume24hUsd;
    this.f64[f + F_FUNDING_PRICE] = fundingPrice;
    this.f64[f + F_EXCHANGE_TS_MS] = exchangeTsMs;
    this.f64[f + F_RECV_US] = recvUs;
    this.publish();
    return true;
  }

  /**
   * Consumer, zero-copy: calls `sink.onRecord(kind, id, data, at)` for up to `max` records in order,
   * where the record's fields are `data[at + F_*]`. Only small integers and the array cross the call,
   * so nothing is boxed per record. Returns how many were consumed.
   */
  consumeRaw(max: number, sink: RecordSink): number {
    const control = this.control;
    const write = Atomics.load(control, C_WRITE);
    const start = Atomics.load(control, C_READ);
    let read = start;
    const f64 = this.f64;
    const u32 = this.u32;
    try {
      while (read !== write && ((read - start) | 0) < max) {
        const at = (read & this.mask) * SLOTS;
        // Advance before calling out, so a sink that throws cannot make the record repeat forever.
        read = (read + 1) | 0;
        sink.onRecord(u32[at * 2], u32[at * 2 + 1], f64, at);
      }
    } finally {
      // One release store per batch (Atomics.store is a full fence) makes the slots writable again.
      // The sink must have finished reading a record when it returns.
      Atomics.store(control, C_READ, read);
    }
    return (read - start) | 0;
  }

  /** Consumer, decoded: hands up to `max` records to the visitor in order; returns how many. */
  consume(max: number, visitor: RecordVisitor): number {
    return this.consumeRaw(max, {
      onRecord(kind, id, d, at) {
        if (kind === KIND_QUOTE) visitor.onQuote(id, d[at + F_BID], d[at + F_ASK], d[at + F_BID_SIZE], d[at + F_ASK_SIZE], d[at + F_EXCHANGE_TS_MS], d[at + F_RECV_US]);
        else if (kind === KIND_STATS) visitor.onStats?.(id, d[at + F_OPEN_INTEREST_USD], d[at + F_VOLUME_24H_USD], d[at + F_EXCHANGE_TS_MS], d[at + F_RECV_US], d[at + F_FUNDING_PRICE]);
        else visitor.onFunding(id, d[at + F_RATE], d[at + F_INTERVAL_MS], d[at + F_NEXT_FUNDING_MS], d[at + F_PREDICTED] !== 0, d[at + F_EXCHANGE_TS_MS], d[at + F_RECV_US]);
      },
    });
  }

  /** Slot index to write, or -1 (and the drop counted) when full. */
  private claim(): number {
    const write = Atomics.load(this.control, C_WRITE);
    if (((write - Atomics.load(this.control, C_READ)) | 0) >= this.capacity) {
      Atomics.add(this.control, C_DROPPED, 1);
      return -1;
    }
    return write & this.mask;
  }

  /** Makes the record just written visible to the consumer (release). Only the producer writes C_WRITE. */
  private publish(): void {
    Atomics.store(this.control, C_WRITE, (Atomics.load(this.control, C_WRITE) + 1) | 0);
  }
}
