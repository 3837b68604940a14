/**
 * Stream ids and the opportunity-event chunk format (see docs/persistence.md): one stream entry holds
 * the records of one write batch. Market-record chunks are in market-ring.ts.
 */
import { EXCHANGES } from '../../shared/exchanges.js';
import { OPPORTUNITY_CLOSE_REASONS, SETTLE_CURRENCIES, opportunityId, type Opportunity, type OpportunityEvent } from '../../shared/opportunity.js';

/** A Redis stream id `<ms>-<seq>` as numbers. */
export interface StreamId {
  ms: number;
  seq: number;
}

export function parseStreamId(id: string): StreamId | null {
  const dash = id.indexOf('-');
  if (dash <= 0) return null;
  const ms = Number(id.slice(0, dash));
  const seq = Number(id.slice(dash + 1));
  return Number.isSafeInteger(ms) && Number.isSafeInteger(seq) ? { ms, seq } : null;
}

export function formatStreamId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

export function compareStreamIds(a: StreamId, b: StreamId): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.seq - b.seq;
}

/** The next id after `last` that is at least `minMs` (stream ids must increase). */
export function nextStreamId(last: StreamId, minMs: number): StreamId {
  const ms = Math.max(Math.floor(minMs), last.ms);
  return ms === last.ms ? { ms, seq: last.seq + 1 } : { ms, seq: 0 };
}

// ---- opportunity events: binary records ------------------------------------------------------------
//
// JSON costs ~30 µs and ~1.2 KB per event (number formatting); at 100,000 updates/s the detector can
// publish ~50,000 events/s, so events are packed as binary records instead (~300 bytes, no number
// formatting, every double exact, -0 and NaN included). A record is self-delimiting:
//   u8 kind, u8 close reason (255 none), u8 long exchange, u8 short exchange, u8 flags
//   (1 breakEvenHours null, 2 id is not opportunityId(...) of the record's fields, then 2 bits per
//   OPPORTUNITY_BOOLEANS field, then 64 long leg settles in USDC, 128 short leg settles in USDC: records
//   written before settle currencies existed have both bits 0 and read as USDT legs; crossQuote is
//   derived from the two settles), then u16-length-prefixed UTF-8
//   strings: instrument, longSymbol, shortSymbol[, id], then float64 LE: seq, tsMs, recvUs, lifetimeMs,
//   and the Opportunity's numeric fields in OPPORTUNITY_NUMBERS order.

/** Every numeric field of Opportunity, in record order (a compile-time check below keeps it complete). */
export const OPPORTUNITY_NUMBERS = [
  'longAsk', 'shortBid', 'longAskSize', 'shortBidSize', 'spreadBps', 'longFundingRate8h', 'shortFundingRate8h', 'fundingDelta8h',
  'fundingAprPct', 'longNextFundingMs', 'shortNextFundingMs', 'longFundingIntervalMs', 'shortFundingIntervalMs', 'feesBps',
  'slippageBps', 'expectedFundingBps', 'projectedProfitBps', 'projectedProfitUsd', 'notionalUsd', 'confidence', 'breakEvenHours',
  'longQuoteAgeMs', 'shortQuoteAgeMs', 'firstSeenMs', 'updatedMs', 'peakProfitBps', 'updateCount',
] as const satisfies ReadonlyArray<keyof Opportunity>;
/** Every (optional) boolean field of Opportunity: two flag bits each from bit 2 on, `present` and `true`. */
const OPPORTUNITY_BOOLEANS = ['longFundingPredicted', 'shortFundingPredicted'] as const satisfies ReadonlyArray<keyof Opportunity>;
/**
 * The fee breakdown (fee tier per leg and its taker figure), written after the numbers when all four are
 * present: strings longFeeTier, shortFeeTier, then float64 longTakerFeeBps, shortTakerFeeBps. Its presence
 * is bit 0x80 of the close-reason byte (F_FEE_SECTION; the reason is then `byte & 0x7f`, REASON_NONE_WITH_FEES
 * for none). Records written before it have 255 or a reason index < 128 there and read without the fields.
 */
