/**
 * Connection manager against the real simulator (127.0.0.1) and, for exact protocol situations, a
 * small real WebSocket server written here. The engine is the real one, wrapped only to record
 * `setExchangeDown` calls.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { DEFAULT_CONFIG, applyConfigPatch, type Config } from '../../shared/config.js';
import { EXCHANGES, perVenue, type Exchange } from '../../shared/exchanges.js';
import { VENUES, defaultSymbolOfKey } from '../../server/venues/index.js';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import { Engine } from '../../server/engine/engine.js';
import { FeedConnection } from '../../server/feeds/connection.js';
import type { ConnectionPlan, FetchJson } from '../../server/feeds/adapter.js';
import { createFetchJson } from '../../server/feeds/metadata.js';
import { FeedManager, type FeedEngine } from '../../server/feeds/manager.js';
import { startSimulator, type Simulator } from '../../server/simulator/index.js';
import { RecordingEngine, waitFor } from './helpers.js';

const INSTRUMENTS = ['BTC-PERP', 'ETH-PERP'];
const FAST_BACKOFF = { initialMs: 50, maxMs: 400, factor: 2 };


const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function simulator(opts: Parameters<typeof startSimulator>[0] = {}): Promise<Simulator> {
  const sim = await startSimulator({ seed: 3, messagesPerSec: 400, instruments: INSTRUMENTS, ...opts });
  cleanups.push(() => sim.close());
  return sim;
}

function manager(engine: FeedEngine, sim: { endpoints: Simulator['endpoints'] }, extra: Partial<ConstructorParameters<typeof FeedManager>[0]> = {}): FeedManager {
  const fm = new FeedManager({ engine, exchanges: [...EXCHANGES], instruments: INSTRUMENTS, endpoints: sim.endpoints, silenceMs: 2000, backoff: FAST_BACKOFF, ...extra });
  cleanups.push(() => fm.stop());
  return fm;
}

const state = (fm: FeedManager, ex: Exchange) => fm.states().find((s) => s.exchange === ex)!;

describe('FeedManager against the simulator', () => {
  it('loads metadata, subscribes and receives quotes and funding from every registered venue', async () => {
    const sim = await simulator();
    const engine = new Engine({ config: DEFAULT_CONFIG });
    const fm = manager(engine, sim);
    await fm.start();
    await waitFor('all venues live', () => fm.states().every((s) => s.status === 'live'));
    await waitFor('quotes everywhere', () => EXCHANGES.every((ex) => INSTRUMENTS.every((k) => engine.quote(k, ex)?.usable === true)));
    for (const s of fm.states()) {
      expect(s.metadata).toBe('loaded');
      expect(s.subscriptions).toBeGreaterThanOrEqual(2);
      expect(s.errors).toEqual({});
      expect(s.lastMessageAgeMs).not.toBeNull();
      // One socket per plan the adapter makes for these instruments (e.g. two stream bases on one venue).
      const symbols = INSTRUMENTS.map((k) => defaultSymbolOfKey(s.exchange, k));
      expect(s.connections).toBe((await VENUES[s.exchange].adapter.plan(sim.endpoints[s.exchange], symbols, createFetchJson(), {})).length);
    }
    // Contract venues' sizes are converted to base units: every venue's BTC touch is a BTC amount of the
    // same order (the simulated touches are 20k–90k USD), and prices agree.
    const quotes = EXCHANGES.map((ex) => engine.quote('BTC-PERP', ex)!);
    const mid = quotes[0].bid;
    for (const q of quotes) {
      expect(q.bidSize * q.bid).toBeGreaterThan(1_000);
      expect(q.bidSize * q.bid).toBeLessThan(1_000_000);
      expect(Math.abs(q.bid - mid) / mid).toBeLessThan(0.01);
    }
    // Funding (with a next funding time) arrives from every venue, including those whose WS omits it.
    await waitFor('funding everywhere', () => EXCHANGES.every((ex) => (engine.quote('BTC-PERP', ex)?.nextFundingMs ?? 0) > Date.now()));
  });

  it('a dropped feed closes its open opportunities with reason feed_down', async () => {
    const sim = await simulator({ dislocationsPerMin: 0 });
    // Thresholds wide open: every venue pair of an instrument is an opportunity.
    const r = applyConfigPatch(DEFAULT_CONFIG, { thresholds: { minSpreadBps: -10_000, minProfitBps: -10_000, minFundingDelta8h: -0.05, minConfidence: 0, hysteresisBps: 0 } });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const config: Config = r.config;
    const engine = new Engine({ config });
    const events = engine.bus.subscribe('test');
    const [venue, other] = EXCHANGES;
    const fm = manager(engine, sim, { exchanges: [venue, other] });
    await fm.start();
    await waitFor('opportunity open', () => engine.opportunities().some((o) => o.longExchange === venue || o.shortExchange === venue));
    events.popBatch(1e9);
    sim.dropConnections(venue);
    const closed: OpportunityEvent[] = [];
    await waitFor('feed_down close', () => {
      closed.push(...events.popBatch(1e9).filter((e) => e.kind === 'closed'));
      return closed.some((e) => e.kind === 'closed' && e.reason === 'feed_down');
    });
    const c = closed.find((e) => e.kind === 'closed' && e.reason === 'feed_down')!;
    expect([c.opportunity.longExchange, c.opportunity.shortExchange]).toContain(venue);
  });

  it('a venue whose metadata cannot be loaded is reported (cause, HTTP status), not connected, and retried', async () => {
    const sim = await simulator();
    const http = createServer((_req, res) => {
      res.statusCode = 503;
      res.end('{"retCode":10006,"retMsg":"too many visits"}');
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => http.close(() => r())));
    const port = (http.address() as AddressInfo).port;
    const [broken, healthy] = EXCHANGES;
    const endpoints = { ...sim.endpoints, [broken]: { ws: sim.endpoints[broken].ws, rest: `http://127.0.0.1:${port}` } };
    const engine = new Engine({ config: DEFAULT_CONFIG });
    const fm = manager(engine, { endpoints }, { exchanges: [broken, healthy] });
    await fm.start();
    const failed = state(fm, broken);
    expect(failed).toMatchObject({ metadata: 'failed', status: 'backoff', connections: 0 });
    expect(failed.lastError).toMatchObject({ code: 'HTTP 503', message: expect.stringMatching(/^metadata: HTTP 503/) });
    expect(failed.downSinceMs).toBeGreaterThan(0);
    await waitFor('healthy venue live', () => state(fm, healthy).status === 'live');
    expect(engine.quote('BTC-PERP', broken)).toBeNull();
  });

  it('rotates the sockets of venues that cut connections at the configured max age (a fresh plan each time, e.g. a new token); the others never', async () => {
    const sim = await simulator();
    const spy = new RecordingEngine(new Engine({ config: DEFAULT_CONFIG }));
    const engine = spy.engine;
    const real = createFetchJson();
    const symbols = (ex: Exchange) => INSTRUMENTS.map((k) => defaultSymbolOfKey(ex, k));
    // What each adapter plans with a max age: whether its sockets rotate, how many, and the REST calls one plan makes.
    const shape = new Map<Exchange, { rotates: boolean; sockets: number; planFetches: number }>();
    for (const ex of EXCHANGES) {
      let n = 0;
      const plans = await VENUES[ex].adapter.plan(sim.endpoints[ex], symbols(ex), (url, init) => (n++, real(url, init)), { maxAgeMs: 600 });
      shape.set(ex, { rotates: plans.some((p) => p.maxAgeMs > 0), sockets: plans.length, planFetches: n });
    }
    const rotating = EXCHANGES.filter((ex) => shape.get(ex)!.rotates);
    const steady = EXCHANGES.filter((ex) => !shape.get(ex)!.rotates);
    expect(rotating.length).toBeGreaterThan(0);
    const fetches = perVenue(() => 0);
    const fetchJson: FetchJson = (url, init) => {
      const ex = EXCHANGES.find((e) => url.startsWith(sim.endpoints[e].rest));
      if (ex) fetches[ex]++;
      return real(url, init);
    };
    const fm = manager(spy, sim, { maxConnectionAgeMs: 600, fetchJson });
    await fm.start();
    await waitFor('all live', () => fm.states().every((s) => s.status === 'live'));
    // At start each venue is down for the engine until all its sockets are live, then up once.
    for (const ex of EXCHANGES) expect(spy.downCalls.filter(([e]) => e === ex).map(([, d]) => d)).toEqual([true, false]);
    const afterStart = spy.downCalls.length;
    const fetchesAtStart = { ...fetches };
    await waitFor('rotations', () => rotating.every((ex) => state(fm, ex).reconnects >= 2 * shape.get(ex)!.sockets), 15_000);
    // A plan that needs REST (a connection token) is made afresh for every new socket, never reused.
    // (A rotation counts as a reconnect when it starts, before its new plan's REST call answers: wait for that call.)
    await waitFor('fresh plans', () => rotating.every((ex) => fetches[ex] - fetchesAtStart[ex] >= 2 * shape.get(ex)!.planFetches), 5_000);
    for (const ex of rotating) expect(fetches[ex] - fetchesAtStart[ex]).toBeGreaterThanOrEqual(2 * shape.get(ex)!.planFetches);
    await waitFor('live again', () => rotating.every((ex) => state(fm, ex).status === 'live'));
    for (const ex of steady) expect(state(fm, ex).reconnects).toBe(0); // no 24 h cut-off: never rotated
    for (const ex of rotating) {
      expect(state(fm, ex).errors).toEqual({});
      expect(state(fm, ex).connections).toBe(shape.get(ex)!.sockets);
      expect(engine.quote('BTC-PERP', ex)?.usable).toBe(true);
    }
    // Make-before-break: a routine rotation never marks the venue down (no feed_down closes).
    expect(spy.downCalls.slice(afterStart)).toEqual([]);
  }, 30_000);
});

/** A minimal WebSocket server whose frames the test scripts per connection. */
async function scriptedServer(onConnection: (ws: WebSocket, n: number) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const http: Server = createServer();
  const wss = new WebSocketServer({ server: http });
  let n = 0;
  wss.on('connection', (ws) => onConnection(ws, n++));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const close = async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
    await new Promise<void>((r) => http.close(() => r()));
  };
  cleanups.push(close);
  return { url, close };
}

