/**
 * The Redis writer's backlog of opportunity events as fixed 296-byte binary slots (SlotRing): the
 * caller's path copies an event's numbers and interned-string ids and retains no object; full → the
 * OLDEST event is dropped and counted exactly. The writer thread turns raw slots into the stream's
 * self-delimiting records (format in codec.ts) with `encodeEventSlots`.
 *
 * Slot: u8 kind, u8 close reason (255 none), u8 long exchange, u8 short exchange, u8 flags (as in the
 * stream record, settle bits included), 3 spare; u32 string ids: instrument, longSymbol, shortSymbol, id (custom ids only);
 * then 31 float64 in stream-record order: seq, tsMs, recvUs, lifetimeMs, OPPORTUNITY_NUMBERS; then the fee
 * breakdown (codec.ts F_FEE_SECTION, flagged in the reason byte as in the stream record): u32 string ids
 * longFeeTier, shortFeeTier, float64 longTakerFeeBps, shortTakerFeeBps; then the later optional fields
 * (codec.ts OPPORTUNITY_EXTRAS): MAX_EXTRAS u8 states (0 absent, 1 null, 2 number, 3 string id) and
 * MAX_EXTRAS float64 values (a string's interned id for state 3).
 */
import { EXCHANGES } from '../../shared/exchanges.js';
import { OPPORTUNITY_CLOSE_REASONS, opportunityId, type Opportunity, type OpportunityEvent } from '../../shared/opportunity.js';
import { assertLittleEndian, F_CUSTOM_ID, F_EXTRAS_SECTION, OPPORTUNITY_EXTRAS, F_NULL_BREAK_EVEN, feeReasonByte, hasFeeSection, KINDS, OPPORTUNITY_NUMBERS, reasonIndexOf, settleFlags, settlesOf } from './codec.js';
import { SlotRing } from './slot-ring.js';
import { StringTable, type Utf8Cache } from './string-table.js';

const NUMBERS = 4 + OPPORTUNITY_NUMBERS.length;
const NUMBERS_AT = 24; // bytes
const FEES_AT = NUMBERS_AT + 8 * NUMBERS; // bytes: u32 long tier id, u32 short tier id, f64 long taker, f64 short taker
const EXTRAS_AT = FEES_AT + 24;
/** Room for later optional fields in a slot (the list may grow to this many without a slot change). */
const MAX_EXTRAS = 24;
const EXTRA_VALUES_AT = EXTRAS_AT + MAX_EXTRAS; // bytes (8-aligned)
export const EVENT_SLOT_BYTES = EXTRA_VALUES_AT + 8 * MAX_EXTRAS;
// Fails to compile when OPPORTUNITY_EXTRAS outgrows the slot's room.
const _extrasFit: (typeof OPPORTUNITY_EXTRAS)['length'] extends 0|1|2|3|4|5|6|7|8|9|10|11|12|13|14|15|16|17|18|19|20|21|22|23|24 ? true : never = true;
void _extrasFit;
const X_ABSENT = 0;
const X_NULL = 1;
const X_NUMBER = 2;
const X_STRING = 3;
const SLOT_WORDS = EVENT_SLOT_BYTES / 8;
const NUMBER_BYTES = 8 * NUMBERS;
const CLOSED = KINDS.indexOf('closed');

export class EventRing {
  private readonly ring: SlotRing;
  /** Events refused because they were malformed (not written, counted). */
  rejected = 0;

  constructor(
    capacity: number,
    readonly strings = new StringTable(),
  ) {
    assertLittleEndian();
    this.ring = new SlotRing(capacity, EVENT_SLOT_BYTES, 1024);
  }

  get size(): number {
    return this.ring.size;
  }
  get dropped(): number {
    return this.ring.dropped;
  }