const OPPORTUNITY_FEE_FIELDS = ['longFeeTier', 'shortFeeTier', 'longTakerFeeBps', 'shortTakerFeeBps'] as const satisfies ReadonlyArray<keyof Opportunity>;
export const F_FEE_SECTION = 0x80;
const REASON_NONE_WITH_FEES = 0x7e; // 0x80 | 0x7e = 254: 255 stays "no reason, no fee section" (older records)
/** The close-reason byte: reason index (-1 none), with F_FEE_SECTION when the fee breakdown follows. */
export function feeReasonByte(reasonIdx: number, fees: boolean): number {
  return fees ? F_FEE_SECTION | (reasonIdx < 0 ? REASON_NONE_WITH_FEES : reasonIdx) : reasonIdx < 0 ? 255 : reasonIdx;
}
export function hasFeeSection(reasonByte: number): boolean {
  return reasonByte !== 255 && (reasonByte & F_FEE_SECTION) !== 0;
}
/** The close-reason index of a reason byte (255 or REASON_NONE_WITH_FEES = none). */
export function reasonIndexOf(reasonByte: number): number {
  return hasFeeSection(reasonByte) ? reasonByte & ~F_FEE_SECTION : reasonByte;
}
/**
 * Later optional fields, written as a tagged section at the end of the record: u8 count, then per present
 * field u8 index into this list (APPEND-ONLY: persisted records store the index), u8 tag (0 null, 1
 * float64, 2 string) and the value. Its presence is bit 0x80 of the kind byte (F_EXTRAS_SECTION). A new
 * optional field is one more entry here and nothing else.
 */
export const OPPORTUNITY_EXTRAS = [
  'fundingBasis', 'expectedFundingCurrentBps', 'expectedFundingRealisedBps', 'realisedFundingDelta8h', 'carryEarnedShare',
  'carryStdevBps', 'carrySettlements', 'netAprPct', 'slippageSource', 'entrySlippageBps', 'exitSlippageBps', 'capacityUsd',
  'longOpenInterestUsd', 'shortOpenInterestUsd', 'longVolume24hUsd', 'shortVolume24hUsd',
] as const satisfies ReadonlyArray<keyof Opportunity>;
export const F_EXTRAS_SECTION = 0x80;
const TAG_NULL = 0;
const TAG_NUMBER = 1;
const TAG_STRING = 2;

type EncodedOpportunityKeys =
  | (typeof OPPORTUNITY_EXTRAS)[number]
  | (typeof OPPORTUNITY_FEE_FIELDS)[number]
  | (typeof OPPORTUNITY_NUMBERS)[number]
  | (typeof OPPORTUNITY_BOOLEANS)[number]
  | 'id'
  | 'instrument'
  | 'longExchange'
  | 'shortExchange'
  | 'longSymbol'
  | 'shortSymbol'
  | 'longSettle'
  | 'shortSettle'
  | 'crossQuote';
// Fails to compile when Opportunity gains a field this codec does not write.
const _allFieldsEncoded: [Exclude<keyof Opportunity, EncodedOpportunityKeys>] extends [never] ? true : never = true;
void _allFieldsEncoded;

export const KINDS: ReadonlyArray<OpportunityEvent['kind']> = ['opened', 'updated', 'closed'];
export const F_NULL_BREAK_EVEN = 1;
export const F_CUSTOM_ID = 2;
/** Settle index bits (one bit per leg: the format holds two settle currencies, USDT = 0 and USDC = 1). */
export const F_LONG_SETTLE = 64;
export const F_SHORT_SETTLE = 128;
// Fails to compile when a third settle currency is added: the flag bits above would need a format change.
const _twoSettles: (typeof SETTLE_CURRENCIES)['length'] extends 2 ? true : never = true;
void _twoSettles;