describe('FeedConnection', () => {
  const plan = (url: string, extra: Partial<ConnectionPlan> = {}): ConnectionPlan => ({
    label: 't',
    url,
    subscribeMessages: ['sub-1', 'sub-2'],
    topicCount: 2,
    awaitWelcome: false,
    subscribeSpacingMs: 30,
    heartbeat: null,
    maxAgeMs: 0,
    ...extra,
  });
  const hooks = (onFrame: (raw: string) => 'data' | 'welcome' | 'ignored' = () => 'data') => ({ onFrame, onDown: () => {}, onLive: () => {}, onChange: () => {} });

  it('waits for the welcome before subscribing and spaces subscribe messages', async () => {
    const got: Array<[string, number]> = [];
    const srv = await scriptedServer((ws) => {
      ws.on('message', (m) => got.push([m.toString(), Date.now()]));
      setTimeout(() => ws.send('welcome'), 100);
    });
    const c = new FeedConnection('t', async () => plan(srv.url, { awaitWelcome: true }), hooks((raw) => (raw === 'welcome' ? 'welcome' : 'data')), { silenceMs: 5000 });
    cleanups.push(() => c.stop());
    const opened = Date.now();
    c.start();
    await waitFor('two subscribes', () => got.length === 2);
    expect(got.map(([m]) => m)).toEqual(['sub-1', 'sub-2']);
    expect(got[0][1] - opened).toBeGreaterThanOrEqual(90);
    expect(got[1][1] - got[0][1]).toBeGreaterThanOrEqual(25);
  });

  it('a subscription change made while the socket is still opening follows its subscribes, without a reconnect', async () => {
    const got: string[] = [];
    let connections = 0;
    const srv = await scriptedServer((ws) => {
      connections++;
      ws.on('message', (m) => got.push(m.toString()));
      setTimeout(() => ws.send('welcome'), 150);
    });
    let downs = 0;
    const c = new FeedConnection('o', async () => plan(srv.url, { awaitWelcome: true }), { ...hooks((raw) => (raw === 'welcome' ? 'welcome' : 'data')), onDown: () => void downs++ }, { silenceMs: 5000 });
    cleanups.push(() => c.stop());
    c.start();
    await waitFor('socket connected', () => connections === 1);
    c.applyChange(['unsub-2', 'sub-3'], 2); // before the welcome: nothing subscribed yet
    await waitFor('subscribes and the change', () => got.length === 4);
    expect(got).toEqual(['sub-1', 'sub-2', 'unsub-2', 'sub-3']);
    expect(connections).toBe(1);
    expect(downs).toBe(0);
    expect(c.subscriptions).toBe(2);
  });

  it('sends the heartbeat: always on a period, or only after inbound silence (idle-only style)', async () => {
    const pings: Record<string, number> = { every: 0, idle: 0 };
    const srv = await scriptedServer((ws) => {
      let chatty: NodeJS.Timeout | null = null;
      ws.on('message', (m) => {
        const t = m.toString();
        if (t === 'ping-every') pings.every++;
        if (t === 'ping-idle') pings.idle++;
        if (t === 'sub-1' && !chatty) chatty = setInterval(() => ws.send('tick'), 20); // never idle
      });
      ws.on('close', () => chatty && clearInterval(chatty));
    });
    // everyMs 900 (under the 1000 ms cap of half the silence limit): an idle-only ping would take ~900 ms with
    // no inbound frame, far more than a process stall on a loaded machine, which could otherwise delay the
    // 20 ms ticks past a short period and make an idle ping legitimately due.
    const every = new FeedConnection('e', async () => plan(srv.url, { heartbeat: { everyMs: 900, whenIdle: false, message: () => 'ping-every' } }), hooks(), { silenceMs: 2000 });
    const idle = new FeedConnection('i', async () => plan(srv.url, { heartbeat: { everyMs: 900, whenIdle: true, message: () => 'ping-idle' } }), hooks(), { silenceMs: 2000 });
    cleanups.push(() => every.stop(), () => idle.stop());
    every.start();
    idle.start();
    // Three periodic pings (≥ 2.7 s): the idle-only socket, open as long, would have pinged as often if its
    // heartbeat were periodic.
    await waitFor('three periodic pings', () => pings.every >= 3);
    expect(idle.status).toBe('live');
    expect(pings.idle).toBe(0); // traffic every 20 ms: an idle-only ping is never due
  });

  it('a quiet socket is pinged before the silence limit, whatever period the venue allows, and the pong keeps it', async () => {
    const pings: number[] = []; // per server-side connection
    // Sends nothing but a pong per ping (a socket carrying a few illiquid symbols).
    const srv = await scriptedServer((ws, n) => {
      pings[n] = 0;
      ws.on('message', (m) => {
        if (m.toString() !== 'ping') return;
        pings[n]++;
        ws.send('pong');
      });
    });
    let downs = 0;
    // The venue's own period (idle 25 s, or a fixed 20 s) is longer than our 2 s silence limit. (2 s, not less:
    // the ping goes out at half the limit, so only a stall of ~1 s between ping and pong could drop the socket.)
    const idle = new FeedConnection('i', async () => plan(srv.url, { heartbeat: { everyMs: 25_000, whenIdle: true, message: () => 'ping' } }), { ...hooks((raw) => (raw === 'pong' ? 'pong' : 'data') as 'data'), onDown: () => void downs++ }, { silenceMs: 2000 });
    const timed = new FeedConnection('t', async () => plan(srv.url, { heartbeat: { everyMs: 20_000, whenIdle: false, message: () => 'ping' } }), { ...hooks((raw) => (raw === 'pong' ? 'pong' : 'data') as 'data'), onDown: () => void downs++ }, { silenceMs: 2000 });
    cleanups.push(() => idle.stop(), () => timed.stop());
    idle.start();
    timed.start();
    // Three pings on each socket, at least 1 s apart: each has lived past the 2 s silence limit on pongs alone.
    await waitFor('three pings per socket', () => pings.length >= 2 && pings.every((p) => p >= 3));
    expect(pings).toHaveLength(2); // no reconnect
    expect(downs).toBe(0);
    expect(idle.errors.silence ?? 0).toBe(0);
    expect(timed.errors.silence ?? 0).toBe(0);
  });

  it("a venue's reconnect notice: a new socket is opened and the old one closed only after the new one delivers data", async () => {
    const opened: number[] = [];
    const closedAt: Record<number, number> = {};
    const srv = await scriptedServer((ws, n) => {
      opened.push(Date.now());
      ws.on('close', () => (closedAt[n] = Date.now()));
      ws.on('message', (m) => {
        if (m.toString() !== 'sub-1') return;
        if (n === 0) {
          ws.send('data');
          setTimeout(() => ws.send('notice'), 50);
          const t = setInterval(() => ws.readyState === ws.OPEN && ws.send('data'), 10); // keeps flowing meanwhile
          ws.on('close', () => clearInterval(t));
        } else setTimeout(() => ws.send('data'), 150);
      });
    });
    let downs = 0;
    const c = new FeedConnection('n', async () => plan(srv.url), { ...hooks((raw) => (raw === 'notice' ? 'reconnect_notice' : 'data') as 'data'), onDown: () => void downs++ }, { silenceMs: 5000 });
    cleanups.push(() => c.stop());
    c.start();
    await waitFor('old socket closed', () => closedAt[0] !== undefined);
    expect(opened).toHaveLength(2);
    expect(closedAt[0]).toBeGreaterThanOrEqual(opened[1] + 140); // closed after the new socket's first data
    expect(downs).toBe(0);
    expect(c.status).toBe('live');
    expect(c.reconnects).toBe(1);
  });

  it('backs off exponentially with jitter while the venue refuses, then resets after data', async () => {
    const c = new FeedConnection('b', async () => plan('ws://127.0.0.1:9'), hooks(), { silenceMs: 1000, backoff: { initialMs: 100, maxMs: 1000, factor: 2 }, random: () => 0.5 });
    expect([0, 1, 2, 3, 4, 5].map((a) => c.backoffDelayMs(a))).toEqual([75, 150, 300, 600, 750, 750]);
    const zero = new FeedConnection('z', async () => plan('ws://127.0.0.1:9'), hooks(), { silenceMs: 1000, backoff: { initialMs: 100, maxMs: 1000, factor: 2 }, random: () => 0 });
    expect(zero.backoffDelayMs(3)).toBe(400);
    cleanups.push(() => c.stop());
    c.start();
    await waitFor('two failed attempts', () => c.reconnects >= 2 && c.status === 'backoff');
    expect(c.errors.socket_error).toBeGreaterThanOrEqual(2);
    expect(c.lastError).toMatchObject({ code: 'ECONNREFUSED', message: expect.stringMatching(/^socket: .*ECONNREFUSED/) });
  });
});
