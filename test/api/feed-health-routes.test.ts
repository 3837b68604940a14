/**
 * The REST side of feed health, against a real app whose feeds connect to the real simulator:
 * per-venue state with cause and since-when (REST and /ws), POST /api/feeds/:venue/restart, and the
 * config guard that refuses a change leaving nothing to scan.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FeedState } from '../../shared/feeds.js';
import type { ServerFrame } from '../../shared/protocol.js';
import { startSimulator, type Simulator } from '../../server/simulator/index.js';
import { freePortRange } from '../helpers/ports.js';
import { buildTestApp, testConfig, type TestApp } from './harness.js';
import WebSocket from 'ws';
import { EXCHANGES } from '../../shared/exchanges.js';

const TOKEN = 'feed-health-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function appWithSimulator(exchanges = ['bybit', 'okx'] as const): Promise<{ a: TestApp; sim: Simulator }> {
  const sim = await startSimulator({ seed: 4, messagesPerSec: 300, instruments: ['BTC-PERP', 'ETH-PERP'] });
  cleanups.push(() => sim.close());
  const a = await buildTestApp({
    apiToken: TOKEN,
    feeds: { endpoints: sim.endpoints },
    start: true,
    config: testConfig({ market: { exchanges: [...exchanges], instruments: ['BTC-PERP', 'ETH-PERP'] } }),
  });
  cleanups.push(() => a.close());
  return { a, sim };
}

const feeds = async (a: TestApp): Promise<FeedState[]> => (await a.app.inject({ method: 'GET', url: '/api/feeds' })).json().feeds;

describe('POST /api/feeds/:venue/restart', () => {
  it('needs the token; 400 for an unknown venue and 404 for one not configured, each naming it', async () => {
    const { a } = await appWithSimulator();
    const noToken = await a.app.inject({ method: 'POST', url: '/api/feeds/bybit/restart' });
    expect(noToken.statusCode).toBe(401);
    const unknown = await a.app.inject({ method: 'POST', url: '/api/feeds/ftx/restart', headers: auth });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ error: 'unknown_venue', field: 'venue', message: expect.stringContaining('"ftx"') });
    const notConfigured = await a.app.inject({ method: 'POST', url: '/api/feeds/binance/restart', headers: auth });
    expect(notConfigured.statusCode).toBe(404);
    expect(notConfigured.json()).toMatchObject({ field: 'venue', message: expect.stringContaining('binance') });
  });

  it('restarts one venue: it goes down, then live again on new sockets; the other venue is untouched', async () => {
    const { a } = await appWithSimulator();
    await waitFor('both live', async () => (await feeds(a)).every((f) => f.status === 'live'));
    const okxBefore = (await feeds(a)).find((f) => f.exchange === 'okx')!;
    const r = await a.app.inject({ method: 'POST', url: '/api/feeds/bybit/restart', headers: auth });
    expect(r.statusCode).toBe(200);
    expect(r.json().restarted).toBe('bybit');
    expect(r.json().feed.status).not.toBe('live');
    expect(r.json().feed.downSinceMs).toBeGreaterThan(0);
    expect(a.feeds!.isVenueLive('bybit')).toBe(false);
    await waitFor('bybit live again', () => a.feeds!.isVenueLive('bybit'));
    const after = await feeds(a);
    expect(after.find((f) => f.exchange === 'bybit')!.downSinceMs).toBeNull();
    const okx = after.find((f) => f.exchange === 'okx')!;
    expect(okx.status).toBe('live');
    expect(okx.reconnects).toBe(okxBefore.reconnects);
    expect(okx.messages).toBeGreaterThanOrEqual(okxBefore.messages);
  });
});

describe('feed state in REST and in the /ws stream', () => {
  it('a venue that cannot be reached shows its cause (ECONNREFUSED) and since when, over REST and /ws', async () => {
    const base = await freePortRange(4);
    const closed = Object.fromEntries(EXCHANGES.map((ex, i) => [ex, { ws: `ws://127.0.0.1:${base + i}`, rest: `http://127.0.0.1:${base + i}` }]));
    const sim = await startSimulator({ seed: 4, messagesPerSec: 200, instruments: ['BTC-PERP'] });
    cleanups.push(() => sim.close());
    const startedMs = Date.now();
    const a = await buildTestApp({
      feeds: { endpoints: { ...sim.endpoints, kucoin: closed.kucoin!, binance: closed.binance! } },
      start: true,
      config: testConfig({ market: { exchanges: ['bybit', 'okx', 'kucoin', 'binance'], instruments: ['BTC-PERP'] } }),
    });
    cleanups.push(() => a.close());
    await a.app.listen({ port: 0, host: '127.0.0.1' });
    await waitFor('kucoin and binance failed, bybit and okx live', async () => {
      const f = await feeds(a);
      return f.filter((x) => x.status === 'live').length === 2 && f.filter((x) => x.lastError?.code === 'ECONNREFUSED').length === 2;
    });
    for (const f of await feeds(a)) {
      if (f.exchange === 'kucoin' || f.exchange === 'binance') {
        expect(f.status).toBe('backoff');
        expect(f.lastError).toMatchObject({ code: 'ECONNREFUSED', message: expect.stringContaining('ECONNREFUSED') });
        expect(f.lastError!.atMs).toBeGreaterThanOrEqual(startedMs);
        expect(f.downSinceMs).toBeGreaterThanOrEqual(startedMs);
      } else {
        expect(f.downSinceMs).toBeNull();
      }
    }
    const address = a.app.server.address() as { port: number };
    const ws = new WebSocket(`ws://127.0.0.1:${address.port}/ws`);
    cleanups.push(() => ws.terminate());
    const first = await new Promise<ServerFrame>((resolve, reject) => {
      ws.once('message', (d) => resolve(JSON.parse(d.toString()) as ServerFrame));
      ws.once('error', reject);
    });
    const snapshot = first.messages.find((m) => m.type === 'snapshot');
    if (snapshot?.type !== 'snapshot') throw new Error('no snapshot first');
    const binance = snapshot.feeds.find((f) => f.exchange === 'binance')!;
    expect(binance.lastError?.code).toBe('ECONNREFUSED');
    expect(binance.downSinceMs).toBeGreaterThanOrEqual(startedMs);
  });
});

describe('PUT /api/config refuses a change that leaves nothing to scan', () => {
  it.each([
    [{ market: { exchanges: [] } }, 'market.exchanges'],
    [{ market: { instruments: [] } }, 'market.instruments'],
  ])('%j → 400 naming %s and nothing changes; with ?force=true it applies', async (patch, field) => {
    const a = await buildTestApp();
    cleanups.push(() => a.close());
    const before = a.config.config;
    const r = await a.app.inject({ method: 'PUT', url: '/api/config', payload: patch });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ error: 'nothing_scanned', field, message: expect.stringContaining('force=true') });
    expect(a.config.version).toBe(1);
    expect(a.config.config).toEqual(before);
    const forced = await a.app.inject({ method: 'PUT', url: '/api/config?force=true', payload: patch });
    expect(forced.statusCode).toBe(200);
    expect(forced.json().version).toBe(2);
    expect(forced.json().config.market[field.split('.')[1]!]).toEqual([]);
  });

  it('a change that keeps something to scan needs no force; a bad force value is a 400 naming it', async () => {
    const a = await buildTestApp();
    cleanups.push(() => a.close());
    const ok = await a.app.inject({ method: 'PUT', url: '/api/config', payload: { market: { exchanges: ['bybit', 'okx'] } } });
    expect(ok.statusCode).toBe(200);
    const bad = await a.app.inject({ method: 'PUT', url: '/api/config?force=maybe', payload: { market: { exchanges: [] } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toMatch(/force/);
    expect(a.config.config.market.exchanges).toEqual(['bybit', 'okx']);
  });
});