/** The settle flag bits of an opportunity, or -1 when a leg's settle is not a known currency. */
export function settleFlags(o: Opportunity): number {
  const l = SETTLE_CURRENCIES.indexOf(o.longSettle);
  const s = SETTLE_CURRENCIES.indexOf(o.shortSettle);
  return l < 0 || s < 0 ? -1 : (l === 1 ? F_LONG_SETTLE : 0) | (s === 1 ? F_SHORT_SETTLE : 0);
}

/** The settle fields read back from the flag bits (crossQuote derived). */
export function settlesOf(flags: number): Pick<Opportunity, 'longSettle' | 'shortSettle' | 'crossQuote'> {
  const longSettle = SETTLE_CURRENCIES[flags & F_LONG_SETTLE ? 1 : 0];
  const shortSettle = SETTLE_CURRENCIES[flags & F_SHORT_SETTLE ? 1 : 0];
  return { longSettle, shortSettle, crossQuote: longSettle !== shortSettle };
}

const NUMBERS_PER_EVENT = 4 + OPPORTUNITY_NUMBERS.length;

/** The binary formats copy typed-array bytes as they are and read them little-endian. */
export function assertLittleEndian(): void {
  if (new Uint8Array(new Float64Array([1]).buffer)[7] !== 0x3f) throw new Error('perpscan persistence needs a little-endian platform');
}

/** Appends events as binary records into a growing buffer; `take()` returns a copy and resets it. */
export class EventEncoder {
  private buf = Buffer.allocUnsafe(1 << 16);
  private off = 0;
  count = 0;
  // Numbers go through one Float64Array and one copy; strings through a small cache of their UTF-8 bytes.
  private readonly scratch = new Float64Array(NUMBERS_PER_EVENT);
  private readonly scratchBytes = new Uint8Array(this.scratch.buffer);
  private readonly utf8 = new Map<string, Buffer>();

  constructor() {
    assertLittleEndian();
  }

