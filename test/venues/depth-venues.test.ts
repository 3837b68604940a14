/**
 * Depth parsers of kucoin, gate, bitget and hyperliquid on real-format fixtures (test/fixtures/<venue>/depth*.json,
 * sources in each SOURCES.md): snapshot then deltas, gap → resync, checksum mismatch → resync, venue resets,
 * crossed books, odd first frames, and the fold to engine units (hand-computed: contracts × contract value,
 * ×1000 coins ÷1000 in price and ×1000 in size).
 */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import type { InstrumentMeta, MetadataTable } from '../../server/feeds/adapter.js';
import type { DepthBook, DepthParser, DepthResyncReason, DepthSink } from '../../server/depth/types.js';
import { VENUES } from '../../server/venues/index.js';
import { bitgetChecksum, bitgetChecksumPayload } from '../../server/venues/bitget/depth.js';
import { gateDepthOf } from '../../server/venues/gate/depth.js';
import { HL_DEPTH_MAX_COINS } from '../../server/venues/hyperliquid/depth.js';
import { fixture, table } from '../feeds/helpers.js';

type Level = [number, number];
type Event = { kind: 'book'; symbol: string; bids: Level[]; asks: Level[]; ts: number } | { kind: 'resync'; symbol: string; reason: DepthResyncReason };

/** Collects what a depth parser hands over, levels as [price, size] pairs rounded to 12 significant digits. */
export class BookSink implements DepthSink {
  events: Event[] = [];
  book(meta: InstrumentMeta, b: DepthBook): void {
    const side = (s: DepthBook['bids']): Level[] => Array.from({ length: s.length }, (_, i) => [round(s.prices[i]), round(s.sizes[i])]);
    this.events.push({ kind: 'book', symbol: meta.symbol, bids: side(b.bids), asks: side(b.asks), ts: b.exchangeTsMs });
  }
  resync(meta: InstrumentMeta, reason: DepthResyncReason): void {
    this.events.push({ kind: 'resync', symbol: meta.symbol, reason });
  }
  /** None of these venues is diff-only: a request for a REST snapshot is a failure. */
  snapshotNeeded(meta: InstrumentMeta): void {
    throw new Error(`unexpected REST snapshot request for ${meta.symbol}`);
  }
  take(): Event[] {
    const e = this.events;
    this.events = [];
    return e;
  }
}

const round = (x: number) => Number(x.toPrecision(12));

function parserOf(ex: Exchange, meta: MetadataTable, levels = 20): DepthParser {
  const depth = VENUES[ex].adapter.depth;
  if (!depth) throw new Error(`${ex} has no depth channel`);
  return depth.createParser(meta, levels);
}

const KUCOIN_META = () => table('kucoin', [{ symbol: 'XBTUSDTM', base: 'BTC', contractValue: 0.001 }]);
const GATE_META = () => table('gate', [{ symbol: 'BTC_USDT', base: 'BTC', contractValue: 0.0001 }]);
const BITGET_META = () => table('bitget', [{ symbol: 'BTCUSDT', base: 'BTC' }]);
const HL_META = () =>
  table('hyperliquid', [
    { symbol: 'BTC', base: 'BTC', quote: 'USDC' },
    { symbol: 'kPEPE', base: 'PEPE', quote: 'USDC', priceMultiplier: 1000 },
  ]);