  push(e: OpportunityEvent): void {
    const o = e?.opportunity;
    const kind = KINDS.indexOf(e?.kind);
    const reason = e?.kind === 'closed' ? OPPORTUNITY_CLOSE_REASONS.indexOf(e.reason) : 255;
    const longEx = EXCHANGES.indexOf(o?.longExchange);
    const shortEx = EXCHANGES.indexOf(o?.shortExchange);
    const settles = o ? settleFlags(o) : -1;
    if (
      kind < 0 || reason < 0 || longEx < 0 || shortEx < 0 || settles < 0 ||
      typeof o.instrument !== 'string' || typeof o.longSymbol !== 'string' || typeof o.shortSymbol !== 'string' || typeof o.id !== 'string'
    ) {
      this.rejected++;
      return;
    }
    const customId = o.id !== opportunityId(o.instrument, o.longExchange, o.shortExchange, o.longSettle, o.shortSettle);
    let flags = (o.breakEvenHours === null ? F_NULL_BREAK_EVEN : 0) | (customId ? F_CUSTOM_ID : 0) | settles;
    if (o.longFundingPredicted !== undefined) flags |= 4 | (o.longFundingPredicted ? 8 : 0);
    if (o.shortFundingPredicted !== undefined) flags |= 16 | (o.shortFundingPredicted ? 32 : 0);
    const instrument = this.strings.id(o.instrument);
    const longSymbol = this.strings.id(o.longSymbol);
    const shortSymbol = this.strings.id(o.shortSymbol);
    const id = customId ? this.strings.id(o.id) : 0;
    const fees = typeof o.longFeeTier === 'string' && typeof o.shortFeeTier === 'string' && typeof o.longTakerFeeBps === 'number' && typeof o.shortTakerFeeBps === 'number';
    const longTier = fees ? this.strings.id(o.longFeeTier!) : 0;
    const shortTier = fees ? this.strings.id(o.shortFeeTier!) : 0;
    const w = this.ring.claim();
    const b = w * 8;
    const u8 = this.ring.u8;
    const u32 = this.ring.u32;
    const f = this.ring.f64;
    u8[b] = kind;
    u8[b + 1] = feeReasonByte(e.kind === 'closed' ? reason : -1, fees);
    u8[b + 2] = longEx;
    u8[b + 3] = shortEx;
    u8[b + 4] = flags;
    u32[w * 2 + 2] = instrument;
    u32[w * 2 + 3] = longSymbol;
    u32[w * 2 + 4] = shortSymbol;
    u32[w * 2 + 5] = id;
    const n = w + NUMBERS_AT / 8;
    f[n] = e.seq;
    f[n + 1] = e.tsMs;
    f[n + 2] = e.recvUs;
    f[n + 3] = e.kind === 'closed' ? e.lifetimeMs : 0;
    f[n + 4] = o.longAsk;
    f[n + 5] = o.shortBid;
    f[n + 6] = o.longAskSize;
    f[n + 7] = o.shortBidSize;
    f[n + 8] = o.spreadBps;
    f[n + 9] = o.longFundingRate8h;
    f[n + 10] = o.shortFundingRate8h;
    f[n + 11] = o.fundingDelta8h;
    f[n + 12] = o.fundingAprPct;
    f[n + 13] = o.longNextFundingMs;
    f[n + 14] = o.shortNextFundingMs;
    f[n + 15] = o.longFundingIntervalMs;
    f[n + 16] = o.shortFundingIntervalMs;
    f[n + 17] = o.feesBps;
    f[n + 18] = o.slippageBps;
    f[n + 19] = o.expectedFundingBps;
    f[n + 20] = o.projectedProfitBps;
    f[n + 21] = o.projectedProfitUsd;
    f[n + 22] = o.notionalUsd;
    f[n + 23] = o.confidence;
    f[n + 24] = o.breakEvenHours ?? 0;
    f[n + 25] = o.longQuoteAgeMs;
    f[n + 26] = o.shortQuoteAgeMs;
    f[n + 27] = o.firstSeenMs;
    f[n + 28] = o.updatedMs;
    f[n + 29] = o.peakProfitBps;
    f[n + 30] = o.updateCount;
    u32[(b + FEES_AT) / 4] = longTier;
    u32[(b + FEES_AT) / 4 + 1] = shortTier;
    f[(b + FEES_AT) / 8 + 1] = fees ? o.longTakerFeeBps! : 0;
    f[(b + FEES_AT) / 8 + 2] = fees ? o.shortTakerFeeBps! : 0;
    const rec = o as unknown as Record<string, unknown>;
    for (let i = 0; i < OPPORTUNITY_EXTRAS.length; i++) {
      const v = rec[OPPORTUNITY_EXTRAS[i]];
      const at = (b + EXTRA_VALUES_AT) / 8 + i;
      if (typeof v === 'number') {
        u8[b + EXTRAS_AT + i] = X_NUMBER;
        f[at] = v;
      } else if (typeof v === 'string') {
        u8[b + EXTRAS_AT + i] = X_STRING;
        f[at] = this.strings.id(v);
      } else u8[b + EXTRAS_AT + i] = v === null ? X_NULL : X_ABSENT;
    }
  }

  /** Removes up to `max` events from the front as raw slots. */
  takeSlots(max: number, reuse?: ArrayBuffer): { bytes: Uint8Array; n: number } {
    return this.ring.takeSlots(max, reuse);
  }

  /** The queued events, oldest first, without removing them (REST history while they wait). */
  peekAll(): OpportunityEvent[] {
    const { bytes, n } = this.ring.peekSlots();
    return decodeEventSlots(bytes, n, this.strings);
  }
}

