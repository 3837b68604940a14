import { describe, expect, it } from 'vitest';
import { EXCHANGES } from '../../shared/exchanges.js';
import { decodeEvents, EventEncoder, nextStreamId } from '../../server/persistence/codec.js';
import { decodeMarketChunk, MarketRing } from '../../server/persistence/market-ring.js';
import { createPersistence } from '../../server/persistence/index.js';
import { MemoryPersistence } from '../../server/persistence/memory.js';
import { persistenceContract } from './contract.js';
import { marketRecord, oppEvent } from './helpers.js';

describe('MemoryPersistence', () => {
  persistenceContract(async (caps) => {
    const persistence = new MemoryPersistence({ caps });
    await persistence.open();
    return { persistence, reopen: async () => persistence };
  });

  it('is what createPersistence gives without a Redis URL, and is always healthy', () => {
    const p = createPersistence({});
    expect(p.kind).toBe('memory');
    expect(p.health()).toMatchObject({ kind: 'memory', connected: true, degraded: false, backlog: 0, dropped: 0 });
    expect(createPersistence({ redisUrl: '' }).kind).toBe('memory');
  });
});

describe('MemoryPersistence bad input', () => {
  it('an unserialisable value or an unknown exchange is counted, never thrown at the caller', async () => {
    const p = new MemoryPersistence();
    const cyclic = { id: 'c', openedMs: 1 } as unknown as Record<string, unknown>;
    cyclic.self = cyclic;
    expect(() => p.savePosition(cyclic as never)).not.toThrow();
    expect(() => p.appendMarketRecord({ exchange: 'nowhere', symbol: 'X', kind: 'quote', recvMs: 1, exchangeTsMs: 1 } as never)).not.toThrow();
    expect(p.health().dropped).toBe(2);
    expect(await p.loadPositions()).toEqual([]);
  });
});

