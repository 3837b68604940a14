/**
 * Issue 11 §4: subscriptions within each venue's documented WS limits (facts.ts), enforced by the twins.
 * (a) a plan that breaks a limit is refused or closed by the twin the way the venue does it;
 * (b) the real adapters' plans for 1,200 symbols per venue are accepted in full, with no error frame,
 *     no refused connection and no violation counted by the twin.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EXCHANGES, venueFacts, type Exchange } from '../../shared/exchanges.js';
import type { ConnectionPlan, FetchJson, UpdateSink } from '../../server/feeds/adapter.js';
import { FeedConnection } from '../../server/feeds/connection.js';
import { ConnectPacer } from '../../server/feeds/rate-limiter.js';
import { startSimulator, type Simulator, type SimulatorLimits } from '../../server/simulator/index.js';
import { BINANCE_PUBLIC_PATH } from '../../server/venues/binance/adapter.js';
import { VENUES } from '../../server/venues/index.js';
import { waitFor } from '../feeds/helpers.js';

const N = 1_200;
const KEYS = Array.from({ length: N }, (_, i) => `COIN${String(i + 1).padStart(4, '0')}-PERP`);

const fetchJson: FetchJson = async (url, init) => {
  const res = await fetch(url, { method: init?.method ?? 'GET' });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
};

const nullSink: UpdateSink = { quote() {}, funding() {} };

function symbolsOf(sim: Simulator, ex: Exchange): string[] {
  return sim.model.byExchange[ex].map((p) => p.symbol);
}

interface RawClient {
  ws: WebSocket;
  frames: string[];
  closed: Promise<number>;
  /** HTTP status when the upgrade was refused. */
  refused: Promise<number | null>;
}

/** A bare WebSocket client (no pacing at all): what a careless client would do. */
function raw(url: string): Promise<RawClient> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const frames: string[] = [];
  ws.on('message', (d) => frames.push(d.toString()));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  let refusedStatus: (s: number | null) => void = () => {};
  const refused = new Promise<number | null>((resolve) => (refusedStatus = resolve));
  ws.on('unexpected-response', (_req, res) => {
    refusedStatus(res.statusCode ?? 0);
    ws.terminate();
  });
  ws.on('error', () => {});
  return new Promise((resolve) => {
    ws.once('open', () => {
      refusedStatus(null);
      resolve({ ws, frames, closed, refused });
    });
    ws.once('close', () => resolve({ ws, frames, closed, refused }));
  });
}

async function kucoinUrl(sim: Simulator): Promise<string> {
  const body = (await fetchJson(`${sim.endpoints.kucoin.rest}/api/v1/bullet-public`, { method: 'POST' })) as {
    data: { token: string; instanceServers: Array<{ endpoint: string }> };
  };
  return `${body.data.instanceServers[0]!.endpoint}?token=${body.data.token}&connectId=t${Math.random().toString(36).slice(2)}`;
}

describe('venue limits are data in facts.ts', () => {
  it('every venue documents its limits, and the plans read them', () => {
    for (const ex of EXCHANGES) {
      const l = venueFacts(ex).limits;
      expect(l.topicsPerConnection).toBeGreaterThan(0);
      // A per-IP connection rate where the venue documents one; null where it documents none (not guessed).
      if (l.connectRate !== null) expect(l.connectRate.count).toBeGreaterThan(0);
    }
    expect(venueFacts('binance').limits).toMatchObject({ topicsPerConnection: 1024, messageRate: { count: 10, windowMs: 1_000 }, connectRate: { count: 300, windowMs: 300_000 } });
    expect(venueFacts('okx').limits).toMatchObject({ subscribeRate: { count: 480, windowMs: 3_600_000 }, connectRate: { count: 3, windowMs: 1_000 }, bytesPerMessage: 65_536 });
    expect(venueFacts('bybit').limits).toMatchObject({ argsCharsPerConnection: 21_000, connectRate: { count: 500, windowMs: 300_000 } });
    expect(venueFacts('kucoin').limits).toMatchObject({ topicsPerMessage: 100, messageRate: { count: 100, windowMs: 10_000 }, maxConnections: 800 });
  });
});