/** The `closed` events' slots among `n` raw slots (a small copy). */
export function closedEventSlots(bytes: Uint8Array, n: number): { bytes: Uint8Array; n: number } {
  let closed = 0;
  for (let i = 0; i < n; i++) if (bytes[i * EVENT_SLOT_BYTES] === CLOSED) closed++;
  const out = new Uint8Array(closed * EVENT_SLOT_BYTES);
  for (let i = 0, at = 0; i < n; i++) {
    if (bytes[i * EVENT_SLOT_BYTES] !== CLOSED) continue;
    out.set(bytes.subarray(i * EVENT_SLOT_BYTES, (i + 1) * EVENT_SLOT_BYTES), at);
    at += EVENT_SLOT_BYTES;
  }
  return { bytes: out, n: closed };
}

/** Events back from raw slots (the same objects the stream records decode to). */
export function decodeEventSlots(bytes: Uint8Array, n: number, strings: StringTable): OpportunityEvent[] {
  const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, (n * EVENT_SLOT_BYTES) / 4);
  const f = new Float64Array(bytes.buffer, bytes.byteOffset, n * SLOT_WORDS);
  const out: OpportunityEvent[] = [];
  for (let i = 0; i < n; i++) {
    const b = i * EVENT_SLOT_BYTES;
    const w = i * SLOT_WORDS;
    const flags = bytes[b + 4];
    const kind = KINDS[bytes[b]];
    const longExchange = EXCHANGES[bytes[b + 2]];
    const shortExchange = EXCHANGES[bytes[b + 3]];
    const instrument = strings.get(u32[w * 2 + 2]) ?? '';
    const settles = settlesOf(flags);
    const id = flags & F_CUSTOM_ID ? (strings.get(u32[w * 2 + 5]) ?? '') : opportunityId(instrument, longExchange, shortExchange, settles.longSettle, settles.shortSettle);
    const o = { id, instrument, longExchange, shortExchange, longSymbol: strings.get(u32[w * 2 + 3]) ?? '', shortSymbol: strings.get(u32[w * 2 + 4]) ?? '', ...settles } as Record<string, unknown>;
    const at = w + NUMBERS_AT / 8;
    OPPORTUNITY_NUMBERS.forEach((k, j) => (o[k] = f[at + 4 + j]));
    if (flags & F_NULL_BREAK_EVEN) o.breakEvenHours = null;
    if (flags & 4) o.longFundingPredicted = (flags & 8) !== 0;
    if (flags & 16) o.shortFundingPredicted = (flags & 32) !== 0;
    if (hasFeeSection(bytes[b + 1])) {
      o.longFeeTier = strings.get(u32[(b + FEES_AT) / 4]) ?? '';
      o.shortFeeTier = strings.get(u32[(b + FEES_AT) / 4 + 1]) ?? '';
      o.longTakerFeeBps = f[(b + FEES_AT) / 8 + 1];
      o.shortTakerFeeBps = f[(b + FEES_AT) / 8 + 2];
    }
    for (let x = 0; x < OPPORTUNITY_EXTRAS.length; x++) {
      const state = bytes[b + EXTRAS_AT + x];
      const v = f[(b + EXTRA_VALUES_AT) / 8 + x];
      if (state === X_NULL) o[OPPORTUNITY_EXTRAS[x]] = null;
      else if (state === X_NUMBER) o[OPPORTUNITY_EXTRAS[x]] = v;
      else if (state === X_STRING) o[OPPORTUNITY_EXTRAS[x]] = strings.get(v) ?? '';
    }
    const opportunity = o as unknown as Opportunity;
    const [seq, tsMs, recvUs, lifetimeMs] = [f[at], f[at + 1], f[at + 2], f[at + 3]];
    if (kind === 'closed') out.push({ kind, seq, tsMs, recvUs, opportunity, reason: OPPORTUNITY_CLOSE_REASONS[reasonIndexOf(bytes[b + 1])], lifetimeMs });
    else out.push({ kind, seq, tsMs, recvUs, opportunity });
  }
  return out;
}

/** Writes a slot's extras as the stream record's tagged section (codec.ts); returns the new offset. */
function putExtras(buf: Buffer, off: number, bytes: Uint8Array, f: Float64Array, b: number, utf8: Utf8Cache): number {
  const countAt = off++;
  let count = 0;
  for (let x = 0; x < OPPORTUNITY_EXTRAS.length; x++) {
    const state = bytes[b + EXTRAS_AT + x];
    if (state === X_ABSENT) continue;
    count++;
    buf[off] = x;
    const v = f[(b + EXTRA_VALUES_AT) / 8 + x];
    if (state === X_NULL) {
      buf[off + 1] = 0;
      off += 2;
    } else if (state === X_NUMBER) {
      buf[off + 1] = 1;
      buf.writeDoubleLE(v, off + 2);
      off += 10;
    } else {
      buf[off + 1] = 2;
      off = putString(buf, off + 2, utf8.get(v));
    }
  }
  buf[countAt] = count;
  return off;
}