describe('codec', () => {
  it('market records round-trip every field exactly through the binary ring and chunks, in batch order', () => {
    const ring = new MarketRing(100);
    const records = Array.from({ length: 30 }, (_, i) => marketRecord(i, EXCHANGES[i % 3], 1_700_000_000_123 + i));
    records[1] = { exchange: 'okx', symbol: 'ÜNI-USDT-SWAP', kind: 'quote', recvMs: 1, exchangeTsMs: -0 }; // optional fields absent
    records[4] = { exchange: 'okx', symbol: 'X', kind: 'funding', recvMs: 2, exchangeTsMs: 3, fundingRate: -0.0001 }; // predicted absent
    records.forEach((r) => ring.push(r));
    const { chunks, taken, maxRecvMs } = ring.take(1000);
    expect(taken).toBe(30);
    expect(maxRecvMs).toBe(1_700_000_000_123 + 29);
    expect([...chunks.keys()].sort()).toEqual(['bybit', 'kucoin', 'okx']);
    const merged = [...chunks].flatMap(([ex, c]) => decodeMarketChunk(ex, c.data).records).sort((a, b) => a.index - b.index);
    expect(merged.map((m) => m.record)).toEqual(records);
    expect(Object.is(merged[1].record.exchangeTsMs, -0)).toBe(true);
    expect(ring.size).toBe(0);
  });

  it('the market ring drops the oldest beyond its capacity and counts exactly', () => {
    const ring = new MarketRing(10);
    const records = Array.from({ length: 25 }, (_, i) => marketRecord(i, 'binance', 1_700_000_000_000 + i));
    records.forEach((r) => ring.push(r));
    expect(ring.size).toBe(10);
    expect(ring.dropped).toBe(15);
    const { chunks } = ring.take(4);
    expect(decodeMarketChunk('binance', chunks.get('binance')!.data).records.map((x) => x.record)).toEqual(records.slice(15, 19));
    expect(ring.size).toBe(6);
  });

  it('the market ring grows towards its bound keeping order across the wrap-around', () => {
    const ring = new MarketRing(20_000);
    const records = Array.from({ length: 30_000 }, (_, i) => marketRecord(i, 'okx', 1_700_000_000_000 + i));
    records.slice(0, 5000).forEach((r) => ring.push(r));
    expect(ring.take(3000).taken).toBe(3000); // head moves, so the next growth has to unwrap
    records.slice(5000).forEach((r) => ring.push(r));
    expect(ring.size).toBe(20_000);
    expect(ring.dropped).toBe(7_000);
    const out = decodeMarketChunk('okx', ring.take(50_000).chunks.get('okx')!.data).records.map((x) => x.record);
    expect(out).toEqual(records.slice(10_000));
  });

  it('malformed market chunks decode what they can and never throw', () => {
    const ring = new MarketRing(10);
    for (let i = 0; i < 3; i++) ring.push(marketRecord(i, 'okx', 1_700_000_000_000 + i));
    const data = ring.take(10).chunks.get('okx')!.data;
    const cut = decodeMarketChunk('okx', data.subarray(0, data.length - 3));
    expect(cut).toMatchObject({ malformed: true });
    expect(cut.records).toHaveLength(2);
    expect(decodeMarketChunk('okx', Buffer.from('garbage!')).malformed).toBe(true);
    expect(decodeMarketChunk('okx', Buffer.alloc(0))).toEqual({ records: [], malformed: false });
  });

  it('opportunity events round-trip exactly through the binary records (-0, null, optional flags, odd ids)', () => {
    const a = oppEvent(1, 1_700_000_000_000, 'opened');
    const b = oppEvent(2, 1_700_000_000_001, 'closed');
    const c = oppEvent(3, 1_700_000_000_002, 'updated');
    a.opportunity.longFundingRate8h = -0;
    a.opportunity.breakEvenHours = null;
    a.opportunity.longFundingPredicted = true;
    b.opportunity.shortFundingPredicted = false;
    c.opportunity.id = 'custom|id|ünïcode';
    c.opportunity.instrument = 'ÄBC-PERP';
    // every numeric field distinct, so a field written in the wrong slot cannot go unnoticed
    Object.keys(b.opportunity).forEach((k, i) => {
      const o = b.opportunity as unknown as Record<string, unknown>;
      if (typeof o[k] === 'number') o[k] = 1000 + i + i / 7;
    });
    const enc = new EventEncoder();
    for (let i = 0; i < 2000; i++) enc.add([a, b, c][i % 3]); // grows the buffer past its first size
    const data = enc.take();
    expect(enc.count).toBe(0);
    const { events, malformed } = decodeEvents(data);
    expect(malformed).toBe(false);
    expect(events).toHaveLength(2000);
    expect(events.slice(0, 3)).toEqual([a, b, c]);
    expect(Object.is(events[0].opportunity.longFundingRate8h, -0)).toBe(true);
    expect('longFundingPredicted' in events[1].opportunity).toBe(false);
    // truncated or garbage data: what decodes cleanly is kept, the rest is reported, nothing throws
    const cut = decodeEvents(data.subarray(0, data.length - 5));
    expect(cut.malformed).toBe(true);
    expect(cut.events).toHaveLength(1999);
    expect(decodeEvents(Buffer.from('not a record at all')).malformed).toBe(true);
  });

  it('stream ids only increase, even when the clock goes back', () => {
    let id = { ms: 0, seq: 0 };
    id = nextStreamId(id, 1000);
    expect(id).toEqual({ ms: 1000, seq: 0 });
    id = nextStreamId(id, 1000);
    expect(id).toEqual({ ms: 1000, seq: 1 });
    id = nextStreamId(id, 900);
    expect(id).toEqual({ ms: 1000, seq: 2 });
    expect(nextStreamId(id, 1001)).toEqual({ ms: 1001, seq: 0 });
  });
});

describe('recordMarketRecords', () => {
  it('records what the engine accepts as MarketRecords through its hook, and stops cleanly', async () => {
    const { Engine } = await import('../../server/engine/engine.js');
    const { recordMarketRecords } = await import('../../server/persistence/market-records.js');
    const { MARKET_CONFIG, T0 } = await import('./market.js');
    const engine = new Engine({ config: MARKET_CONFIG, now: () => T0 });
    const p = new MemoryPersistence();
    const ownPushQuote = engine.pushQuote;
    const stop = recordMarketRecords(engine, p);
    expect(engine.pushQuote).toBe(ownPushQuote); // a hook, not a replaced method
    const id = engine.registerInstrument('bybit', 'BTCUSDT', { base: 'BTC', quote: 'USDT' });
    engine.pushQuote(id, 100, 100.5, 1, 2, T0 - 1, (T0 + 0.5) * 1000);
    engine.pushFunding(id, 0.0001, 28_800_000, T0 + 3_600_000, true, T0 - 1, T0 * 1000);
    engine.drain();
    stop();
    engine.pushQuote(id, 101, 101.5, 1, 2, T0, T0 * 1000);
    const { collect } = await import('./helpers.js');
    expect(await collect(p.readMarketRecords())).toEqual([
      { exchange: 'bybit', symbol: 'BTCUSDT', kind: 'quote', recvMs: T0, exchangeTsMs: T0 - 1, bid: 100, ask: 100.5, bidSize: 1, askSize: 2 },
      { exchange: 'bybit', symbol: 'BTCUSDT', kind: 'funding', recvMs: T0, exchangeTsMs: T0 - 1, fundingRate: 0.0001, fundingIntervalMs: 28_800_000, nextFundingMs: T0 + 3_600_000, predicted: true },
    ]);
  });
});
