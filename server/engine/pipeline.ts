/**
 * Market pipeline: a bounded single-producer/single-consumer ring of fixed 64-byte update records over
 * SharedArrayBuffers, so a producer (a feed worker) and the consumer (the detector) can later sit on
 * different threads. The write and read counters live in a shared Int32Array and are published with
 * Atomics (store = release, load = acquire); the record bytes are written before the write counter.
 *
 * Record layout (8 float64 slots = 64 bytes):
 *   slot 0: uint32 kind (1 quote, 2 funding) | uint32 id
 *   quote:   1 bid, 2 ask, 3 bidSize, 4 askSize, 5 exchangeTsMs, 6 recvUs, 7 reserved
 *   funding: 1 rate, 2 intervalMs, 3 nextFundingMs, 4 predicted (0/1), 5 exchangeTsMs, 6 recvUs, 7 reserved
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

/** Control words (Int32) in the shared control buffer. */
const C_WRITE = 0; // records written (wraps as int32)
const C_READ = 1; // records read (wraps as int32)
const C_DROPPED = 2; // records rejected because the ring was full
const C_WORDS = 4;

/** Zero-allocation consumer: the pipeline calls one of these per record. */
export interface RecordVisitor {
  onQuote(id: number, bid: number, ask: number, bidSize: number, askSize: number, exchangeTsMs: number, recvUs: number): void;
  onFunding(id: number, rate: number, intervalMs: number, nextFundingMs: number, predicted: boolean, exchangeTsMs: number, recvUs: number): void;
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
    this.f64[f + 1] = bid;
    this.f64[f + 2] = ask;
    this.f64[f + 3] = bidSize;
    this.f64[f + 4] = askSize;
    this.f64[f + 5] = exchangeTsMs;
    this.f64[f + 6] = recvUs;
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
    this.f64[f + 1] = rate;
    this.f64[f + 2] = intervalMs;
    this.f64[f + 3] = nextFundingMs;
    this.f64[f + 4] = predicted ? 1 : 0;
    this.f64[f + 5] = exchangeTsMs;
    this.f64[f + 6] = recvUs;
    this.publish();
    return true;
  }

  /** Consumer: hands up to `max` records to the visitor in order; returns how many. */
  consume(max: number, visitor: RecordVisitor): number {
    const control = this.control;
    const write = Atomics.load(control, C_WRITE);
    const start = Atomics.load(control, C_READ);
    let read = start;
    const f64 = this.f64;
    const u32 = this.u32;
    try {
      while (read !== write && ((read - start) | 0) < max) {
        const f = (read & this.mask) * SLOTS;
        // Advance before calling out, so a visitor that throws cannot make the record repeat forever.
        read = (read + 1) | 0;
        if (u32[f * 2] === KIND_QUOTE) visitor.onQuote(u32[f * 2 + 1], f64[f + 1], f64[f + 2], f64[f + 3], f64[f + 4], f64[f + 5], f64[f + 6]);
        else visitor.onFunding(u32[f * 2 + 1], f64[f + 1], f64[f + 2], f64[f + 3], f64[f + 4] !== 0, f64[f + 5], f64[f + 6]);
      }
    } finally {
      // One release store per batch (Atomics.store is a full fence): the slots read become writable.
      // Safe to release after the visitor ran: it receives values, never a view into the slot.
      Atomics.store(control, C_READ, read);
    }
    return (read - start) | 0;
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