  private ensure(extra: number): void {
    if (this.off + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.off + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }

  private str(s: string): void {
    if (typeof s !== 'string') throw new TypeError('opportunity event: expected a string field');
    let bytes = this.utf8.get(s);
    if (!bytes) {
      if (this.utf8.size >= 4096) this.utf8.clear();
      bytes = Buffer.from(s, 'utf8');
      this.utf8.set(s, bytes);
    }
    this.ensure(2 + bytes.length);
    this.buf.writeUInt16LE(bytes.length, this.off);
    this.buf.set(bytes, this.off + 2);
    this.off += 2 + bytes.length;
  }

  /** Appends one event; a malformed one throws and leaves the buffer as it was. */
  add(e: OpportunityEvent): void {
    const start = this.off;
    try {
      this.write(e);
      this.count++;
    } catch (err) {
      this.off = start;
      throw err;
    }
  }

  private write(e: OpportunityEvent): void {
    const o = e.opportunity;
    const settles = settleFlags(o);
    if (settles < 0) throw new TypeError('opportunity event: unknown settle currency');
    const customId = o.id !== opportunityId(o.instrument, o.longExchange, o.shortExchange, o.longSettle, o.shortSettle);
    this.ensure(5);
    const b = this.buf;
    const extras = presentExtras(o);
    b[this.off] = KINDS.indexOf(e.kind) | (extras > 0 ? F_EXTRAS_SECTION : 0);
    const fees = typeof o.longFeeTier === 'string' && typeof o.shortFeeTier === 'string' && typeof o.longTakerFeeBps === 'number' && typeof o.shortTakerFeeBps === 'number';
    const reasonIdx = e.kind === 'closed' ? OPPORTUNITY_CLOSE_REASONS.indexOf(e.reason) : -1;
    b[this.off + 1] = fees ? F_FEE_SECTION | (reasonIdx < 0 ? REASON_NONE_WITH_FEES : reasonIdx) : reasonIdx < 0 ? 255 : reasonIdx;
    b[this.off + 2] = EXCHANGES.indexOf(o.longExchange);
    b[this.off + 3] = EXCHANGES.indexOf(o.shortExchange);
    let flags = (o.breakEvenHours === null ? F_NULL_BREAK_EVEN : 0) | (customId ? F_CUSTOM_ID : 0);
    if (o.longFundingPredicted !== undefined) flags |= 4 | (o.longFundingPredicted ? 8 : 0);
    if (o.shortFundingPredicted !== undefined) flags |= 16 | (o.shortFundingPredicted ? 32 : 0);
    b[this.off + 4] = flags | settles;
    this.off += 5;
    this.str(o.instrument);
    this.str(o.longSymbol);
    this.str(o.shortSymbol);
    if (customId) this.str(o.id);
    // Same order as OPPORTUNITY_NUMBERS (a test checks every field with distinct values).
    const f = this.scratch;
    f[0] = e.seq;
    f[1] = e.tsMs;
    f[2] = e.recvUs;
    f[3] = e.kind === 'closed' ? e.lifetimeMs : 0;
    f[4] = o.longAsk;
    f[5] = o.shortBid;
    f[6] = o.longAskSize;
    f[7] = o.shortBidSize;
    f[8] = o.spreadBps;
    f[9] = o.longFundingRate8h;
    f[10] = o.shortFundingRate8h;
    f[11] = o.fundingDelta8h;
    f[12] = o.fundingAprPct;
    f[13] = o.longNextFundingMs;
    f[14] = o.shortNextFundingMs;
    f[15] = o.longFundingIntervalMs;
    f[16] = o.shortFundingIntervalMs;
    f[17] = o.feesBps;
    f[18] = o.slippageBps;
    f[19] = o.expectedFundingBps;
    f[20] = o.projectedProfitBps;
    f[21] = o.projectedProfitUsd;
    f[22] = o.notionalUsd;
    f[23] = o.confidence;
    f[24] = o.breakEvenHours ?? 0;
    f[25] = o.longQuoteAgeMs;
    f[26] = o.shortQuoteAgeMs;
    f[27] = o.firstSeenMs;
    f[28] = o.updatedMs;
    f[29] = o.peakProfitBps;
    f[30] = o.updateCount;
    this.ensure(this.scratchBytes.length);
    this.buf.set(this.scratchBytes, this.off); // platform byte order (little-endian on every Node target)
    this.off += this.scratchBytes.length;
    if (fees) {
      this.str(o.longFeeTier!);
      this.str(o.shortFeeTier!);
      this.ensure(16);
      this.buf.writeDoubleLE(o.longTakerFeeBps!, this.off);
      this.buf.writeDoubleLE(o.shortTakerFeeBps!, this.off + 8);
      this.off += 16;
    }
    if (extras > 0) this.writeExtras(o, extras);
  }

  private writeExtras(o: Opportunity, count: number): void {
    this.ensure(1);
    this.buf[this.off++] = count;
    const rec = o as unknown as Record<string, unknown>;
    for (let i = 0; i < OPPORTUNITY_EXTRAS.length; i++) {
      const v = rec[OPPORTUNITY_EXTRAS[i]];
      if (v === undefined) continue;
      this.ensure(2);
      this.buf[this.off] = i;
      if (v === null) {
        this.buf[this.off + 1] = TAG_NULL;
        this.off += 2;
      } else if (typeof v === 'number') {
        this.ensure(10);
        this.buf[this.off + 1] = TAG_NUMBER;
        this.buf.writeDoubleLE(v, this.off + 2);
        this.off += 10;
      } else if (typeof v === 'string') {
        this.buf[this.off + 1] = TAG_STRING;
        this.off += 2;
        this.str(v);
      } else {
        throw new TypeError(`opportunity event: ${OPPORTUNITY_EXTRAS[i]} has an unsupported type`);
      }
    }
  }

  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.off));
    this.off = 0;
    this.count = 0;
    return out;
  }
}

/** How many OPPORTUNITY_EXTRAS fields `o` carries (undefined = absent). */
function presentExtras(o: Opportunity): number {
  const rec = o as unknown as Record<string, unknown>;
  let n = 0;
  for (const k of OPPORTUNITY_EXTRAS) if (rec[k] !== undefined) n++;
  return n;
}

