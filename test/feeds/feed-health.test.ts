/**
 * Feed health against the real simulator and the real engine: a venue away at start is retried until it
 * returns; a venue that comes back after an outage is live again within 5 s; a venue is live (its quotes
 * usable) only when all its sockets are; the message rate never goes negative; failures carry their cause.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, connect, type Socket, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../shared/config.js';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import type { FeedState } from '../../shared/feeds.js';
import { Engine } from '../../server/engine/engine.js';
import { backoffDelayMs, DEFAULT_BACKOFF, FeedConnection } from '../../server/feeds/connection.js';
import { errorCode, feedError, HttpStatusError } from '../../server/feeds/feed-error.js';
import { bybitAdapter } from '../../server/venues/bybit/adapter.js';
import type { ConnectionPlan, FetchJson } from '../../server/feeds/adapter.js';
import { createFetchJson } from '../../server/feeds/metadata.js';
import { FeedManager, type FeedManagerOptions } from '../../server/feeds/manager.js';
import { startSimulator, type Simulator } from '../../server/simulator/index.js';
import { freePortRange } from '../helpers/ports.js';
import { sleep, waitFor } from './helpers.js';

const INSTRUMENTS = ['BTC-PERP', 'ETH-PERP'];

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The endpoints a simulator started with `portBase` will have (so a feed can aim at them before it runs). */
function endpointsAt(portBase: number): FeedManagerOptions['endpoints'] {
  return Object.fromEntries(EXCHANGES.map((ex, i) => [ex, { ws: `ws://127.0.0.1:${portBase + i}`, rest: `http://127.0.0.1:${portBase + i}` }])) as FeedManagerOptions['endpoints'];
}

async function simulatorAt(portBase: number): Promise<Simulator> {
  const sim = await startSimulator({ seed: 5, messagesPerSec: 400, instruments: INSTRUMENTS, portBase });
  let closed = false;
  cleanups.push(() => (closed ? undefined : sim.close()));
  const close = sim.close.bind(sim);
  sim.close = async () => {
    closed = true;
    await close();
  };
  return sim;
}

function manager(opts: Partial<FeedManagerOptions> & Pick<FeedManagerOptions, 'endpoints'>): { fm: FeedManager; engine: Engine } {
  const engine = new Engine({ config: DEFAULT_CONFIG });
  const fm = new FeedManager({ engine, exchanges: [...EXCHANGES], instruments: INSTRUMENTS, silenceMs: 3000, ...opts });
  cleanups.push(() => fm.stop());
  return { fm, engine };
}

const state = (fm: FeedManager, ex: Exchange): FeedState => fm.states().find((s) => s.exchange === ex)!;
const allLive = (fm: FeedManager) => fm.states().every((s) => s.status === 'live');

describe('feed errors name their cause', () => {
  it('ECONNREFUSED and ENOTFOUND from fetch, HTTP status from a refused handshake or REST call, timeouts', async () => {
    const port = await freePortRange(1);
    const refused = await createFetchJson(2000)(`http://127.0.0.1:${port}/x`).catch((e: unknown) => e);
    expect(feedError(refused, 'metadata', 1)).toMatchObject({ code: 'ECONNREFUSED', message: expect.stringMatching(/^metadata: .*ECONNREFUSED/), atMs: 1 });
    // A failed DNS lookup as undici reports it (tests stay on 127.0.0.1, so the error is built, in its real shape).
    const notFound = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('getaddrinfo ENOTFOUND fapi.binance.com'), { code: 'ENOTFOUND' }) });
    expect(feedError(notFound, 'metadata', 2)).toEqual({ code: 'ENOTFOUND', message: 'metadata: getaddrinfo ENOTFOUND fapi.binance.com', atMs: 2 });
    expect(errorCode(new HttpStatusError(503, '/x'))).toBe('HTTP 503');
    expect(errorCode(new Error('Unexpected server response: 429'))).toBe('HTTP 429');
    expect(errorCode(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe('ETIMEDOUT');
    expect(errorCode('weird')).toBe('ERROR');
  });
});

