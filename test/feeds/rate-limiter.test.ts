/** Pacing (rate-limiter.ts) and planning within limits (plan-limits.ts), and the adapters' live changes under them. */
import { describe, expect, it } from 'vitest';
import type { WsLimits } from '../../shared/venue-facts.js';
import { venueFacts } from '../../shared/exchanges.js';
import type { ConnectionPlan } from '../../server/feeds/adapter.js';
import { batchRequests, pickReplan, redistribute, splitSymbols } from '../../server/feeds/plan-limits.js';
import { ConnectPacer, connectionLimiters, RateLimiter, withHeadroom } from '../../server/feeds/rate-limiter.js';
import { VENUES } from '../../server/venues/index.js';

const NONE: WsLimits = {
  topicsPerConnection: Infinity,
  topicsPerMessage: Infinity,
  bytesPerMessage: Infinity,
  argsCharsPerConnection: Infinity,
  messageRate: null,
  subscribeRate: null,
  connectRate: null,
  maxConnections: Infinity,
};

describe('RateLimiter', () => {
  it('books at most `count` events in any window, later ones wait for the oldest to leave it', () => {
    const g = new RateLimiter([{ count: 3, windowMs: 1_000 }]);
    const slots = Array.from({ length: 7 }, () => g.reserve(10_000));
    expect(slots).toEqual([10_000, 10_000, 10_000, 11_000, 11_000, 11_000, 12_000]);
  });

  it('keeps every window of several limits (a short and a long one)', () => {
    const g = new RateLimiter([{ count: 2, windowMs: 100 }, { count: 3, windowMs: 10_000 }]);
    expect(Array.from({ length: 4 }, () => g.reserve(0))).toEqual([0, 0, 100, 10_000]);
  });

  it('no limit: everything goes now; a heartbeat booked now uses the budget', () => {
    expect(new RateLimiter([null]).reserve(5)).toBe(5);
    const g = new RateLimiter([{ count: 2, windowMs: 1_000 }]);
    g.book(0);
    expect(g.reserve(0)).toBe(0);
    expect(g.reserve(0)).toBe(1_000);
  });

  it('headroom: 80 % of the documented rate, at least one', () => {
    expect(withHeadroom({ count: 10, windowMs: 1_000 })).toEqual({ count: 8, windowMs: 1_000 });
    expect(withHeadroom({ count: 1, windowMs: 1_000 })).toEqual({ count: 1, windowMs: 1_000 });
    expect(withHeadroom(null)).toBeNull();
  });

  it('even spacing: at least minGapMs between events, within the window too', () => {
    const g = new RateLimiter([{ count: 8, windowMs: 1_000 }], 125);
    expect(Array.from({ length: 3 }, () => g.reserve(0))).toEqual([0, 125, 250]);
    const messages = connectionLimiters(venueFacts('binance').limits).messages;
    messages.book(0);
    expect(messages.earliest(0)).toBe(125); // 10/s → 8/s with headroom, one every 125 ms
  });

  it('ConnectPacer: OKX 3/s → 2/s with headroom; a connect counts from its begin and is booked when its handshake ends', () => {
    const okx = venueFacts('okx').limits;
    const p = new ConnectPacer();
    expect(p.delayMs(okx, 0)).toBe(0);
    const a = p.begin(0);
    expect(p.delayMs(okx, 0)).toBe(0);
    const b = p.begin(0);
    expect(p.delayMs(okx, 5)).toBeGreaterThan(0); // two handshakes in flight fill the window
    a(40);
    b(300); // a slow handshake: the venue may have counted it as late as 300
    expect(p.delayMs(okx, 300)).toBe(740); // the first leaves the window at 40 + 1000
    const c = p.begin(1_040);
    c(1_050);
    expect(p.delayMs(okx, 1_050)).toBe(250); // the slow one leaves at 300 + 1000
    expect(p.delayMs(okx, 1_300)).toBe(0);
  });
});

