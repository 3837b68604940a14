/**
 * Per-venue book sync on real-format fixtures (test/fixtures/<venue>/depth*.json, sources in SOURCES.md):
 * snapshot then deltas, a gap → resync, a checksum mismatch → resync, a venue reset; sizes folded to the
 * underlying (OKX contracts × ctVal).
 */
import { describe, expect, it } from 'vitest';
import { BybitDepthParser } from '../../server/venues/bybit/depth.js';
import { OkxDepthParser, okxChecksum, okxChecksumString } from '../../server/venues/okx/depth.js';
import { BinanceDepthParser, binanceDepth, binanceSnapshotLimit } from '../../server/venues/binance/depth.js';
import { fixture, table } from '../feeds/helpers.js';
import { RecordingDepthSink, levels } from './helpers.js';

describe('bybit orderbook.50', () => {
  const meta = () => table('bybit', [{ symbol: 'BTCUSDT', base: 'BTC' }]);

  it('applies a snapshot, then a consecutive delta (size "0" removes a level)', () => {
    const p = new BybitDepthParser(meta(), 20);
    const sink = new RecordingDepthSink();
    expect(p.parse(fixture('bybit', 'depth-snapshot.json'), sink)).toBe('data');
    expect(levels(sink.last!.bids)).toEqual([[16493.5, 0.006], [16493, 0.1], [16492.5, 1.5]]);
    expect(levels(sink.last!.asks)).toEqual([[16611, 0.029], [16612, 0.213], [16612.5, 2]]);
    expect(sink.last!.exchangeTsMs).toBe(1672304484978);
    expect(p.parse(fixture('bybit', 'depth-delta.json'), sink)).toBe('data');
    expect(levels(sink.last!.bids)).toEqual([[16493, 0.25], [16492.5, 1.5]]);
    expect(levels(sink.last!.asks)).toEqual([[16611, 0.01], [16611.5, 0.3], [16612, 0.213], [16612.5, 2]]);
    expect(sink.resyncs).toEqual([]);
  });

  it('a skipped update id is a gap: the book is dropped and later deltas wait for a snapshot', () => {
    const p = new BybitDepthParser(meta(), 20);
    const sink = new RecordingDepthSink();
    p.parse(fixture('bybit', 'depth-snapshot.json'), sink);
    p.parse(fixture('bybit', 'depth-delta.json'), sink);
    const before = sink.books.length;
    p.parse(fixture('bybit', 'depth-delta-gap.json'), sink);
    expect(sink.resyncs).toEqual([{ symbol: 'BTCUSDT', reason: 'gap' }]);
    expect(p.resyncs).toEqual({ gap: 1 });
    expect(p.parse(fixture('bybit', 'depth-delta-after-reset.json'), sink)).toBe('ignored');
    expect(sink.books.length).toBe(before);
    // The resubscribe's snapshot brings it back.
    p.parse(fixture('bybit', 'depth-snapshot.json'), sink);
    expect(sink.books.length).toBe(before + 1);
  });

  it('a u = 1 snapshot (service restart) replaces the book, counted as a reset; deltas go on from u = 2', () => {
    const p = new BybitDepthParser(meta(), 20);
    const sink = new RecordingDepthSink();
    p.parse(fixture('bybit', 'depth-snapshot.json'), sink);
    p.parse(fixture('bybit', 'depth-reset.json'), sink);
    expect(p.resyncs).toEqual({ reset: 1 });
    expect(p.parse(fixture('bybit', 'depth-delta-after-reset.json'), sink)).toBe('data');
    expect(levels(sink.last!.bids)).toEqual([[16500, 0.8], [16499.5, 0.7]]);
    expect(levels(sink.last!.asks)).toEqual([[16500.5, 0.4], [16501, 0.9]]);
  });

  it('keeps only `levels` levels in the view and folds a price multiplier', () => {
    const p = new BybitDepthParser(table('bybit', [{ symbol: 'BTCUSDT', base: 'BTC', priceMultiplier: 1000 }]), 2);
    const sink = new RecordingDepthSink();
    p.parse(fixture('bybit', 'depth-snapshot.json'), sink);
    // price ÷ 1000, size × 1000 (a listed 1000-unit contract).
    expect(levels(sink.last!.bids)).toEqual([[16.4935, 6], [16.493, 100]]);
  });
});