describe(`with ${N} symbols per venue`, () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 11, instruments: KEYS, messagesPerSec: 400 });
  });
  afterAll(async () => {
    await sim?.close();
  });

  describe('(a) a plan that breaks a limit is refused or closed by the twin', () => {
    const clients: WebSocket[] = [];
    afterEach(() => {
      for (const c of clients.splice(0)) c.terminate();
    });
    const track = async (url: string) => {
      const c = await raw(url);
      clients.push(c.ws);
      return c;
    };

    it('Binance closes a socket that sends more than 10 messages in a second', async () => {
      const c = await track(`${sim.endpoints.binance.ws}/public/stream`);
      const syms = symbolsOf(sim, 'binance').slice(0, 11);
      syms.forEach((s, i) => c.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: [`${s.toLowerCase()}@bookTicker`], id: i + 1 })));
      expect(await c.closed).toBe(1008);
      expect(sim.stats().violations.binance.message_rate).toBeGreaterThan(0);
    });

    it('Binance refuses more than 1024 streams on one socket and closes it', async () => {
      const c = await track(`${sim.endpoints.binance.ws}/public/stream`);
      const params = symbolsOf(sim, 'binance').slice(0, 1025).map((s) => `${s.toLowerCase()}@bookTicker`);
      c.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params, id: 1 }));
      expect(await c.closed).toBe(1008);
      expect(c.frames.some((f) => f.includes('"error"') && f.includes('1024'))).toBe(true);
    });

    it('Bybit refuses args beyond 21,000 characters on one socket', async () => {
      const c = await track(`${sim.endpoints.bybit.ws}/v5/public/linear`);
      const topics = symbolsOf(sim, 'bybit').map((s) => `tickers.${s}`);
      for (let i = 0; i < topics.length; i += 10) c.ws.send(JSON.stringify({ op: 'subscribe', req_id: `r${i}`, args: topics.slice(i, i + 10) }));
      await waitFor('bybit replies', () => c.frames.filter((f) => f.includes('"op":"subscribe"')).length >= topics.length / 10);
      const refused = c.frames.filter((f) => f.includes('"success":false') && f.includes('args length exceeds 21000'));
      expect(refused.length).toBeGreaterThan(0);
    });

    it('OKX refuses the 481st subscribe request within an hour on one socket (60014)', async () => {
      const c = await track(`${sim.endpoints.okx.ws}/ws/v5/public`);
      const syms = symbolsOf(sim, 'okx');
      for (let i = 0; i < 481; i++) c.ws.send(JSON.stringify({ id: `s${i}`, op: 'subscribe', args: [{ channel: 'tickers', instId: syms[i] }] }));
      await waitFor('okx refusal', () => c.frames.some((f) => f.includes('"code":"60014"')));
      expect(c.frames.filter((f) => f.includes('"code":"60014"'))).toHaveLength(1);
      expect(c.frames.find((f) => f.includes('"code":"60014"'))).toContain('"id":"s480"');
    });

    it('OKX refuses a request over 64 KB', async () => {
      const c = await track(`${sim.endpoints.okx.ws}/ws/v5/public`);
      const args = symbolsOf(sim, 'okx').flatMap((instId) => [
        { channel: 'tickers', instId },
        { channel: 'funding-rate', instId },
      ]);
      const text = JSON.stringify({ id: 'big', op: 'subscribe', args });
      expect(Buffer.byteLength(text)).toBeGreaterThan(65_536);
      c.ws.send(text);
      await waitFor('okx error', () => c.frames.some((f) => f.includes('"event":"error"')));
      expect(c.frames.find((f) => f.includes('"event":"error"'))).toContain('"code":"60012"');
    });

    it('OKX refuses a 4th new connection within a second (3 per second per IP)', async () => {
      await new Promise((r) => setTimeout(r, 1_100)); // earlier tests' sockets leave the window
      const attempts = await Promise.all(Array.from({ length: 5 }, () => track(`${sim.endpoints.okx.ws}/ws/v5/public`)));
      const statuses = await Promise.all(attempts.map((a) => a.refused));
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
      expect(statuses.filter((s) => s === null)).toHaveLength(3);
    });

    it('KuCoin refuses more than 100 topics in one request (509)', async () => {
      const c = await track(await kucoinUrl(sim));
      await waitFor('welcome', () => c.frames.some((f) => f.includes('"welcome"')));
      const topic = `/contractMarket/tickerV2:${symbolsOf(sim, 'kucoin').slice(0, 101).join(',')}`;
      c.ws.send(JSON.stringify({ id: 'x', type: 'subscribe', topic, privateChannel: false, response: true }));
      await waitFor('kucoin error', () => c.frames.some((f) => f.includes('"type":"error"')));
      expect(c.frames.find((f) => f.includes('"type":"error"'))).toContain('"code":509');
    });

    it('KuCoin refuses uplink messages beyond 100 per 10 s', async () => {
      const c = await track(await kucoinUrl(sim));
      await waitFor('welcome', () => c.frames.some((f) => f.includes('"welcome"')));
      for (let i = 0; i < 101; i++) c.ws.send(JSON.stringify({ id: `p${i}`, type: 'ping' }));
      await waitFor('kucoin error', () => c.frames.some((f) => f.includes('"type":"error"')));
      expect(c.frames.filter((f) => f.includes('"type":"pong"'))).toHaveLength(100);
      expect(c.frames.find((f) => f.includes('"type":"error"'))).toContain('"id":"p100"');
    });
  });

  describe('(b) the adapters\' plans for the whole universe are accepted', () => {
    const running: FeedConnection[] = [];
    beforeAll(async () => {
      // (a) spends short per-IP connect windows on purpose (5 OKX attempts); a fresh client's pacer cannot
      // know another client's connects from the same IP, so (b) starts once those windows are over.
      const shortWindows = EXCHANGES.map((ex) => venueFacts(ex).limits.connectRate?.windowMs ?? 0).filter((ms) => ms <= 10_000);
      await new Promise((r) => setTimeout(r, Math.max(0, ...shortWindows) + 100));
    });
    afterEach(async () => {
      await Promise.all(running.splice(0).map((c) => c.stop()));
    });

    /** Runs every socket of the venue's plan through FeedConnection (pacing included) until the twin holds every topic. */
    async function subscribeAll(ex: Exchange): Promise<{ plans: ConnectionPlan[]; venueErrors: number; downs: string[] }> {
      const adapter = VENUES[ex].adapter;
      const symbols = symbolsOf(sim, ex);
      const plans = await adapter.plan(sim.endpoints[ex], symbols, fetchJson, {});
      const pacer = new ConnectPacer();
      const parser = adapter.createParser(new Map());
      let venueErrors = 0;
      const downs: string[] = [];
      plans.forEach((first, i) => {
        let reuse: ConnectionPlan | null = first;
        const conn = new FeedConnection(
          first.label,
          async () => {
            const p = reuse ?? (await adapter.plan(sim.endpoints[ex], symbols, fetchJson, {}))[i]!;
            reuse = null;
            return p;
          },
          {
            onFrame: (text) => {
              const outcome = parser.parse(text, nullSink);
              if (outcome === 'venue_error') venueErrors++;
              return outcome;
            },
            onDown: (reason) => downs.push(reason),
            onLive: () => {},
            onChange: () => {},
          },
          { silenceMs: 60_000, connectPacer: pacer },
        );
        running.push(conn);
        conn.start();
      });
      const topics = plans.reduce((n, p) => n + p.topicCount, 0);
      await waitFor(`${ex}: ${topics} topics subscribed`, () => sim.stats().subscriptions[ex] === topics, 20_000);
      return { plans, venueErrors, downs };
    }

    it.each(['bybit', 'okx', 'kucoin', 'binance'] as const)('%s: every topic subscribed, nothing refused', async (ex) => {
      const before = { ...sim.stats().violations[ex] };
      const t0 = Date.now();
      const { plans, venueErrors, downs } = await subscribeAll(ex);
      const ms = Date.now() - t0;
      const messages = plans.reduce((n, p) => n + p.subscribeMessages.length, 0);
      console.log(`${ex}: ${N} symbols → ${plans.length} connection(s), ${plans.map((p) => p.topicCount).join('+')} topics, ${messages} subscribe requests, all subscribed in ${ms} ms`);
      expect(venueErrors).toBe(0);
      expect(downs).toEqual([]);
      expect(sim.stats().violations[ex]).toEqual(before);
      expect(sim.stats().connections[ex]).toBe(plans.length);
      // Within the documented per-connection limits, as the plans say.
      const limits = venueFacts(ex).limits;
      for (const p of plans) {
        expect(p.topicCount).toBeLessThanOrEqual(limits.topicsPerConnection);
        for (const m of p.subscribeMessages) expect(Buffer.byteLength(m)).toBeLessThanOrEqual(limits.bytesPerMessage);
      }
    }, 30_000);

    it('Binance and Bybit need more than one socket for the universe; OKX and KuCoin document no per-socket cap', async () => {
      const count = async (ex: Exchange) => (await VENUES[ex].adapter.plan(sim.endpoints[ex], symbolsOf(sim, ex), fetchJson, {})).length;
      expect(await count('binance')).toBe(4); // 1,200 bookTicker + 1,200 markPrice streams at ≤ 1024 per socket
      expect(await count('bybit')).toBe(2); // 1,200 × "tickers.COINnnnnUSDT" = 24,000 characters > 21,000
      expect(await count('okx')).toBe(1);
      expect(await count('kucoin')).toBe(1);
    });

    it('a burst of requests on one socket is paced within the message rate (Binance: 10/s)', async () => {
      const streams = symbolsOf(sim, 'binance').slice(0, 30).map((s) => `${s.toLowerCase()}@bookTicker`);
      await waitFor('earlier binance sockets gone', () => sim.stats().connections.binance === 0);
      // 30 single-stream requests queued at once with no spacing: only the connection's rate gate spreads them.
      const plan: ConnectionPlan = {
        label: 'binance/public#0',
        url: `${sim.endpoints.binance.ws}${BINANCE_PUBLIC_PATH}`,
        subscribeMessages: streams.map((s, i) => JSON.stringify({ method: 'SUBSCRIBE', params: [s], id: i + 1 })),
        topicCount: streams.length,
        awaitWelcome: false,
        subscribeSpacingMs: 0,
        heartbeat: null,
        maxAgeMs: 0,
        limits: venueFacts('binance').limits,
      };
      const before = sim.stats().violations.binance.message_rate ?? 0;
      const downs: string[] = [];
      const t0 = Date.now();
      const conn = new FeedConnection('burst', async () => plan, { onFrame: () => 'ack', onDown: (r) => downs.push(r), onLive: () => {}, onChange: () => {} }, { silenceMs: 60_000 });
      running.push(conn);
      conn.start();
      await waitFor('30 streams', () => sim.stats().subscriptions.binance >= 30, 10_000);
      expect(downs).toEqual([]);
      expect(sim.stats().violations.binance.message_rate ?? 0).toBe(before);
      // 8 per second (80 % of 10): 30 requests take at least 3 windows.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(2_900);
    }, 15_000);

    it('new sockets are paced within the per-IP connection rate (OKX: 3/s)', async () => {
      const adapter = VENUES.okx.adapter;
      const symbols = symbolsOf(sim, 'okx');
      await new Promise((r) => setTimeout(r, 1_100)); // a fresh connect window
      const before = sim.stats().violations.okx.connect_rate ?? 0;
      const pacer = new ConnectPacer();
      const t0 = Date.now();
      const live: number[] = [];
      for (let i = 0; i < 6; i++) {
        const [plan] = await adapter.plan(sim.endpoints.okx, symbols.slice(i * 50, (i + 1) * 50), fetchJson, {});
        const parser = adapter.createParser(new Map());
        const conn = new FeedConnection(`okx#${i}`, async () => plan!, {
          onFrame: (text) => {
            const o = parser.parse(text, nullSink);
            if (o === 'ack' && live.length <= i) live.push(Date.now() - t0);
            return o;
          },
          onDown: () => {},
          onLive: () => {},
          onChange: () => {},
        }, { silenceMs: 60_000, connectPacer: pacer });
        running.push(conn);
        conn.start();
      }
      await waitFor('6 okx sockets subscribed', () => sim.stats().connections.okx >= 6 && sim.stats().subscriptions.okx >= 600, 10_000);
      expect(sim.stats().violations.okx.connect_rate ?? 0).toBe(before);
      // 80 % of 3/s = 2 per second: the 5th and 6th sockets open at least 2 s after the first.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1_900);
    }, 20_000);
  });
});

