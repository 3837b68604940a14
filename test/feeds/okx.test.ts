import { describe, expect, it } from 'vitest';
import { OkxParser, okxAdapter, createOkxAdapter } from '../../server/venues/okx/adapter.js';
import { CollectingSink, fixture, fixtureLines, table, totalErrors } from './helpers.js';

const meta = () =>
  table('okx', [
    { symbol: 'BTC-USDT-SWAP', base: 'BTC', contractValue: 0.01 },
    { symbol: 'WNCG-USDT-SWAP', base: 'WNCG', contractValue: 10 },
  ]);

describe('okx', () => {
  it('tickers: bid/ask with sizes converted from contracts by ctVal', () => {
    const sink = new CollectingSink();
    expect(new OkxParser(meta()).parse(fixture('okx', 'tickers.json'), sink)).toBe('data');
    expect(sink.updates).toEqual([{ kind: 'quote', symbol: 'WNCG-USDT-SWAP', bid: 2.1737, ask: 2.1738, bidSize: 20, askSize: 1680, ts: 1640131263109 }]);
  });

  it('a multi-entry push is all or nothing', () => {
    const good = { instId: 'BTC-USDT-SWAP', bidPx: '1', askPx: '2', bidSz: '100', askSz: '200', ts: '1651761120004' };
    const frame = (second: object) => JSON.stringify({ arg: { channel: 'tickers', instId: 'BTC-USDT-SWAP' }, data: [good, second] });
    const p = new OkxParser(meta());
    const sink = new CollectingSink();
    expect(p.parse(frame({ ...good, askPx: 'x' }), sink)).toBe('rejected');
    expect(sink.take()).toEqual([]);
    expect(p.parse(frame({ ...good, bidPx: '1.5' }), sink)).toBe('data');
    expect(sink.take().map((u) => (u.kind === 'quote' ? [u.bid, u.bidSize] : null))).toEqual([[1, 1], [1.5, 1]]);
  });

  it('bbo-tbt: top level, contracts × ctVal', () => {
    const sink = new CollectingSink();
    expect(new OkxParser(meta()).parse(fixture('okx', 'bbo-tbt.json'), sink)).toBe('data');
    const [q] = sink.updates;
    expect(q).toMatchObject({ kind: 'quote', symbol: 'BTC-USDT-SWAP', bid: 38632.3, ask: 38632.4, ts: 1651761120004 });
    if (q.kind !== 'quote') throw new Error('expected a quote');
    expect(q.bidSize).toBeCloseTo(9.9, 12);
    expect(q.askSize).toBeCloseTo(7.27, 12);
  });

  it('funding-rate: rate applies at fundingTime (next funding); interval = nextFundingTime − fundingTime', () => {
    const sink = new CollectingSink();
    expect(new OkxParser(meta()).parse(fixture('okx', 'funding-rate.json'), sink)).toBe('data');
    expect(sink.updates).toEqual([
      { kind: 'funding', symbol: 'BTC-USDT-SWAP', rate: -0.0004270396398519, intervalMs: 28_800_000, nextFundingMs: 1785888000000, predicted: false, ts: 1785870855692 },
    ]);
  });

  it('funding-rate without nextFundingTime falls back to the metadata interval', () => {
    const sink = new CollectingSink();
    new OkxParser(meta()).parse(fixture('okx', 'funding-rate-old.json'), sink);
    expect(sink.updates).toEqual([{ kind: 'funding', symbol: 'WNCG-USDT-SWAP', rate: 0.00048105, intervalMs: 28_800_000, nextFundingMs: 1640131200000, predicted: false, ts: 1640131200000 }]);
  });

  it('classifies pong, ack, error and the service-upgrade notice', () => {
    const p = new OkxParser(meta());
    const sink = new CollectingSink();
    expect(p.parse(fixture('okx', 'pong.txt'), sink)).toBe('pong');
    expect(p.parse(fixture('okx', 'ack.json'), sink)).toBe('ack');
    expect(p.parse(fixture('okx', 'error.json'), sink)).toBe('venue_error');
    expect(p.parse(fixture('okx', 'notice.json'), sink)).toBe('reconnect_notice');
    expect(p.errors['venue_error:60012']).toBe(1);
  });

  it('counts malformed and unknown frames by reason', () => {
    const p = new OkxParser(meta());
    const sink = new CollectingSink();
    const lines = fixtureLines('okx', 'malformed.txt');
    for (const l of lines) expect(p.parse(l, sink)).toBe('rejected');
    expect(sink.updates).toEqual([]);
    expect(totalErrors(p.errors)).toBe(lines.length);
    expect(p.errors).toMatchObject({ invalid_json: 2, missing_data: 1, empty_book: 1, unknown_channel: 1, bad_funding: 1, unknown_event: 1, not_an_object: 1 });
  });
});