describe('venue error frames on the depth parsers', () => {
  // The venues' documented error frames (the same socket protocol as quotes): `venue_error` counted once by
  // code, as the quote parsers answer them, not a rejected (damaged) frame.
  it('bybit, okx and binance answer their error frame venue_error, counted once by its code', () => {
    const sink = new RecordingDepthSink();
    const bybit = new BybitDepthParser(table('bybit', [{ symbol: 'BTCUSDT', base: 'BTC' }]), 20);
    expect(bybit.parse(fixture('bybit', 'error.json'), sink)).toBe('venue_error');
    expect(bybit.errors).toEqual({ 'venue_error:subscribe': 1 });
    const okx = new OkxDepthParser(table('okx', [{ symbol: 'BTC-USDT-SWAP', base: 'BTC', contractValue: 0.01 }]), 20);
    expect(okx.parse(fixture('okx', 'error.json'), sink)).toBe('venue_error');
    expect(okx.errors).toEqual({ 'venue_error:60012': 1 });
    // Binance's documented shape `{"code":0,"msg":…,"id":1}` was an unknown_message before.
    const binance = new BinanceDepthParser(table('binance', [{ symbol: 'BTCUSDT', base: 'BTC' }]), 20);
    expect(binance.parse(fixture('binance', 'error.json'), sink)).toBe('venue_error');
    expect(binance.parse('{"error":{"code":2,"msg":"Invalid request"},"id":3}', sink)).toBe('venue_error');
    expect(binance.errors).toEqual({ 'venue_error:0': 1, 'venue_error:2': 1 });
    expect(sink.books).toEqual([]);
  });

  it('okx: the service-upgrade notice (64008) on a depth socket asks for a reconnect, counted as no error', () => {
    const p = new OkxDepthParser(table('okx', [{ symbol: 'BTC-USDT-SWAP', base: 'BTC', contractValue: 0.01 }]), 20);
    const sink = new RecordingDepthSink();
    expect(p.parse(fixture('okx', 'notice.json'), sink)).toBe('reconnect_notice');
    expect(p.parse(fixture('okx', 'notice.json').replace('64008', '64009'), sink)).toBe('ignored');
    expect(p.errors).toEqual({});
  });
});

describe('okx books', () => {
  const meta = () => table('okx', [{ symbol: 'BTC-USDT-SWAP', base: 'BTC', contractValue: 0.01 }]);

  it('builds the documented checksum string (interleaved, the longer side continuing alone)', () => {
    // The two examples of the OKX page: equal depth, and one bid against three asks.
    const text = (m: Record<number, string>) => (p: number) => m[p]!;
    expect(okxChecksumString([3366.1, 3366], [3366.8, 3368], text({ 3366.1: '3366.1:7', 3366: '3366:6' }), text({ 3366.8: '3366.8:9', 3368: '3368:8' }))).toBe('3366.1:7:3366.8:9:3366:6:3368:8');
    expect(okxChecksumString([3366.1], [3366.8, 3368, 3372], text({ 3366.1: '3366.1:7' }), text({ 3366.8: '3366.8:9', 3368: '3368:8', 3372: '3372:8' }))).toBe('3366.1:7:3366.8:9:3368:8:3372:8');
    // CRC32 (IEEE) of "123456789" is 0xCBF43926, which as a signed 32-bit integer is -873187034.
    expect(okxChecksum('123456789')).toBe(-873187034);
  });

  it('applies a snapshot and a chained update with matching checksums; sizes are contracts × ctVal', () => {
    const p = new OkxDepthParser(meta(), 20);
    const sink = new RecordingDepthSink();
    expect(p.parse(fixture('okx', 'depth-snapshot.json'), sink)).toBe('data');
    expect(levels(sink.last!.bids)).toEqual([[8476.97, 2.56], [8475.55, 1.01], [8475.54, 1]]);
    expect(p.parse(fixture('okx', 'depth-update.json'), sink)).toBe('data');
    expect(levels(sink.last!.bids)).toEqual([[8476.97, 2.56], [8476.5, 0.3], [8475.54, 1]]);
    expect(levels(sink.last!.asks)).toEqual([[8476.98, 4.15], [8477, 0.12], [8477.34, 0.85]]);
    expect(p.parse(fixture('okx', 'depth-keepalive.json'), sink)).toBe('data');
    expect(sink.resyncs).toEqual([]);
  });

  it('a checksum mismatch drops the book', () => {
    const p = new OkxDepthParser(meta(), 20);
    const sink = new RecordingDepthSink();
    p.parse(fixture('okx', 'depth-snapshot.json'), sink);
    p.parse(fixture('okx', 'depth-update.json'), sink);
    p.parse(fixture('okx', 'depth-update-bad-checksum.json'), sink);
    expect(sink.resyncs).toEqual([{ symbol: 'BTC-USDT-SWAP', reason: 'checksum' }]);
    expect(p.resyncs).toEqual({ checksum: 1 });
    expect(p.parse(fixture('okx', 'depth-update.json'), sink)).toBe('ignored'); // until a new snapshot
  });

  it('a prevSeqId that does not follow is a gap', () => {
    const p = new OkxDepthParser(meta(), 20);
    const sink = new RecordingDepthSink();
    p.parse(fixture('okx', 'depth-snapshot.json'), sink);
    p.parse(fixture('okx', 'depth-update-gap.json'), sink);
    expect(sink.resyncs).toEqual([{ symbol: 'BTC-USDT-SWAP', reason: 'gap' }]);
    // The resubscribe's snapshot starts a new chain.
    p.parse(fixture('okx', 'depth-snapshot.json'), sink);
    expect(p.parse(fixture('okx', 'depth-update.json'), sink)).toBe('data');
    expect(sink.resyncs.length).toBe(1);
  });

  it('a frame whose ts is not a plausible epoch ms is rejected and counted, the book untouched', () => {
    const p = new OkxDepthParser(meta(), 20);
    const sink = new RecordingDepthSink();
    p.parse(fixture('okx', 'depth-snapshot.json'), sink);
    const books = sink.books.length;
    const update = fixture('okx', 'depth-update.json');
    expect(update).toContain('"ts":"1597026383185"');
    // Far future, seconds instead of ms, a digit lost: each would stamp the book with a wrong venue time.
    for (const ts of ['1e20', '1597026383', '159702638318']) {
      expect(p.parse(update.replace('"ts":"1597026383185"', `"ts":"${ts}"`), sink), ts).toBe('rejected');
    }
    expect(p.errors).toEqual({ bad_timestamp: 3 });
    expect(sink.books.length).toBe(books);
    // The chain is intact: the undamaged update still follows the snapshot.
    expect(p.parse(update, sink)).toBe('data');
    expect(sink.last!.exchangeTsMs).toBe(1597026383185);
  });
});