describe('plan-limits', () => {
  it('splitSymbols fills a socket up to the topic cap and the characters cap before opening the next', () => {
    const syms = Array.from({ length: 10 }, (_, i) => `S${i}`);
    expect(splitSymbols(syms, { ...NONE, topicsPerConnection: 8 }, { topics: 2, chars: () => 0 }).map((g) => g.length)).toEqual([4, 4, 2]);
    // 100 × 0.95 = 95 characters per socket, 20 per symbol → 4 per socket.
    expect(splitSymbols(syms, { ...NONE, argsCharsPerConnection: 100 }, { topics: 1, chars: () => 20 }).map((g) => g.length)).toEqual([4, 4, 2]);
    expect(splitSymbols([], NONE, { topics: 1, chars: () => 0 })).toEqual([]);
  });

  it('batchRequests caps items per request and bytes per request', () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    expect(batchRequests(items, NONE, 4, () => 1, 0).map((b) => b.length)).toEqual([4, 4, 2]);
    // 800 × 0.95 = 760 bytes: overhead 100 + 3 × (200 + 1) = 703; a 4th would make 904.
    expect(batchRequests(items, { ...NONE, bytesPerMessage: 800 }, Infinity, () => 200, 100).map((b) => b.length)).toEqual([3, 3, 3, 1]);
  });

  it('redistribute removes from the carrying socket and adds where there is room; null when nothing has room', () => {
    const limits = { ...NONE, topicsPerConnection: 3 };
    const cost = { topics: 1, chars: () => 0 };
    const r = redistribute([['A', 'B', 'C'], ['D']], ['E', 'F', 'A'], ['B'], limits, cost);
    expect(r).toEqual({ symbols: [['A', 'C', 'E'], ['D', 'F']], added: [['E'], ['F']], removed: [['B'], []] });
    expect(redistribute([['A', 'B', 'C']], ['D'], [], limits, cost)).toBeNull();
    expect(redistribute([undefined], ['D'], [], limits, cost)).toBeNull();
    expect(redistribute([['A'], ['B']], [], ['B'], limits, cost)).toBeNull(); // socket #1 would idle
  });

  it('pickReplan keeps the socket in its group (Binance /public vs /market) and its label', () => {
    const plan = (label: string): ConnectionPlan => ({ label, url: label, subscribeMessages: [], topicCount: 0, awaitWelcome: false, subscribeSpacingMs: 0, heartbeat: null, maxAgeMs: 0, symbols: [] });
    const fresh = [plan('binance/public#0'), plan('binance/market#0')];
    expect(pickReplan(fresh, plan('binance/market#3'), 3)?.url).toBe('binance/market#0');
    expect(pickReplan(fresh, plan('binance/market#3'), 3)?.label).toBe('binance/market#3');
    expect(pickReplan(fresh, null, 1)?.label).toBe('binance/market#0');
  });
});

describe('adapters: live changes within the limits', () => {
  const endpoints = { ws: 'ws://h:1', rest: 'http://h:1' };
  const names = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `COIN${String(from + i).padStart(4, '0')}USDT`);

  it('Bybit: added symbols go to the socket with room; past the args-length cap the sockets are re-planned', async () => {
    const plans = await VENUES.bybit.adapter.plan(endpoints, names(1_200), async () => null, {});
    expect(plans.map((p) => p.symbols?.length)).toEqual([997, 203]);
    const change = VENUES.bybit.adapter.liveChange!(plans, names(1_300), names(100, 1_200), [])!;
    expect(change.map((c) => c.topicCount)).toEqual([997, 303]);
    expect(change[0]!.messages).toEqual([]);
    expect(change[1]!.messages).toHaveLength(10); // 100 args in requests of 10
    expect(VENUES.bybit.adapter.liveChange!(plans, names(2_400), names(1_200, 1_200), [])).toBeNull();
  });

  it('Binance: removals leave room that additions fill, per stream kind', async () => {
    const plans = await VENUES.binance.adapter.plan(endpoints, names(1_100), async () => null, {});
    const change = VENUES.binance.adapter.liveChange!(plans, [...names(1_000), ...names(150, 2_000)], names(150, 2_000), names(100, 1_000))!;
    expect(change.map((c) => c.topicCount)).toEqual([1024, 126, 1024, 126]);
    expect(change[1]!.messages.map((m) => (JSON.parse(m) as { method: string }).method)).toEqual(['UNSUBSCRIBE', 'SUBSCRIBE']);
    // COIN1000..1023 left socket #0 (24 free): the first 24 additions go there, the rest to #1.
    expect(JSON.parse(change[2]!.messages[1]!).params[0]).toBe('coin2000usdt@markPrice@1s');
    expect(JSON.parse(change[3]!.messages[1]!).params[0]).toBe('coin2024usdt@markPrice@1s');
  });

  it('OKX and KuCoin: one socket takes the additions, requests stay within their caps', async () => {
    const okx = await VENUES.okx.adapter.plan(endpoints, names(10).map((s) => s.replace('USDT', '-USDT-SWAP')), async () => null, {});
    const oc = VENUES.okx.adapter.liveChange!(okx, [], [], okx[0]!.symbols!)!;
    expect(oc[0]).toMatchObject({ topicCount: 0, symbols: [] });
    const bullet = async () => ({ code: '200000', data: { token: 't', instanceServers: [{ endpoint: 'ws://h:1/endpoint', pingInterval: 18000 }] } });
    const kc = await VENUES.kucoin.adapter.plan(endpoints, names(10).map((s) => `${s}M`), bullet, {});
    const add = names(250, 100).map((s) => `${s}M`);
    const c = VENUES.kucoin.adapter.liveChange!(kc, [], add, [])!;
    // 250 symbols × 2 topics in requests of ≤ 100 symbols: 3 per topic kind.
    expect(c[0]!.messages).toHaveLength(6);
    for (const m of c[0]!.messages) expect((JSON.parse(m) as { topic: string }).topic.split(',').length).toBeLessThanOrEqual(100);
  });
});