describe('a venue socket names its cause', () => {
  const plan = (url: string): ConnectionPlan => ({ label: 't', url, subscribeMessages: [], topicCount: 0, awaitWelcome: false, subscribeSpacingMs: 0, heartbeat: null, maxAgeMs: 0 });
  const hooks = { onFrame: () => 'data' as const, onDown: () => {}, onLive: () => {}, onChange: () => {} };

  it('a handshake the venue refuses reads HTTP <status>; a closed port reads ECONNREFUSED', async () => {
    const http = createHttpServer((_req, res) => {
      res.statusCode = 451;
      res.end('unavailable for legal reasons');
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => http.close(() => r())));
    const refusedUpgrade = new FeedConnection('a', async () => plan(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`), hooks, { silenceMs: 1000 });
    cleanups.push(() => refusedUpgrade.stop());
    refusedUpgrade.start();
    await waitFor('handshake refused', () => refusedUpgrade.lastError !== null);
    expect(refusedUpgrade.lastError).toMatchObject({ code: 'HTTP 451', message: expect.stringMatching(/^socket: .*451/) });

    const port = await freePortRange(1);
    const closedPort = new FeedConnection('b', async () => plan(`ws://127.0.0.1:${port}`), hooks, { silenceMs: 1000 });
    cleanups.push(() => closedPort.stop());
    closedPort.start();
    await waitFor('connection refused', () => closedPort.lastError !== null);
    expect(closedPort.lastError).toMatchObject({ code: 'ECONNREFUSED', message: expect.stringMatching(/^socket: connect ECONNREFUSED/) });
  });
});

describe('feed health (simulator, real engine)', () => {
  it('a venue unreachable at start is retried with backoff and goes live when it comes up; its state says why and since when', async () => {
    const base = await freePortRange(4);
    const startedMs = Date.now();
    const { fm } = manager({ endpoints: endpointsAt(base), backoff: { initialMs: 100, maxMs: 500, factor: 2 } });
    await fm.start();
    await waitFor('a failed attempt per venue', () => fm.states().every((s) => s.lastError !== null));
    for (const s of fm.states()) {
      expect(s.status, s.exchange).toBe('backoff');
      expect(s.metadata).toBe('failed');
      expect(s.lastError).toMatchObject({ code: 'ECONNREFUSED', message: expect.stringMatching(/^metadata: /) });
      expect(s.downSinceMs).toBeGreaterThanOrEqual(startedMs);
      expect(fm.isVenueLive(s.exchange)).toBe(false);
    }
    // Several retries while nothing listens: the status stays `backoff` throughout (also while a retry is in flight).
    const seen = new Set<string>();
    for (const until = Date.now() + 1200; Date.now() < until; await sleep(5)) for (const st of fm.states()) seen.add(st.status);
    expect([...seen]).toEqual(['backoff']);

    await simulatorAt(base);
    await waitFor('every venue live once the venues are up', () => allLive(fm), 10_000);
    for (const s of fm.states()) {
      expect(s.metadata).toBe('loaded');
      expect(s.downSinceMs).toBeNull();
      expect(fm.isVenueLive(s.exchange)).toBe(true);
    }
  });

  it('after an outage, every venue is live again within 5 s of its return (default backoff, worst-case jitter)', async () => {
    const base = await freePortRange(4);
    let sim = await simulatorAt(base);
    // random → 1: every delay at the top of its jitter range.
    const { fm } = manager({ endpoints: endpointsAt(base), random: () => 0.999_999 });
    await fm.start();
    await waitFor('all live', () => allLive(fm));

    const outageStartMs = Date.now();
    await sim.close();
    await waitFor('all down', () => fm.states().every((s) => s.status !== 'live'));
    for (const s of fm.states()) expect(s.downSinceMs).toBeGreaterThanOrEqual(outageStartMs - 50);
    await sleep(16_000);
    for (const s of fm.states()) expect(s.lastError?.code, s.exchange).toBe('ECONNREFUSED');

    sim = await simulatorAt(base);
    const backMs = Date.now();
    await waitFor('all live again', () => allLive(fm), 20_000);
    const tookMs = Date.now() - backMs;
    expect(tookMs).toBeLessThan(5_000);
  }, 40_000);

  it('a discovery refresh that fails keeps the last good list (an added instrument is subscribed from it) and is retried', async () => {
    const sim = await startSimulator({ seed: 6, messagesPerSec: 400, instruments: INSTRUMENTS });
    cleanups.push(() => sim.close());
    const real = createFetchJson();
    let restDown = false;
    const fetchJson: FetchJson = (url, init) => (restDown ? Promise.reject(new HttpStatusError(503, new URL(url).pathname)) : real(url, init));
    const { fm, engine } = manager({ endpoints: sim.endpoints, exchanges: ['okx'], instruments: ['BTC-PERP'], fetchJson, backoff: { initialMs: 100, maxMs: 400, factor: 2 } });
    await fm.start();
    await waitFor('okx live', () => allLive(fm));
    restDown = true;
    await fm.refreshDiscovery();
    const failed = state(fm, 'okx');
    expect(failed.lastError).toMatchObject({ code: 'HTTP 503', message: expect.stringMatching(/^metadata: /) });
    expect(failed.status).toBe('live'); // BTC carries on
    expect(failed.discovery!.failures).toBeGreaterThanOrEqual(1);
    await fm.reconfigure({ exchanges: ['okx'], instruments: INSTRUMENTS });
    await waitFor('ETH subscribed and usable (from the last good list)', () => engine.quote('ETH-PERP', 'okx')?.usable === true, 10_000);
    expect(state(fm, 'okx').unlisted ?? []).toEqual([]);
    restDown = false;
    await waitFor('the retried refresh succeeds', () => state(fm, 'okx').discovery!.failures === 0, 10_000);
  });

  it('backoff is capped and jittered', () => {
    const atCap = Array.from({ length: 200 }, () => backoffDelayMs(DEFAULT_BACKOFF, 40, Math.random));
    expect(Math.max(...atCap)).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxMs);
    expect(Math.min(...atCap)).toBeGreaterThanOrEqual(DEFAULT_BACKOFF.maxMs / 2);
    expect(new Set(atCap).size).toBeGreaterThan(50); // spread, not one instant for every socket
    expect(DEFAULT_BACKOFF.maxMs).toBeLessThanOrEqual(4_000);
  });

  it('Binance counts as live, and its quotes as usable, only once both of its sockets deliver', async () => {
    const sim = await startSimulator({ seed: 9, messagesPerSec: 600, instruments: INSTRUMENTS, dislocationsPerMin: 600 });
    cleanups.push(() => sim.close());
    const proxy = await holdingProxy(sim.endpoints.binance.ws, '/market/stream');
    cleanups.push(() => proxy.close());
    const { fm, engine } = manager({ endpoints: { ...sim.endpoints, binance: { ws: proxy.url, rest: sim.endpoints.binance.rest } }, exchanges: ['bybit', 'binance'] });
    await fm.start();
    await waitFor('bybit live and Binance quotes arriving on its first socket', () => state(fm, 'bybit').status === 'live' && state(fm, 'binance').messages > 20);
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      expect(state(fm, 'binance').status).not.toBe('live');
      expect(fm.isVenueLive('binance')).toBe(false);
      expect(engine.quote('BTC-PERP', 'binance')?.usable ?? false).toBe(false);
      expect(engine.opportunities().filter((o) => o.longExchange === 'binance' || o.shortExchange === 'binance')).toEqual([]);
      await sleep(25);
    }
    proxy.release();
    await waitFor('binance live', () => state(fm, 'binance').status === 'live');
    expect(fm.isVenueLive('binance')).toBe(true);
    await waitFor('binance quotes usable', () => engine.quote('BTC-PERP', 'binance')?.usable === true);
  });

  it('messagesPerSec stays >= 0 when a venue\'s sockets are re-made', async () => {
    const sim = await startSimulator({ seed: 3, messagesPerSec: 800, instruments: INSTRUMENTS });
    cleanups.push(() => sim.close());
    // Without live (un)subscribe, an instrument change re-makes the venue's sockets.
    const { fm } = manager({ endpoints: sim.endpoints, exchanges: ['bybit'], instruments: ['BTC-PERP'], adapters: { bybit: { ...bybitAdapter, liveChange: undefined } } });
    await fm.start();
    await waitFor('live', () => allLive(fm));
    await sleep(1100);
    fm.states();
    await sleep(3000); // the old socket's count grows well beyond what the new one gets in a second
    const before = state(fm, 'bybit'); // a rate window opens here, at that large count
    expect(before.messagesPerSec).toBeGreaterThan(0);
    await fm.reconfigure({ exchanges: ['bybit'], instruments: INSTRUMENTS });
    await waitFor('live on new sockets', () => fm.isVenueLive('bybit')); // (reading states() here would move the rate window)
    await sleep(1050);
    const after = state(fm, 'bybit');
    expect(after.messagesPerSec).toBeGreaterThanOrEqual(0);
    expect(after.messages).toBeGreaterThan(before.messages); // a total, never reset by new sockets
  });
});

/**
 * A TCP proxy to a WebSocket server that holds back connections whose upgrade request is for `holdPath`
 * until `release()` (the socket's handshake simply waits), and passes every other connection through.
 */
async function holdingProxy(targetWs: string, holdPath: string): Promise<{ url: string; release(): void; close(): Promise<void> }> {
  const target = new URL(targetWs);
  let holding = true;
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.once('data', (first: Buffer) => {
      client.pause();
      const requestLine = first.toString('latin1', 0, Math.min(first.length, 1024)).split('\r\n')[0] ?? '';
      const pass = () => {
        const upstream = connect(Number(target.port), target.hostname, () => {
          upstream.write(first);
          client.pipe(upstream).pipe(client);
          client.resume();
        });
        sockets.add(upstream);
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        upstream.on('error', () => client.destroy());
      };
      if (holding && requestLine.includes(holdPath)) held.push(pass);
      else pass();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    release() {
      holding = false;
      for (const pass of held.splice(0)) pass();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