describe('binance @depth@100ms + REST snapshot', () => {
  const meta = () => table('binance', [{ symbol: 'BTCUSDT', base: 'BTC' }]);

  it('buffers diffs, asks for the snapshot, applies it and the bridging event, then follows pu', () => {
    const m = meta();
    const p = new BinanceDepthParser(m, 20);
    const sink = new RecordingDepthSink();
    expect(p.parse(fixture('binance', 'depth-update-1.json'), sink)).toBe('data');
    expect(sink.books).toEqual([]);
    expect(sink.snapshotsNeeded).toEqual(['BTCUSDT']);
    p.applySnapshot(m.get('BTCUSDT')!, JSON.parse(fixture('binance', 'depth-snapshot-rest.json')), sink);
    // Snapshot (lastUpdateId 158), then the buffered event U 157 ≤ 158 ≤ u 160.
    expect(levels(sink.last!.bids)).toEqual([[9517.5, 4.201], [9517.3, 2], [9517, 5]]);
    expect(levels(sink.last!.asks)).toEqual([[9518, 1.3], [9518.1, 1.1], [9518.5, 3]]);
    expect(p.parse(fixture('binance', 'depth-update-2.json'), sink)).toBe('data');
    expect(levels(sink.last!.bids)).toEqual([[9517.6, 0.5], [9517.5, 4.201], [9517.3, 2], [9517, 5]]);
    expect(levels(sink.last!.asks)).toEqual([[9518.1, 1.1], [9518.2, 2], [9518.5, 3]]);
    expect(sink.resyncs).toEqual([]);
  });

  it('a pu that is not the previous u is a gap: book dropped, a new snapshot asked for', () => {
    const m = meta();
    const p = new BinanceDepthParser(m, 20);
    const sink = new RecordingDepthSink();
    p.parse(fixture('binance', 'depth-update-1.json'), sink);
    p.applySnapshot(m.get('BTCUSDT')!, JSON.parse(fixture('binance', 'depth-snapshot-rest.json')), sink);
    p.parse(fixture('binance', 'depth-update-2.json'), sink);
    p.parse(fixture('binance', 'depth-update-gap.json'), sink);
    expect(sink.resyncs).toEqual([{ symbol: 'BTCUSDT', reason: 'gap' }]);
    expect(sink.snapshotsNeeded).toEqual(['BTCUSDT', 'BTCUSDT']);
    expect(p.resyncs).toEqual({ gap: 1 });
  });

  it('a snapshot older than every buffered event cannot be bridged: a gap, asked again', () => {
    const m = meta();
    const p = new BinanceDepthParser(m, 20);
    const sink = new RecordingDepthSink();
    p.parse(fixture('binance', 'depth-update-2.json'), sink); // U 161 > lastUpdateId 158
    p.applySnapshot(m.get('BTCUSDT')!, JSON.parse(fixture('binance', 'depth-snapshot-rest.json')), sink);
    expect(sink.resyncs).toEqual([{ symbol: 'BTCUSDT', reason: 'gap' }]);
  });

  it('asks for a documented snapshot depth with room for the levels used', () => {
    expect(binanceSnapshotLimit(20)).toBe(50);
    expect(binanceSnapshotLimit(50)).toBe(100);
    expect(binanceDepth.snapshotUrl!({ ws: 'ws://x', rest: 'http://h' }, 'BTCUSDT', 20)).toBe('http://h/fapi/v1/depth?symbol=BTCUSDT&limit=50');
  });
});