describe('kucoin level2Depth50', () => {
  const f = (name: string) => fixture('kucoin', name);

  it('each push replaces the book; sizes in contracts × multiplier', () => {
    const p = parserOf('kucoin', KUCOIN_META());
    const sink = new BookSink();
    expect(p.parse(f('welcome.json'), sink)).toBe('welcome');
    expect(p.parse(f('depth-ack.json'), sink)).toBe('ack');
    expect(p.parse(f('depth-snapshot.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([
      {
        kind: 'book',
        symbol: 'XBTUSDTM',
        bids: [[91250.5, 1.534], [91250.1, 0.054], [91249.8, 0.21]],
        asks: [[91250.6, 0.854], [91251.2, 0.004], [91252, 0.3]],
        ts: 1796155200100,
      },
    ]);
    // The same sequence again: the same book, dropped.
    expect(p.parse(f('depth-snapshot.json'), sink)).toBe('ignored');
    expect(p.parse(f('depth-next.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([{ kind: 'book', symbol: 'XBTUSDTM', bids: [[91250.5, 1.2], [91250.1, 0.054]], asks: [[91250.9, 0.01], [91251.2, 0.004], [91252, 0.3]], ts: 1796155200200 }]);
  });

  it('a sequence that goes back is a venue reset: reported, then the push is the new book', () => {
    const p = parserOf('kucoin', KUCOIN_META());
    const sink = new BookSink();
    p.parse(f('depth-snapshot.json'), sink);
    sink.take();
    expect(p.parse(f('depth-restart.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([
      { kind: 'resync', symbol: 'XBTUSDTM', reason: 'reset' },
      { kind: 'book', symbol: 'XBTUSDTM', bids: [[91250, 0.007]], asks: [[91251, 0.009]], ts: 1796155200300 },
    ]);
    expect(p.resyncs).toEqual({ reset: 1 });
  });

  it('a crossed push is a resync, not a book; a first push with any sequence is taken', () => {
    const p = parserOf('kucoin', KUCOIN_META());
    const sink = new BookSink();
    expect(p.parse(f('depth-restart.json'), sink)).toBe('data'); // odd first frame: low sequence, no book yet
    expect(sink.take().map((e) => e.kind)).toEqual(['book']);
    expect(p.parse(f('depth-crossed.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([{ kind: 'resync', symbol: 'XBTUSDTM', reason: 'crossed' }]);
    expect(p.resyncs).toEqual({ crossed: 1 });
  });

  it('bad frames are counted, the venue error by code; levels are cut to the requested count', () => {
    const p = parserOf('kucoin', KUCOIN_META(), 2);
    const sink = new BookSink();
    expect(p.parse(f('depth-error.json'), sink)).toBe('venue_error');
    expect(p.parse(f('depth-snapshot.json').replace('XBTUSDTM', 'FOOUSDTM'), sink)).toBe('rejected');
    expect(p.parse(f('depth-snapshot.json').replace('["91250.1",54]', '["91250.1","x"]'), sink)).toBe('rejected');
    expect(p.parse(f('depth-snapshot.json').replace('"timestamp":1796155200100', '"timestamp":1796155200'), sink)).toBe('rejected');
    expect(p.errors).toEqual({ 'venue_error:404': 1, unknown_symbol: 1, bad_level: 1, bad_timestamp: 1 });
    expect(sink.take()).toEqual([]);
    p.parse(f('depth-snapshot.json'), sink);
    const [b] = sink.take();
    expect(b.kind === 'book' && [b.bids.length, b.asks.length]).toEqual([2, 2]);
  });
});

describe('gate futures.obu', () => {
  const f = (name: string) => fixture('gate', name);
  const FULL_BOOK: Event = {
    kind: 'book',
    symbol: 'BTC_USDT',
    bids: [[91250.1, 50.9392], [91250, 47.7932], [91249.9, 49.5268]],
    asks: [[91250.2, 1.2], [91250.5, 3.4203], [91251, 4.1574]],
    ts: 1796155200120,
  };

  it('full push, then continuous updates (U = last u + 1); sizes contracts × quanto_multiplier', () => {
    const p = parserOf('gate', GATE_META());
    const sink = new BookSink();
    expect(p.parse(f('depth-ack.json'), sink)).toBe('ack');
    expect(p.parse(f('depth-full.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([FULL_BOOK]);
    expect(p.parse(f('depth-update.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([
      { kind: 'book', symbol: 'BTC_USDT', bids: [[91250, 47.7932], [91249.9, 49.5268], [91249.8, 0.12]], asks: [[91250.2, 0.35], [91250.5, 3.4203], [91251, 4.1574]], ts: 1796155200140 },
    ]);
    expect(p.parse(f('depth-update-next.json'), sink)).toBe('data');
    const [e] = sink.take();
    expect(e.kind === 'book' && e.asks).toEqual([[91250.2, 0.35], [91250.3, 0.08], [91250.5, 3.4203], [91251, 4.1574]]);
    expect(p.resyncs).toEqual({});
  });

  it('a gap → resync; updates are ignored until the next full push, which restores the book', () => {
    const p = parserOf('gate', GATE_META());
    const sink = new BookSink();
    p.parse(f('depth-full.json'), sink);
    p.parse(f('depth-update.json'), sink);
    sink.take();
    expect(p.parse(f('depth-update-gap.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([{ kind: 'resync', symbol: 'BTC_USDT', reason: 'gap' }]);
    expect(p.parse(f('depth-update-next.json'), sink)).toBe('ignored');
    expect(p.parse(f('depth-full.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([FULL_BOOK]);
    expect(p.resyncs).toEqual({ gap: 1 });
  });

  it('odd first frames: an update before any full push is ignored; a duplicate subscription is a venue error', () => {
    const p = parserOf('gate', GATE_META());
    const sink = new BookSink();
    expect(p.parse(f('depth-update.json'), sink)).toBe('ignored');
    expect(p.parse(f('depth-error-duplicate.json'), sink)).toBe('venue_error');
    expect(p.errors).toEqual({ 'venue_error:2': 1 });
    expect(sink.take()).toEqual([]);
  });

  it('a continuous update that crosses the book → resync', () => {
    const p = parserOf('gate', GATE_META());
    const sink = new BookSink();
    p.parse(f('depth-full.json'), sink);
    p.parse(f('depth-update.json'), sink);
    sink.take();
    expect(p.parse(f('depth-update-crossing.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([{ kind: 'resync', symbol: 'BTC_USDT', reason: 'crossed' }]);
  });

  it('time units: `t` must be ms, the envelope `time` seconds; decimal size strings are read', () => {
    const p = parserOf('gate', GATE_META());
    const sink = new BookSink();
    expect(p.parse(f('depth-full.json').replace('"t":1796155200120', '"t":1796155200'), sink)).toBe('rejected');
    expect(p.parse(f('depth-full.json').replace('"time":1796155200,', '"time":1796155200121,'), sink)).toBe('rejected');
    expect(p.errors).toEqual({ bad_timestamp: 2 });
    expect(p.parse(f('depth-full.json').replace('"509392"', '"509392.5"'), sink)).toBe('data');
    const [e] = sink.take();
    expect(e.kind === 'book' && e.bids[0]).toEqual([91250.1, 50.93925]);
  });

  it('stream depth, one stream per request, and the documented resubscription (unsubscribe, then subscribe)', async () => {
    expect([gateDepthOf(20), gateDepthOf(50), gateDepthOf(51), gateDepthOf(1000)]).toEqual([50, 50, 400, 400]);
    const depth = VENUES.gate.adapter.depth!;
    const plans = await depth.plan({ ws: 'ws://127.0.0.1:1', rest: 'http://127.0.0.1:1' }, ['BTC_USDT', 'ETH_USDT'], 20, async () => null);
    expect(plans).toHaveLength(1);
    expect(plans[0].subscribeMessages.map((m) => JSON.parse(m) as { channel: string; event: string; payload: string[] })).toMatchObject([
      { channel: 'futures.obu', event: 'subscribe', payload: ['ob.BTC_USDT.50'] },
      { channel: 'futures.obu', event: 'subscribe', payload: ['ob.ETH_USDT.50'] },
    ]);
    const frames = depth.resubscribe!('BTC_USDT').map((m) => JSON.parse(m) as { event: string; payload: string[] });
    expect(frames.map((m) => `${m.event} ${m.payload[0]}`)).toEqual(['unsubscribe ob.BTC_USDT.50', 'subscribe ob.BTC_USDT.50']);
  });
});

describe('bitget v3 books', () => {
  const f = (name: string) => fixture('bitget', name);

  it('snapshot, then updates chained by pseq and verified by the checksum', () => {
    const p = parserOf('bitget', BITGET_META());
    const sink = new BookSink();
    expect(p.parse(f('depth-ack.json'), sink)).toBe('ack');
    expect(p.parse(f('depth-snapshot.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([
      { kind: 'book', symbol: 'BTCUSDT', bids: [[91250.5, 0.9608], [91250.1, 2.5], [91249.8, 0.01]], asks: [[91250.6, 1.204], [91250.9, 0.03], [91252, 5.1]], ts: 1796155200027 },
    ]);
    expect(p.parse(f('depth-update.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([
      { kind: 'book', symbol: 'BTCUSDT', bids: [[91250.5, 1], [91250.1, 2.5], [91249.8, 0.01]], asks: [[91250.7, 0.75], [91250.9, 0.03], [91252, 5.1]], ts: 1796155200227 },
    ]);
    expect(p.parse(f('depth-update-next.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([
      { kind: 'book', symbol: 'BTCUSDT', bids: [[91250.5, 1], [91250.1, 2.5]], asks: [[91250.7, 0.75], [91250.9, 0.03], [91252, 5.1], [91253.5, 2]], ts: 1796155200427 },
    ]);
    expect(p.resyncs).toEqual({});
  });

  it('checksum mismatch → resync; updates ignored until a snapshot', () => {
    const p = parserOf('bitget', BITGET_META());
    const sink = new BookSink();
    p.parse(f('depth-snapshot.json'), sink);
    sink.take();
    expect(p.parse(f('depth-update-bad-checksum.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([{ kind: 'resync', symbol: 'BTCUSDT', reason: 'checksum' }]);
    expect(p.parse(f('depth-update-next.json'), sink)).toBe('ignored');
    expect(p.resyncs).toEqual({ checksum: 1 });
    // The way back: unsubscribe `books`, subscribe again.
    expect(VENUES.bitget.adapter.depth!.resubscribe!('BTCUSDT').map((m) => JSON.parse(m) as unknown)).toEqual([
      { op: 'unsubscribe', args: [{ instType: 'usdt-futures', topic: 'books', symbol: 'BTCUSDT' }] },
      { op: 'subscribe', args: [{ instType: 'usdt-futures', topic: 'books', symbol: 'BTCUSDT' }] },
    ]);
  });

  it('a pseq that is not the last seq is a gap; pseq 0 on an update is a venue reset', () => {
    const p = parserOf('bitget', BITGET_META());
    const sink = new BookSink();
    p.parse(f('depth-snapshot.json'), sink);
    expect(p.parse(f('depth-update-gap.json'), sink)).toBe('data');
    p.parse(f('depth-snapshot.json'), sink);
    p.parse(f('depth-update.json'), sink);
    expect(p.parse(f('depth-update-reset.json'), sink)).toBe('data');
    expect(sink.take().filter((e) => e.kind === 'resync')).toEqual([
      { kind: 'resync', symbol: 'BTCUSDT', reason: 'gap' },
      { kind: 'resync', symbol: 'BTCUSDT', reason: 'reset' },
    ]);
    expect(p.resyncs).toEqual({ gap: 1, reset: 1 });
  });

  it('odd first frames: an update before the snapshot is ignored; errors and unknown symbols are counted', () => {
    const p = parserOf('bitget', BITGET_META());
    const sink = new BookSink();
    expect(p.parse(f('depth-update.json'), sink)).toBe('ignored');
    expect(p.parse('pong', sink)).toBe('pong');
    expect(p.parse(f('depth-error.json'), sink)).toBe('venue_error');
    expect(p.parse(f('depth-snapshot.json').replace('"BTCUSDT"', '"FOOUSDT"'), sink)).toBe('rejected');
    expect(p.parse(f('depth-update.json').replace('679513275', '"679513275"'), sink)).toBe('rejected');
    expect(p.errors).toEqual({ 'venue_error:30001': 1, unknown_symbol: 1, bad_checksum: 1 });
    expect(sink.take()).toEqual([]);
  });

  it('the checksum string is the documented one: bid1:ask1:bid2:ask2…, a short side left out, wire text kept', () => {
    // The docs' second example: one bid, three asks → "3366.1:7:3366.8:9:3368:8:3372:8".
    expect(bitgetChecksumPayload(['3366.1:7'], ['3366.8:9', '3368:8', '3372:8'])).toBe('3366.1:7:3366.8:9:3368:8:3372:8');
    // The first: "43231.1:4:43232.8:9:43231:6:43232.9:8" (bid1:ask1:bid2:ask2).
    expect(bitgetChecksumPayload(['43231.1:4', '43231:6'], ['43232.8:9', '43232.9:8'])).toBe('43231.1:4:43232.8:9:43231:6:43232.9:8');
    // Signed 32-bit: CRC32("3366.1:7:…") = 0x31893FD8 = 831078360 stays positive; CRC32("43231.1:4:…") =
    // 0xA6531FDC = 2790465500 is above 2^31 - 1, so it is compared as 2790465500 - 2^32 = -1504501796.
    expect(bitgetChecksum(['3366.1:7'], ['3366.8:9', '3368:8', '3372:8'])).toBe(831078360);
    expect(bitgetChecksum(['43231.1:4', '43231:6'], ['43232.8:9', '43232.9:8'])).toBe(-1504501796);
    // Only 25 levels a side count.
    const many = Array.from({ length: 30 }, (_, i) => `${3000 - i}:1`);
    expect(bitgetChecksumPayload(many, []).split(':').length).toBe(2 * 25);
  });
});

describe('hyperliquid l2Book', () => {
  const f = (name: string) => fixture('hyperliquid', name);

  it('every push is the whole book; a crossed push → resync, the next good push a book again', () => {
    const p = parserOf('hyperliquid', HL_META());
    const sink = new BookSink();
    expect(p.parse(fixture('hyperliquid', 'ws-welcome.txt'), sink)).toBe('welcome');
    expect(p.parse(f('depth-ack.json'), sink)).toBe('ack');
    expect(p.parse(f('depth-l2Book.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([
      { kind: 'book', symbol: 'BTC', bids: [[91250, 3.40712], [91249, 1.6], [91248, 0.5]], asks: [[91251, 2.9], [91252, 17.6]], ts: 1796155200500 },
    ]);
    expect(p.parse(f('depth-l2Book-next.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([{ kind: 'book', symbol: 'BTC', bids: [[91251, 0.2], [91250, 3]], asks: [[91252, 17.6]], ts: 1796155201000 }]);
    expect(p.parse(f('depth-l2Book-crossed.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([{ kind: 'resync', symbol: 'BTC', reason: 'crossed' }]);
    // The next good push is a book again.
    expect(p.parse(f('depth-l2Book-next.json').replace('1796155201000', '1796155202000'), sink)).toBe('data');
    expect(sink.take().map((e) => e.kind)).toEqual(['book']);
  });

  it('a fast:true snapshot (5 levels, `data.fast`) is a whole book like any other; an empty book publishes no levels', () => {
    const p = parserOf('hyperliquid', HL_META());
    const sink = new BookSink();
    expect(p.parse(f('l2Book-fast.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([
      {
        kind: 'book',
        symbol: 'BTC',
        bids: [[91233, 0.75], [91232, 1.2], [91231, 0.05], [91230, 2.5], [91229, 0.4]],
        asks: [[91234, 0.3], [91235, 1.1], [91236, 0.9], [91237, 3.3], [91238, 0.2]],
        ts: 1764590399823,
      },
    ]);
    expect(p.parse(f('l2Book-empty.json').replace('"ETH"', '"BTC"'), sink)).toBe('data');
    expect(sink.take()).toEqual([{ kind: 'book', symbol: 'BTC', bids: [], asks: [], ts: 1764590399623 }]);
    expect(p.errors).toEqual({});
  });

  it('kPEPE quotes 1,000 PEPE: price ÷ 1000, size × 1000', () => {
    const p = parserOf('hyperliquid', HL_META());
    const sink = new BookSink();
    expect(p.parse(f('depth-l2Book-kpepe.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([{ kind: 'book', symbol: 'kPEPE', bids: [[0.000011842, 250_000_000]], asks: [[0.000011843, 100_000_000], [0.000011845, 40_000_000]], ts: 1796155200600 }]);
  });

  it('bad frames are counted; the plan keeps within the per-IP subscription budget', async () => {
    const p = parserOf('hyperliquid', HL_META());
    const sink = new BookSink();
    expect(p.parse(f('depth-l2Book.json').replace('"sz":"1.6"', '"sz":"-1.6"'), sink)).toBe('rejected');
    expect(p.parse(f('depth-l2Book.json').replace('"coin":"BTC"', '"coin":"DOGE"'), sink)).toBe('rejected');
    expect(p.parse(fixture('hyperliquid', 'error.json'), sink)).toBe('venue_error');
    expect(p.errors).toEqual({ bad_level: 1, unknown_symbol: 1, venue_error: 1 });
    const coins = Array.from({ length: HL_DEPTH_MAX_COINS + 50 }, (_, i) => `C${i}`);
    const plans = await VENUES.hyperliquid.adapter.depth!.plan({ ws: 'ws://127.0.0.1:1', rest: 'http://127.0.0.1:1' }, coins, 20, async () => null);
    expect(plans.reduce((n, pl) => n + pl.topicCount, 0)).toBe(HL_DEPTH_MAX_COINS);
    expect(JSON.parse(plans[0].subscribeMessages[0])).toEqual({ method: 'subscribe', subscription: { type: 'l2Book', coin: 'C0' } });
  });
});
