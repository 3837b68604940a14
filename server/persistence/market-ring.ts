/**
 * The Redis writer's backlog of market records: a bounded ring of fixed 64-byte binary slots
 * (SlotRing), so the caller's path copies a few numbers and allocates nothing, and no record object
 * is kept alive until the next batch. Full → the OLDEST record is dropped and counted exactly.
 * Chunk encoding (`encodeMarketSlots`) runs on the writer thread, from raw slots.
 *
 * Slot (8 × float64): u32 exchange | kind << 4 | flags << 8, u32 symbol id; recvMs; exchangeTsMs;
 * v0..v3 (bid, ask, bidSize, askSize — or rate, intervalMs, nextFundingMs, unused); one spare.
 * flags: bit i (0..3) = v_i present; bit 4 = `predicted` present; bit 5 = `predicted` true.
 *
 * A chunk (one per exchange per batch, the `d` field of its stream entry) is:
 *   u16 symbol count, then per symbol u32 id + u16 length + UTF-8 bytes; then per record
 *   u32 index in the batch (for merging the exchanges back into receive order) + the 64-byte slot.
 */
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import { assertLittleEndian } from './codec.js';
import type { MarketRecord } from './persistence.js';
import { SlotRing } from './slot-ring.js';
import { StringTable, Utf8Cache } from './string-table.js';

const SLOT_F64 = 8;
export const MARKET_SLOT_BYTES = SLOT_F64 * 8;
const RECORD_BYTES = 4 + MARKET_SLOT_BYTES;
const KIND_FUNDING = 1;

export type MarketChunks = Map<Exchange, { n: number; data: Buffer }>;

export class MarketRing {
  private readonly ring: SlotRing;
  /** Records refused because they were malformed (unknown exchange, no symbol, bad kind). */
  rejected = 0;

  /** `strings`: the symbol table (shared with the event ring, mirrored by the writer thread). */
  constructor(
    capacity: number,
    readonly strings = new StringTable(),
  ) {
    assertLittleEndian();
    this.ring = new SlotRing(capacity, MARKET_SLOT_BYTES, 8192);
  }

  /** The bound (records); memory grows towards it only while a backlog builds up. */
  get capacity(): number {
    return this.ring.capacity;
  }
  get size(): number {
    return this.ring.size;
  }
  get dropped(): number {
    return this.ring.dropped;
  }

  push(r: MarketRecord): void {
    const ex = EXCHANGES.indexOf(r.exchange);
    if (ex < 0 || typeof r.symbol !== 'string' || r.symbol.length > 1000 || (r.kind !== 'quote' && r.kind !== 'funding')) {
      this.rejected++;
      return;
    }
    const sym = this.strings.id(r.symbol);
    const f = this.ring.claim();
    let flags = 0;
    let v0: number | undefined, v1: number | undefined, v2: number | undefined, v3: number | undefined;
    if (r.kind === 'quote') {
      v0 = r.bid;
      v1 = r.ask;
      v2 = r.bidSize;
      v3 = r.askSize;
    } else {
      v0 = r.fundingRate;
      v1 = r.fundingIntervalMs;
      v2 = r.nextFundingMs;
      if (r.predicted !== undefined) flags |= 16 | (r.predicted ? 32 : 0);
    }
    if (v0 !== undefined) flags |= 1;
    if (v1 !== undefined) flags |= 2;
    if (v2 !== undefined) flags |= 4;
    if (v3 !== undefined) flags |= 8;
    const u32 = this.ring.u32;
    const f64 = this.ring.f64;
    u32[f * 2] = ex | ((r.kind === 'funding' ? KIND_FUNDING : 0) << 4) | (flags << 8);
    u32[f * 2 + 1] = sym;
    f64[f + 1] = r.recvMs;
    f64[f + 2] = r.exchangeTsMs;
    f64[f + 3] = v0 ?? 0;
    f64[f + 4] = v1 ?? 0;
    f64[f + 5] = v2 ?? 0;
    f64[f + 6] = v3 ?? 0;
  }

  /** Removes up to `max` records from the front as raw slots (what the writer thread encodes). */
  takeSlots(max: number, reuse?: ArrayBuffer): { bytes: Uint8Array; n: number } {
    return this.ring.takeSlots(max, reuse);
  }

  /** Removes up to `max` records from the front and encodes them as one chunk per exchange. */
  take(max: number): { chunks: MarketChunks; taken: number; maxRecvMs: number } {
    const { bytes, n } = this.ring.takeSlots(max);
    return { ...encodeMarketSlots(bytes, n, new Utf8Cache(this.strings)), taken: n };
  }
}

