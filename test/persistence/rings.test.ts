/**
 * The writer's binary backlogs and the writer-thread encoders: what crosses to the writer thread as
 * raw slots comes out as exactly the stream records the readers decode (every field, -0, null,
 * optional flags, settle currencies, custom ids, non-ASCII), drops are oldest-first and exact, and taking into a reused
 * buffer keeps order across the ring's wrap-around.
 */
import { describe, expect, it } from 'vitest';
import { decodeEvents, EventEncoder } from '../../server/persistence/codec.js';
import { closedEventSlots, decodeEventSlots, encodeEventSlots, EVENT_SLOT_BYTES, EventRing } from '../../server/persistence/event-ring.js';
import { decodeMarketChunk, encodeMarketSlots, MarketRing } from '../../server/persistence/market-ring.js';
import { SlotRing } from '../../server/persistence/slot-ring.js';
import { StringTable, Utf8Cache } from '../../server/persistence/string-table.js';
import { opportunityId, type OpportunityEvent } from '../../shared/opportunity.js';
import { marketRecord, oppEvent } from './helpers.js';

/** Three events covering the codec's corner cases. */
function oddEvents(): OpportunityEvent[] {
  const a = oppEvent(1, 1_700_000_000_000, 'opened');
  const b = oppEvent(2, 1_700_000_000_001, 'closed');
  const c = oppEvent(3, 1_700_000_000_002, 'updated', 'ÄBC-PERP');
  a.opportunity.longFundingRate8h = -0;
  a.opportunity.breakEvenHours = null;
  a.opportunity.longFundingPredicted = true;
  b.opportunity.shortFundingPredicted = false;
  c.opportunity.id = 'custom|id|ünïcode';
  // settle currencies: a USDC/USDC pair and a cross-quote pair, both with their default ids (`okx:USDC`)
  Object.assign(a.opportunity, { longSettle: 'USDC', shortSettle: 'USDC', crossQuote: false, id: opportunityId('BTC-PERP', 'bybit', 'okx', 'USDC', 'USDC') });
  Object.assign(b.opportunity, { shortSettle: 'USDC', crossQuote: true, id: opportunityId('BTC-PERP', 'bybit', 'okx', 'USDT', 'USDC') });
  Object.keys(b.opportunity).forEach((k, i) => {
    const o = b.opportunity as unknown as Record<string, unknown>;
    if (typeof o[k] === 'number') o[k] = 1000 + i + i / 7;
  });
  return [a, b, c];
}

describe('EventRing → writer thread', () => {
  it('slots encoded on the writer side are byte-identical to the stream format and decode to the same events', () => {
    const events = oddEvents();
    const strings = new StringTable();
    const ring = new EventRing(100, strings);
    const reference = new EventEncoder();
    for (let i = 0; i < 30; i++) {
      ring.push(events[i % 3]);
      reference.add(events[i % 3]);
    }
    expect(ring.peekAll()).toEqual(Array.from({ length: 30 }, (_, i) => events[i % 3]));
    const { bytes, n } = ring.takeSlots(1000);
    expect(n).toBe(30);
    expect(ring.size).toBe(0);
    // the writer thread only has a mirror of the string table
    const mirror = new StringTable();
    mirror.append(strings.since(0));
    const out = encodeEventSlots(bytes, n, new Utf8Cache(mirror));
    expect(out.all?.equals(reference.take())).toBe(true);
    expect(out.closedCount).toBe(10);
    expect(out.maxTsMs).toBe(1_700_000_000_002);
    const decoded = decodeEvents(out.all as Buffer);
    expect(decoded.malformed).toBe(false);
    expect(Object.is(decoded.events[0].opportunity.longFundingRate8h, -0)).toBe(true);
    expect(decoded.events.slice(0, 3)).toEqual(events);
    expect(decodeEvents(out.closed as Buffer).events).toEqual(Array.from({ length: 10 }, () => events[1]));
    const closed = closedEventSlots(bytes, n);
    expect(closed.bytes.length).toBe(10 * EVENT_SLOT_BYTES);
    expect(decodeEventSlots(closed.bytes, closed.n, strings)).toEqual(Array.from({ length: 10 }, () => events[1]));
  });

  it('drops the oldest beyond its bound, counts exactly, and refuses malformed events without throwing', () => {
    const ring = new EventRing(50);
    const all = Array.from({ length: 1_077 }, (_, i) => oppEvent(i + 1, 1_700_000_000_000 + i, i % 4 ? 'updated' : 'closed'));
    all.forEach((e) => ring.push(e));
    ring.push({ ...all[0], opportunity: { ...all[0].opportunity, instrument: undefined } } as unknown as OpportunityEvent);
    ring.push({ ...all[0], kind: 'vanished' } as unknown as OpportunityEvent);
    ring.push(null as unknown as OpportunityEvent);
    expect(ring.size).toBe(50);
    expect(ring.dropped).toBe(1_027);
    expect(ring.rejected).toBe(3);
    expect(ring.peekAll()).toEqual(all.slice(-50));
  });
});

