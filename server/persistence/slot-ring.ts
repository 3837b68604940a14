/**
 * A bounded FIFO of fixed-size binary slots (the Redis writer's backlogs). Pushing copies a few
 * numbers into preallocated memory — no object is retained, nothing allocates once warm — and a batch
 * is taken as one contiguous copy of raw slot bytes (at most two memcpy), cheap enough for the main
 * thread and transferable to the writer thread. Storage grows by doubling towards `capacity` only
 * while a backlog builds up. Full → the OLDEST record is dropped and counted exactly.
 */
export class SlotRing {
  readonly capacity: number;
  readonly slotBytes: number;
  private slots: number;
  /** Views of the storage; replaced when it grows, so re-read them after `claim()`. */
  f64!: Float64Array;
  u32!: Uint32Array;
  u8!: Uint8Array;
  private head = 0;
  private count = 0;
  private droppedTotal = 0;

  constructor(capacity: number, slotBytes: number, initialSlots = 4096) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError('ring capacity must be a positive integer');
    if (slotBytes % 8 !== 0) throw new RangeError('slot size must be a multiple of 8 bytes');
    this.capacity = capacity;
    this.slotBytes = slotBytes;
    this.slots = Math.min(capacity, initialSlots);
    this.setStorage(new ArrayBuffer(this.slots * slotBytes));
  }

  private setStorage(buf: ArrayBuffer): void {
    this.f64 = new Float64Array(buf);
    this.u32 = new Uint32Array(buf);
    this.u8 = new Uint8Array(buf);
  }

  get size(): number {
    return this.count;
  }
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Doubles the storage (up to the bound), keeping the records in order from slot 0. */
  private grow(): void {
    const slots = Math.min(this.capacity, this.slots * 2);
    const old = this.u8;
    this.setStorage(new ArrayBuffer(slots * this.slotBytes));
    this.copyOut(this.u8, 0, this.count, old, this.slots);
    this.slots = slots;
    this.head = 0;
  }

  /** Copies `n` records from the head (oldest first) of storage `src` (of `srcSlots` slots) to `dst` at `at`. */
  private copyOut(dst: Uint8Array, at: number, n: number, src = this.u8, srcSlots = this.slots): void {
    const s = this.slotBytes;
    const first = Math.min(n, srcSlots - this.head);
    dst.set(src.subarray(this.head * s, (this.head + first) * s), at);
    if (n > first) dst.set(src.subarray(0, (n - first) * s), at + first * s);
  }

  /** Reserves the tail slot for a new record (dropping the oldest when full); returns its index in 8-byte words. */
  claim(): number {
    if (this.count === this.slots && this.slots < this.capacity) this.grow();
    if (this.count === this.capacity) {
      this.head = (this.head + 1) % this.slots;
      this.count--;
      this.droppedTotal++;
    }
    const slot = (this.head + this.count) % this.slots;
    this.count++;
    return slot * (this.slotBytes / 8);
  }

  /**
   * Removes up to `max` records from the front and returns their slots as one contiguous copy, in
   * `reuse` when it is large enough (so a steady writer allocates nothing).
   */
  takeSlots(max: number, reuse?: ArrayBuffer): { bytes: Uint8Array; n: number } {
    const n = Math.min(this.count, Math.max(0, Math.floor(max)));
    const need = n * this.slotBytes;
    const bytes = reuse && reuse.byteLength >= need ? new Uint8Array(reuse, 0, need) : new Uint8Array(need);
    this.copyOut(bytes, 0, n);
    this.head = n === this.count ? 0 : (this.head + n) % this.slots;
    this.count -= n;
    return { bytes, n };
  }

  /** A copy of every queued record's slot, oldest first, without removing them. */
  peekSlots(): { bytes: Uint8Array; n: number } {
    const bytes = new Uint8Array(this.count * this.slotBytes);
    this.copyOut(bytes, 0, this.count);
    return { bytes, n: this.count };
  }
}