describe('okx metadata and plan', () => {
  it('loads ctVal from public/instruments and seeds funding from public/funding-rate', async () => {
    const fetchJson = async (url: string) => {
      if (url.includes('/public/instruments'))
        return { code: '0', data: [{ instId: 'BTC-USDT-SWAP', ctVal: '0.01', ctValCcy: 'BTC', settleCcy: 'USDT', ctType: 'linear' }, { instId: 'BTC-USD-SWAP', ctVal: '100', ctValCcy: 'USD', settleCcy: 'BTC', ctType: 'inverse' }] };
      return { code: '0', data: [{ instId: 'BTC-USDT-SWAP', fundingRate: '0.0001', fundingTime: '1785888000000', nextFundingTime: '1785902400000', ts: '1785870855692' }] };
    };
    const t = await okxAdapter.loadMetadata('http://x', ['BTC-USDT-SWAP', 'BTC-USD-SWAP'], fetchJson, 0);
    expect([...t.keys()]).toEqual(['BTC-USDT-SWAP']);
    expect(t.get('BTC-USDT-SWAP')).toMatchObject({ key: 'BTC-PERP', contractValue: 0.01, fundingIntervalMs: 4 * 3_600_000 });
    expect(t.get('BTC-USDT-SWAP')!.seedFunding).toEqual({ rate: 0.0001, intervalMs: 4 * 3_600_000, nextFundingMs: 1785888000000, predicted: false, tsMs: 1785870855692 });
  });

  it('a failed funding seed does not fail the venue (the WS channel delivers funding); a failed instruments call does', async () => {
    const instruments = { code: '0', data: [{ instId: 'BTC-USDT-SWAP', ctVal: '0.01', ctValCcy: 'BTC', settleCcy: 'USDT', ctType: 'linear' }] };
    const t = await okxAdapter.loadMetadata('http://x', ['BTC-USDT-SWAP'], async (url) => {
      if (url.includes('/public/instruments')) return instruments;
      throw new Error('HTTP 429 from /api/v5/public/funding-rate');
    }, 0);
    expect(t.get('BTC-USDT-SWAP')).toMatchObject({ contractValue: 0.01, fundingIntervalMs: 8 * 3_600_000 });
    expect(t.get('BTC-USDT-SWAP')!.seedFunding).toBeUndefined();
    await expect(okxAdapter.loadMetadata('http://x', ['BTC-USDT-SWAP'], async () => ({ code: '50011', msg: 'rate limited' }), 0)).rejects.toThrow(/okx public\/instruments/);
  });

  it('batches many args per subscribe request and pings with text when idle', async () => {
    const symbols = Array.from({ length: 1000 }, (_, i) => `S${i}-USDT-SWAP`);
    const [plan] = await createOkxAdapter('bbo-tbt').plan({ ws: 'ws://h:1', rest: 'http://h:1' }, symbols, async () => null, {});
    expect(plan.url).toBe('ws://h:1/ws/v5/public');
    const msgs = plan.subscribeMessages.map((m) => JSON.parse(m) as { op: string; args: Array<{ channel: string; instId: string }> });
    expect(msgs).toHaveLength(2); // 2,000 args in 2 requests of ≤ 64 KB (480 requests/hour budget)
    for (const m of plan.subscribeMessages) expect(m.length).toBeLessThanOrEqual(65_536);
    expect(msgs[0].args[0]).toEqual({ channel: 'bbo-tbt', instId: 'S0-USDT-SWAP' });
    expect(msgs[0].args[1]).toEqual({ channel: 'funding-rate', instId: 'S0-USDT-SWAP' });
    expect(plan.heartbeat).toMatchObject({ whenIdle: true });
    expect(plan.heartbeat!.everyMs).toBeLessThan(30_000);
    expect(plan.heartbeat!.message()).toBe('ping');
  });
});