describe('SlotRing', () => {
  it('takes into a reused buffer, in order across the wrap-around and growth, never larger than asked', () => {
    const ring = new SlotRing(1_000, 8, 4);
    let next = 0;
    let expected = 0;
    let reuse: ArrayBuffer | undefined;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 37; i++) {
        const at = ring.claim(); // first: claiming may grow the storage and replace the views
        ring.f64[at] = next++;
      }
      const { bytes, n } = ring.takeSlots(23, reuse);
      const values = new Float64Array(bytes.buffer, bytes.byteOffset, n);
      for (const v of values) expect(v).toBe(expected++);
      reuse = bytes.buffer as ArrayBuffer;
    }
    expect(ring.size).toBe(50 * (37 - 23));
    expect(ring.dropped).toBe(0);
  });
});

describe('MarketRing → writer thread', () => {
  it('raw slots encoded with a mirrored symbol table decode to the records in order', () => {
    const strings = new StringTable();
    const ring = new MarketRing(10_000, strings);
    const records = Array.from({ length: 3_000 }, (_, i) => ({ ...marketRecord(i, (['okx', 'bybit', 'binance'] as const)[i % 3], 1_700_000_000_000 + i), symbol: `S${i % 17}ü` }));
    records.forEach((r) => ring.push(r));
    const { bytes, n } = ring.takeSlots(10_000);
    const mirror = new StringTable();
    mirror.append(strings.since(0));
    const { chunks, maxRecvMs } = encodeMarketSlots(bytes, n, new Utf8Cache(mirror));
    expect(maxRecvMs).toBe(1_700_000_000_000 + 2_999);
    const merged = [...chunks]
      .flatMap(([ex, c]) => decodeMarketChunk(ex, c.data).records)
      .sort((a, b) => a.index - b.index)
      .map((x) => x.record);
    expect(merged).toEqual(records);
  });
});

/**
 * Writes `events` through both paths (the stream codec, and the slot ring encoded on the writer side),
 * checks the two byte-identical and that they decode to the same events; returns what was decoded.
 */
function throughBothPaths(events: OpportunityEvent[]): { decoded: ReturnType<typeof decodeEvents>; out: ReturnType<typeof encodeEventSlots> } {
    const strings = new StringTable();
    const ring = new EventRing(10, strings);
    const reference = new EventEncoder();
    for (const e of events) {
      ring.push(e);
      reference.add(e);
    }
    expect(ring.peekAll()).toEqual(events);
    const { bytes, n } = ring.takeSlots(10);
    const mirror = new StringTable();
    mirror.append(strings.since(0));
    const out = encodeEventSlots(bytes, n, new Utf8Cache(mirror));
    const ref = reference.take();
    expect(out.all?.equals(ref)).toBe(true);
    const decoded = decodeEvents(ref);
    expect(decoded.malformed).toBe(false);
    expect(decoded.events).toEqual(events);
  return { decoded, out };
}

describe('the fee breakdown in event records', () => {
  it('round-trips through both paths (stream codec and slot ring), byte-identical; records without it read without it', () => {
    const withFees = (e: OpportunityEvent, long: string, short: string): OpportunityEvent => ({
      ...e,
      opportunity: { ...e.opportunity, longFeeTier: long, shortFeeTier: short, longTakerFeeBps: 5.5, shortTakerFeeBps: 0.1 + 0.2 },
    });
    const events = [
      withFees(oppEvent(1, 1_700_000_000_000, 'opened'), 'regular', 'custom'),
      withFees(oppEvent(2, 1_700_000_000_001, 'closed'), 'vip1', 'regular'),
      oppEvent(3, 1_700_000_000_002, 'updated'), // as written before fee tiers
      oppEvent(4, 1_700_000_000_003, 'closed'),
    ];
    expect(events[3].kind === 'closed' && events[3].reason).toBeTruthy();
    const { decoded, out } = throughBothPaths(events);
    expect('longFeeTier' in decoded.events[2].opportunity).toBe(false);
    expect(decodeEvents(out.closed as Buffer).events).toEqual([events[1], events[3]]);
  });
});

describe('the later optional fields (OPPORTUNITY_EXTRAS) in event records', () => {
  it('round-trip through both paths byte-identical, nulls and strings included; records without them read without them', () => {
    const extras = (e: OpportunityEvent, more: Partial<OpportunityEvent['opportunity']>): OpportunityEvent => ({ ...e, opportunity: { ...e.opportunity, ...more } });
    const events = [
      extras(oppEvent(1, 1_700_000_000_000, 'opened'), { fundingBasis: 'avg7d', expectedFundingCurrentBps: -0, expectedFundingRealisedBps: null, slippageSource: 'depth', capacityUsd: 12_345.678, carrySettlements: 21 }),
      extras(oppEvent(2, 1_700_000_000_001, 'closed'), { longOpenInterestUsd: null, shortVolume24hUsd: 1e9 + 0.5, netAprPct: 0.1 + 0.2, longFeeTier: 'vip1', shortFeeTier: 'regular', longTakerFeeBps: 4, shortTakerFeeBps: 5 }),
      oppEvent(3, 1_700_000_000_002, 'updated'),
    ];
    const { decoded, out } = throughBothPaths(events);
    expect(Object.is(decoded.events[0].opportunity.expectedFundingCurrentBps, -0)).toBe(true);
    expect('capacityUsd' in decoded.events[2].opportunity).toBe(false);
    expect(decodeEvents(out.closed as Buffer).events).toEqual([events[1]]);
  });
});