describe('twins read lowered limits from the simulator options', () => {
  let sim: Simulator;
  afterEach(async () => {
    await sim?.close();
  });

  it('a lowered per-socket topic cap is enforced (KuCoin, Bybit)', async () => {
    const limits: SimulatorLimits = { kucoin: { topicsPerConnection: 3 }, bybit: { topicsPerConnection: 3 } };
    sim = await startSimulator({ seed: 2, limits });
    const k = await raw(await kucoinUrl(sim));
    await waitFor('welcome', () => k.frames.some((f) => f.includes('"welcome"')));
    const ks = symbolsOf(sim, 'kucoin');
    k.ws.send(JSON.stringify({ id: 'a', type: 'subscribe', topic: `/contractMarket/tickerV2:${ks.slice(0, 3).join(',')}`, privateChannel: false, response: true }));
    k.ws.send(JSON.stringify({ id: 'b', type: 'subscribe', topic: `/contract/instrument:${ks[0]}`, privateChannel: false, response: true }));
    await waitFor('kucoin replies', () => k.frames.some((f) => f.includes('"id":"b"')));
    expect(k.frames.find((f) => f.includes('"id":"a"'))).toContain('"ack"');
    expect(k.frames.find((f) => f.includes('"id":"b"'))).toContain('"code":509');

    const b = await raw(`${sim.endpoints.bybit.ws}/v5/public/linear`);
    const bs = symbolsOf(sim, 'bybit');
    b.ws.send(JSON.stringify({ op: 'subscribe', req_id: 'x', args: bs.slice(0, 4).map((s) => `tickers.${s}`) }));
    await waitFor('bybit reply', () => b.frames.some((f) => f.includes('"req_id":"x"')));
    expect(b.frames.find((f) => f.includes('"req_id":"x"'))).toContain('"success":false');
    k.ws.terminate();
    b.ws.terminate();
    expect(sim.stats().violations.kucoin.topics_per_connection).toBe(1);
    expect(sim.stats().violations.bybit.topics_per_connection).toBe(1);
  });
});