/**
 * Encodes `n` raw slots as one chunk per exchange. `maxRecvMs` is the latest receive time among
 * them (the batch id must not be below it).
 */
export function encodeMarketSlots(bytes: Uint8Array, n: number, utf8: Utf8Cache): { chunks: MarketChunks; maxRecvMs: number } {
  const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, n * SLOT_F64 * 2);
  const f64 = new Float64Array(bytes.buffer, bytes.byteOffset, n * SLOT_F64);
  const perEx = new Array<number>(EXCHANGES.length).fill(0);
  const symsPerEx = EXCHANGES.map(() => new Set<number>());
  let maxRecvMs = -Infinity;
  for (let i = 0; i < n; i++) {
    const f = i * SLOT_F64;
    const ex = u32[f * 2] & 0xf;
    perEx[ex]++;
    symsPerEx[ex].add(u32[f * 2 + 1]);
    if (f64[f + 1] > maxRecvMs) maxRecvMs = f64[f + 1];
  }
  const chunks: MarketChunks = new Map();
  const writers: Array<{ buf: Buffer; off: number } | null> = EXCHANGES.map((ex, i) => {
    if (perEx[i] === 0) return null;
    const names = [...symsPerEx[i]].map((id) => ({ id, bytes: utf8.get(id) }));
    const tableBytes = 2 + names.reduce((s, x) => s + 6 + x.bytes.length, 0);
    const buf = Buffer.allocUnsafe(tableBytes + perEx[i] * RECORD_BYTES);
    let off = buf.writeUInt16LE(names.length, 0);
    for (const x of names) {
      off = buf.writeUInt32LE(x.id, off);
      off = buf.writeUInt16LE(x.bytes.length, off);
      off += x.bytes.copy(buf, off);
    }
    chunks.set(ex, { n: perEx[i], data: buf });
    return { buf, off };
  });
  const src = Buffer.from(bytes.buffer, bytes.byteOffset, n * MARKET_SLOT_BYTES);
  for (let i = 0; i < n; i++) {
    const w = writers[u32[i * SLOT_F64 * 2] & 0xf] as { buf: Buffer; off: number };
    w.buf.writeUInt32LE(i, w.off);
    src.copy(w.buf, w.off + 4, i * MARKET_SLOT_BYTES, (i + 1) * MARKET_SLOT_BYTES);
    w.off += RECORD_BYTES;
  }
  return { chunks, maxRecvMs };
}

/** Decodes one exchange's chunk; malformed data yields what decoded cleanly and `malformed: true`. */
export function decodeMarketChunk(exchange: Exchange, data: Buffer): { records: Array<{ index: number; record: MarketRecord }>; malformed: boolean } {
  const records: Array<{ index: number; record: MarketRecord }> = [];
  if (data.length < 2) return { records, malformed: data.length !== 0 };
  const symbols = new Map<number, string>();
  let off = 2;
  const nSyms = data.readUInt16LE(0);
  for (let i = 0; i < nSyms; i++) {
    if (off + 6 > data.length) return { records, malformed: true };
    const id = data.readUInt32LE(off);
    const len = data.readUInt16LE(off + 4);
    if (off + 6 + len > data.length) return { records, malformed: true };
    symbols.set(id, data.toString('utf8', off + 6, off + 6 + len));
    off += 6 + len;
  }
  while (off + RECORD_BYTES <= data.length) {
    const index = data.readUInt32LE(off);
    const meta = data.readUInt32LE(off + 4);
    const symbol = symbols.get(data.readUInt32LE(off + 8));
    if (symbol === undefined) return { records, malformed: true };
    const flags = meta >>> 8;
    const d = (k: number) => data.readDoubleLE(off + 4 + 8 * k);
    const kind = (meta >>> 4) & 0xf;
    const base = { exchange, symbol, recvMs: d(1), exchangeTsMs: d(2) };
    let record: MarketRecord;
    if (kind === KIND_FUNDING) {
      record = { ...base, kind: 'funding' };
      if (flags & 1) record.fundingRate = d(3);
      if (flags & 2) record.fundingIntervalMs = d(4);
      if (flags & 4) record.nextFundingMs = d(5);
      if (flags & 16) record.predicted = (flags & 32) !== 0;
    } else {
      record = { ...base, kind: 'quote' };
      if (flags & 1) record.bid = d(3);
      if (flags & 2) record.ask = d(4);
      if (flags & 4) record.bidSize = d(5);
      if (flags & 8) record.askSize = d(6);
    }
    records.push({ index, record });
    off += RECORD_BYTES;
  }
  return { records, malformed: off !== data.length };
}