/** Decodes a chunk of binary event records; stops at the first malformed record (and reports it). */
export function decodeEvents(data: Buffer): { events: OpportunityEvent[]; malformed: boolean } {
  const events: OpportunityEvent[] = [];
  let off = 0;
  const str = (): string | null => {
    if (off + 2 > data.length) return null;
    const n = data.readUInt16LE(off);
    if (off + 2 + n > data.length) return null;
    const s = data.toString('utf8', off + 2, off + 2 + n);
    off += 2 + n;
    return s;
  };
  while (off < data.length) {
    if (off + 5 > data.length) return { events, malformed: true };
    const kind = KINDS[data[off] & ~F_EXTRAS_SECTION];
    const hasExtras = (data[off] & F_EXTRAS_SECTION) !== 0;
    const reasonByte = data[off + 1];
    const hasFees = reasonByte !== 255 && (reasonByte & F_FEE_SECTION) !== 0;
    const reasonIdx = hasFees ? reasonByte & ~F_FEE_SECTION : reasonByte;
    const longExchange = EXCHANGES[data[off + 2]];
    const shortExchange = EXCHANGES[data[off + 3]];
    const flags = data[off + 4];
    off += 5;
    const instrument = str();
    const longSymbol = str();
    const shortSymbol = str();
    if (!kind || !longExchange || !shortExchange || instrument === null || longSymbol === null || shortSymbol === null) return { events, malformed: true };
    const settles = settlesOf(flags);
    const id = flags & F_CUSTOM_ID ? str() : opportunityId(instrument, longExchange, shortExchange, settles.longSettle, settles.shortSettle);
    if (id === null) return { events, malformed: true };
    if (off + 8 * (4 + OPPORTUNITY_NUMBERS.length) > data.length) return { events, malformed: true };
    const r = () => {
      const v = data.readDoubleLE(off);
      off += 8;
      return v;
    };
    const seq = r();
    const tsMs = r();
    const recvUs = r();
    const lifetimeMs = r();
    const o = { id, instrument, longExchange, shortExchange, longSymbol, shortSymbol, ...settles } as Record<string, unknown>;
    for (const k of OPPORTUNITY_NUMBERS) o[k] = r();
    if (flags & F_NULL_BREAK_EVEN) o.breakEvenHours = null;
    if (flags & 4) o.longFundingPredicted = (flags & 8) !== 0;
    if (flags & 16) o.shortFundingPredicted = (flags & 32) !== 0;
    if (hasFees) {
      const longFeeTier = str();
      const shortFeeTier = str();
      if (longFeeTier === null || shortFeeTier === null || off + 16 > data.length) return { events, malformed: true };
      o.longFeeTier = longFeeTier;
      o.shortFeeTier = shortFeeTier;
      o.longTakerFeeBps = r();
      o.shortTakerFeeBps = r();
    }
    if (hasExtras) {
      if (off + 1 > data.length) return { events, malformed: true };
      const count = data[off++];
      for (let i = 0; i < count; i++) {
        if (off + 2 > data.length) return { events, malformed: true };
        const field = OPPORTUNITY_EXTRAS[data[off]];
        const tag = data[off + 1];
        off += 2;
        let value: number | string | null;
        if (tag === TAG_NULL) value = null;
        else if (tag === TAG_NUMBER) {
          if (off + 8 > data.length) return { events, malformed: true };
          value = r();
        } else if (tag === TAG_STRING) value = str();
        else return { events, malformed: true };
        if (tag === TAG_STRING && value === null) return { events, malformed: true };
        if (field) o[field] = value; // an index this build does not know (a newer writer) is skipped
      }
    }
    const opportunity = o as unknown as Opportunity;
    if (kind === 'closed') {
      const reason = OPPORTUNITY_CLOSE_REASONS[reasonIdx];
      if (!reason) return { events, malformed: true };
      events.push({ kind, seq, tsMs, recvUs, opportunity, reason, lifetimeMs });
    } else {
      events.push({ kind, seq, tsMs, recvUs, opportunity });
    }
  }
  return { events, malformed: false };
}

