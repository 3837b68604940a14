import { describe, expect, it } from 'vitest';
import { BybitParser, bybitAdapter } from '../../server/venues/bybit/adapter.js';
import { CollectingSink, fixture, fixtureLines, table, totalErrors } from './helpers.js';

const meta = () =>
  table('bybit', [
    { symbol: 'BTCUSDT', base: 'BTC' },
    { symbol: 'ETHUSDT', base: 'ETH', fundingIntervalMs: 4 * 3_600_000 },
  ]);

describe('bybit tickers', () => {
  it('parses a snapshot into a quote and funding (sizes in base, ts in ms)', () => {
    const p = new BybitParser(meta());
    const sink = new CollectingSink();
    expect(p.parse(fixture('bybit', 'snapshot.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([
      { kind: 'quote', symbol: 'BTCUSDT', bid: 28550.7, ask: 28550.8, bidSize: 2.049, askSize: 15.328, ts: 1680673821770 },
      { kind: 'funding', symbol: 'BTCUSDT', rate: 0.0001, intervalMs: 8 * 3_600_000, nextFundingMs: 1680681600000, predicted: false, ts: 1680673821770 },
    ]);
  });

  it('merges deltas onto the snapshot: omitted fields keep their value', () => {
    const p = new BybitParser(meta());
    const sink = new CollectingSink();
    p.parse(fixture('bybit', 'snapshot.json'), sink);
    sink.take();
    expect(p.parse(fixture('bybit', 'delta.json'), sink)).toBe('data');
    // ask1Size absent from the delta: still 15.328 from the snapshot; funding unchanged: not re-emitted
    expect(sink.take()).toEqual([{ kind: 'quote', symbol: 'BTCUSDT', bid: 28560, ask: 28560.5, bidSize: 3.405, askSize: 15.328, ts: 1680673822776 }]);
    expect(p.parse(fixture('bybit', 'delta-no-quote.json'), sink)).toBe('data');
    expect(sink.take()).toEqual([{ kind: 'quote', symbol: 'BTCUSDT', bid: 28560, ask: 28560.5, bidSize: 3.405, askSize: 15.328, ts: 1680673823001 }]);
    p.parse(fixture('bybit', 'delta-funding.json'), sink);
    expect(sink.take()).toContainEqual({ kind: 'funding', symbol: 'BTCUSDT', rate: -0.00005, intervalMs: 4 * 3_600_000, nextFundingMs: 1680696000000, predicted: false, ts: 1680681600120 });
  });

  it('reads the newer linear shape (fundingIntervalHour, empty pre-listing fields)', () => {
    const p = new BybitParser(meta());
    const sink = new CollectingSink();
    expect(p.parse(fixture('bybit', 'snapshot-newer.json'), sink)).toBe('data');
    const [q, f] = sink.take();
    expect(q).toMatchObject({ kind: 'quote', bid: 1870.44, ask: 1870.45, bidSize: 41.2, askSize: 12.07 });
    expect(f).toMatchObject({ kind: 'funding', rate: 0.000085, intervalMs: 8 * 3_600_000 });
  });

  it('after reset (reconnect) a delta has no base to merge into and is rejected, not merged into ghost state', () => {
    const p = new BybitParser(meta());
    const sink = new CollectingSink();
    p.parse(fixture('bybit', 'snapshot.json'), sink);
    p.reset();
    sink.take();
    expect(p.parse(fixture('bybit', 'delta.json'), sink)).toBe('rejected');
    expect(sink.take()).toEqual([]);
    expect(p.errors.delta_before_snapshot).toBe(1);
  });

  it('classifies ack, pong and venue errors', () => {
    const p = new BybitParser(meta());
    const sink = new CollectingSink();
    expect(p.parse(fixture('bybit', 'ack.json'), sink)).toBe('ack');
    expect(p.parse(fixture('bybit', 'pong.json'), sink)).toBe('pong');
    expect(p.parse(fixture('bybit', 'error.json'), sink)).toBe('venue_error');
    expect(p.errors['venue_error:subscribe']).toBe(1);
  });

  it('counts every malformed or unknown frame by reason and emits nothing', () => {
    const p = new BybitParser(meta());
    const sink = new CollectingSink();
    const lines = fixtureLines('bybit', 'malformed.txt');
    for (const line of lines) expect(p.parse(line, sink)).toBe('rejected');
    expect(sink.updates).toEqual([]);
    expect(totalErrors(p.errors)).toBe(lines.length);
    expect(p.errors).toMatchObject({ invalid_json: 2, bad_number: 1, bad_timestamp: 1, unknown_topic: 1, unknown_symbol: 1, not_an_object: 1, missing_data: 1 });
  });

  it('reads frames regardless of key order and whitespace', () => {
    const compact = fixture('bybit', 'delta.json');
    const reordered = JSON.stringify({ ts: 1680673822776, data: { ask1Price: '28560.50', symbol: 'BTCUSDT', bid1Size: '3.405', bid1Price: '28560.00' }, cs: 5, type: 'delta', topic: 'tickers.BTCUSDT' });
    const spaced = JSON.stringify(JSON.parse(compact), null, 1);
    const run = (frame: string) => {
      const p = new BybitParser(meta());
      const sink = new CollectingSink();
      p.parse(fixture('bybit', 'snapshot.json'), sink);
      sink.take();
      p.parse(frame, sink);
      return sink.updates;
    };
    expect(run(reordered)).toEqual(run(compact));
    expect(run(spaced)).toEqual(run(compact));
  });
});

describe('bybit metadata and plan', () => {
  it('loads instruments-info (fundingInterval in minutes, base/quote from the venue)', async () => {
    const body = {
      retCode: 0,
      result: {
        list: [
          { symbol: 'BTCUSDT', contractType: 'LinearPerpetual', baseCoin: 'BTC', quoteCoin: 'USDT', fundingInterval: 480 },
          { symbol: '1000PEPEUSDT', contractType: 'LinearPerpetual', baseCoin: '1000PEPE', quoteCoin: 'USDT', fundingInterval: 240 },
          { symbol: 'BTC-26DEC25', contractType: 'LinearFutures', baseCoin: 'BTC', quoteCoin: 'USDT', fundingInterval: 0 },
        ],
        nextPageCursor: '',
      },
    };
    const urls: string[] = [];
    const t = await bybitAdapter.loadMetadata('http://x', ['BTCUSDT', '1000PEPEUSDT', 'BTC-26DEC25'], async (u) => (urls.push(u), body), 0);
    expect(urls[0]).toBe('http://x/v5/market/instruments-info?category=linear&limit=1000');
    expect([...t.keys()]).toEqual(['BTCUSDT', '1000PEPEUSDT']);
    expect(t.get('1000PEPEUSDT')).toMatchObject({ key: 'PEPE-PERP', base: 'PEPE', priceMultiplier: 1000, fundingIntervalMs: 4 * 3_600_000, contractValue: 1 });
  });

  it('rejects a bad body instead of guessing', async () => {
    await expect(bybitAdapter.loadMetadata('http://x', ['BTCUSDT'], async () => ({ retCode: 10001, retMsg: 'nope' }), 0)).rejects.toThrow(/bybit/);
  });

  it('subscribes with at most 10 args per message and pings every 20 s', async () => {
    const symbols = Array.from({ length: 23 }, (_, i) => `S${i}USDT`);
    const [plan] = await bybitAdapter.plan({ ws: 'ws://h:1', rest: 'http://h:1' }, symbols, async () => null, {});
    expect(plan.url).toBe('ws://h:1/v5/public/linear');
    const msgs = plan.subscribeMessages.map((m) => JSON.parse(m) as { op: string; args: string[] });
    expect(msgs.map((m) => m.args.length)).toEqual([10, 10, 3]);
    expect(msgs.flatMap((m) => m.args)).toEqual(symbols.map((s) => `tickers.${s}`));
    expect(plan.heartbeat).toMatchObject({ everyMs: 20_000, whenIdle: false });
    expect(JSON.parse(plan.heartbeat!.message())).toEqual({ op: 'ping' });
  });
});