/** Appends one UTF-8 string (u16 length + bytes) at `off`; returns the new offset. */
function putString(buf: Buffer, off: number, s: Buffer): number {
  buf.writeUInt16LE(s.length, off);
  s.copy(buf, off + 2);
  return off + 2 + s.length;
}

/**
 * Encodes `n` raw event slots as stream records (codec.ts format): all of them, and the `closed` ones
 * again for the closed-history stream. `maxTsMs` is the latest event time (the batch id is not below it).
 */
export function encodeEventSlots(
  bytes: Uint8Array,
  n: number,
  utf8: Utf8Cache,
): { all: Buffer | null; closed: Buffer | null; closedCount: number; maxTsMs: number } {
  const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, (n * EVENT_SLOT_BYTES) / 4);
  const f = new Float64Array(bytes.buffer, bytes.byteOffset, n * SLOT_WORDS);
  let size = 0;
  let closedSize = 0;
  let closedCount = 0;
  let maxTsMs = -Infinity;
  const recordSize = (i: number) => {
    const w = i * SLOT_WORDS;
    const custom = bytes[i * EVENT_SLOT_BYTES + 4] & F_CUSTOM_ID;
    let s = 5 + NUMBER_BYTES + 6 + utf8.get(u32[w * 2 + 2]).length + utf8.get(u32[w * 2 + 3]).length + utf8.get(u32[w * 2 + 4]).length;
    if (custom) s += 2 + utf8.get(u32[w * 2 + 5]).length;
    if (hasFeeSection(bytes[i * EVENT_SLOT_BYTES + 1])) s += 4 + 16 + utf8.get(u32[(i * EVENT_SLOT_BYTES + FEES_AT) / 4]).length + utf8.get(u32[(i * EVENT_SLOT_BYTES + FEES_AT) / 4 + 1]).length;
    return s + extrasSize(i);
  };
  /** Bytes of the record's extras section (0 when it carries none). */
  const extrasSize = (i: number) => {
    const b = i * EVENT_SLOT_BYTES;
    let s = 0;
    for (let x = 0; x < OPPORTUNITY_EXTRAS.length; x++) {
      const state = bytes[b + EXTRAS_AT + x];
      if (state === X_NULL) s += 2;
      else if (state === X_NUMBER) s += 10;
      else if (state === X_STRING) s += 4 + utf8.get(f[(b + EXTRA_VALUES_AT) / 8 + x]).length;
    }
    return s > 0 ? s + 1 : 0;
  };
  for (let i = 0; i < n; i++) {
    const s = recordSize(i);
    size += s;
    if (bytes[i * EVENT_SLOT_BYTES] === CLOSED) {
      closedSize += s;
      closedCount++;
    }
    const ts = f[i * SLOT_WORDS + NUMBERS_AT / 8 + 1];
    if (ts > maxTsMs) maxTsMs = ts;
  }
  const all = Buffer.allocUnsafe(size);
  const closed = closedCount > 0 ? Buffer.allocUnsafe(closedSize) : null;
  const src = Buffer.from(bytes.buffer, bytes.byteOffset, n * EVENT_SLOT_BYTES);
  let off = 0;
  let closedOff = 0;
  for (let i = 0; i < n; i++) {
    const b = i * EVENT_SLOT_BYTES;
    const w = i * SLOT_WORDS;
    const start = off;
    src.copy(all, off, b, b + 5);
    const extrasStart = off;
    off += 5;
    off = putString(all, off, utf8.get(u32[w * 2 + 2]));
    off = putString(all, off, utf8.get(u32[w * 2 + 3]));
    off = putString(all, off, utf8.get(u32[w * 2 + 4]));
    if (bytes[b + 4] & F_CUSTOM_ID) off = putString(all, off, utf8.get(u32[w * 2 + 5]));
    src.copy(all, off, b + NUMBERS_AT, b + FEES_AT);
    off += NUMBER_BYTES;
    if (hasFeeSection(bytes[b + 1])) {
      off = putString(all, off, utf8.get(u32[(b + FEES_AT) / 4]));
      off = putString(all, off, utf8.get(u32[(b + FEES_AT) / 4 + 1]));
      src.copy(all, off, b + FEES_AT + 8, b + FEES_AT + 24);
      off += 16;
    }
    if (extrasSize(i) > 0) {
      all[extrasStart] |= F_EXTRAS_SECTION;
      off = putExtras(all, off, bytes, f, b, utf8);
    }
    if (closed && bytes[b] === CLOSED) closedOff += all.copy(closed, closedOff, start, off);
  }
  return { all: n > 0 ? all : null, closed, closedCount, maxTsMs };
}
