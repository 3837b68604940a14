/** Every REST route through Fastify inject, against a real engine + strategy + memory persistence. */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_STATIC_DIR } from '../../server/app.js';
import { buildTestApp, trackApps } from './harness.js';

const { make, closeAll } = trackApps();
afterEach(closeAll);

describe('config routes', () => {
  it('GET returns the config with version 1', async () => {
    const a = await make();
    const r = await a.app.inject({ method: 'GET', url: '/api/config' });
    expect(r.statusCode).toBe(200);
    expect(r.json().version).toBe(1);
    expect(r.json().config.thresholds.minSpreadBps).toBe(5);
  });

  it('PUT applies a partial patch, bumps the version, updates the engine and persists', async () => {
    const a = await make();
    const r = await a.app.inject({ method: 'PUT', url: '/api/config', payload: { thresholds: { minSpreadBps: 12 }, fees: { takerBps: { okx: 2 } } } });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.version).toBe(2);
    expect(body.config.thresholds.minSpreadBps).toBe(12);
    expect(body.config.thresholds.minProfitBps).toBe(2); // untouched sibling kept
    expect(body.config.fees.takerBps).toMatchObject({ okx: 2, bybit: 5.5 });
    expect(a.engine.getConfig().thresholds.minSpreadBps).toBe(12);
    const saved = await a.persistence.loadConfig();
    expect(saved?.version).toBe(2);
    expect(saved?.config.thresholds.minSpreadBps).toBe(12);
  });

  it.each([
    [{ thresholds: { minSpreadBps: 'x' } }, 'thresholds.minSpreadBps'],
    [{ thresholds: { minSpreadBps: 1e9 } }, 'thresholds.minSpreadBps'],
    [{ thresholds: { bogus: 1 } }, 'thresholds.bogus'],
    [{ nonsense: {} }, 'nonsense'],
    [{ market: { exchanges: ['bybit', 'ftx'] } }, 'market.exchanges.1'],
    [{ stream: { updateRateHz: 0 } }, 'stream.updateRateHz'],
    [{ strategy: { notionalUsd: 6000 } }, 'strategy.notionalUsd'], // cross-field rule
  ])('PUT %j → 400 naming %s, nothing changes', async (patch, field) => {
    const a = await make();
    const r = await a.app.inject({ method: 'PUT', url: '/api/config', payload: patch });
    expect(r.statusCode).toBe(400);
    expect(r.json().field).toBe(field);
    expect(typeof r.json().message).toBe('string');
    expect(a.config.version).toBe(1);
    expect(a.engine.getConfig()).toEqual(a.config.config);
    expect((await a.app.inject({ method: 'GET', url: '/api/config' })).json().version).toBe(1);
  });

  it('PUT with a body that is not JSON or not an object → 400', async () => {
    const a = await make();
    const bad = await a.app.inject({ method: 'PUT', url: '/api/config', headers: { 'content-type': 'application/json' }, payload: '{"thresholds":' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'bad_json', field: 'body' });
    const arr = await a.app.inject({ method: 'PUT', url: '/api/config', payload: [1, 2] });
    expect(arr.statusCode).toBe(400);
    expect(arr.json().field).toBeTypeOf('string');
  });
});

describe('opportunity routes', () => {
  it('lists current opportunities sorted by profit and filtered by instrument/exchange', async () => {
    const a = await make();
    for (const i of ['BTC-PERP', 'ETH-PERP']) a.flat(i, i.startsWith('BTC') ? 50_000 : 3000);
    a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 60);
    a.spread('ETH-PERP', 'kucoin', 'binance', 3000, 120);
    const r = await a.app.inject({ method: 'GET', url: '/api/opportunities' });
    expect(r.statusCode).toBe(200);
    const list = r.json().opportunities as Array<{ instrument: string; projectedProfitBps: number; longExchange: string; shortExchange: string }>;
    expect(list.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < list.length; i++) expect(list[i - 1].projectedProfitBps).toBeGreaterThanOrEqual(list[i].projectedProfitBps);
    const eth = (await a.app.inject({ method: 'GET', url: '/api/opportunities?instrument=ETH-PERP' })).json().opportunities as typeof list;
    expect(eth.length).toBeGreaterThan(0);
    expect(eth.every((o) => o.instrument === 'ETH-PERP')).toBe(true);
    const okx = (await a.app.inject({ method: 'GET', url: '/api/opportunities?exchange=okx&order=asc&sort=spread' })).json().opportunities as typeof list;
    expect(okx.length).toBeGreaterThan(0);
    expect(okx.every((o) => o.longExchange === 'okx' || o.shortExchange === 'okx')).toBe(true);
  });

  it('ranks by netApr (projected profit annualised over the horizon) and filters on carryEarnedShare', async () => {
    const a = await make();
    for (const i of ['BTC-PERP', 'ETH-PERP']) a.flat(i, i.startsWith('BTC') ? 50_000 : 3000);
    a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 60);
    a.spread('ETH-PERP', 'kucoin', 'binance', 3000, 120);
    type Row = { projectedProfitBps: number; netAprPct: number; carryEarnedShare: number | null };
    const list = (await a.app.inject({ method: 'GET', url: '/api/opportunities?sort=netApr' })).json().opportunities as Row[];
    expect(list.length).toBeGreaterThanOrEqual(2);
    // default horizon 8 h: three horizons a day
    for (const o of list) expect(o.netAprPct).toBeCloseTo((o.projectedProfitBps / 1e4) * 3 * 365 * 100, 6);
    for (let i = 1; i < list.length; i++) expect(list[i - 1].netAprPct).toBeGreaterThanOrEqual(list[i].netAprPct);
    // no funding history in this app: every share is unknown, so a share filter keeps none
    expect(list.every((o) => o.carryEarnedShare === null)).toBe(true);
    const filtered = (await a.app.inject({ method: 'GET', url: '/api/opportunities?minCarryEarnedShare=0.5' })).json();
    expect(filtered.count).toBe(0);
  });

  it.each([
    ['/api/opportunities?sort=price', 'querystring.sort'],
    ['/api/opportunities?limit=0', 'querystring.limit'],
    ['/api/opportunities?minCarryEarnedShare=2', 'querystring.minCarryEarnedShare'],
    ['/api/opportunities?exchange=ftx', 'querystring.exchange'],
    ['/api/opportunities?instrument=btc', 'querystring.instrument'],
    ['/api/opportunities/history?limit=abc', 'querystring.limit'],
  ])('GET %s → 400 naming %s', async (url, field) => {
    const a = await make();
    const r = await a.app.inject({ method: 'GET', url });
    expect(r.statusCode).toBe(400);
    expect(r.json().field).toBe(field);
  });

  it('history holds closed opportunities, newest first', async () => {
    const a = await make();
    a.flat('BTC-PERP', 50_000);
    a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 60);
    a.flat('BTC-PERP', 50_000);
    a.spread('BTC-PERP', 'binance', 'kucoin', 50_000, 80);
    a.flat('BTC-PERP', 50_000);
    await a.persistence.flush();
    const r = await a.app.inject({ method: 'GET', url: '/api/opportunities/history?limit=50' });
    expect(r.statusCode).toBe(200);
    const closed = r.json().history as Array<{ opportunity: { id: string }; closedMs: number; reason: string }>;
    expect(closed.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < closed.length; i++) expect(closed[i - 1].closedMs).toBeGreaterThanOrEqual(closed[i].closedMs);
    expect(closed.map((c) => c.opportunity.id)).toContain('BTC-PERP|bybit|okx');
    expect(closed[0].reason).toBeTypeOf('string');
  });
});

describe('trading routes', () => {
  async function withPosition(opts: Parameters<typeof buildTestApp>[0] = {}) {
    const a = await make(opts);
    a.flat('BTC-PERP', 50_000);
    a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 80);
    a.strategy.start(); // lets the bus wake the strategy
    for (let i = 0; i < 5 && a.strategy.positions().length === 0; i++) {
      a.strategy.step(Date.now());
      await new Promise((r) => setTimeout(r, 10));
    }
    a.strategy.stop();
    const positions = a.strategy.positions();
    expect(positions.length).toBeGreaterThan(0);
    return { a, id: positions[0].id };
  }

  it('positions, one position, trades, portfolio, rejections', async () => {
    const { a, id } = await withPosition();
    const list = await a.app.inject({ method: 'GET', url: '/api/positions?state=open' });
    expect(list.statusCode).toBe(200);
    expect(list.json().positions.map((p: { id: string }) => p.id)).toContain(id);
    const one = await a.app.inject({ method: 'GET', url: `/api/positions/${encodeURIComponent(id)}` });
    expect(one.statusCode).toBe(200);
    expect(one.json().instrument).toBe('BTC-PERP');
    const trades = await a.app.inject({ method: 'GET', url: '/api/trades?limit=10' });
    expect(trades.statusCode).toBe(200);
    expect(trades.json().fills.length).toBeGreaterThanOrEqual(2);
    expect(trades.json().fills.every((f: { positionId: string }) => typeof f.positionId === 'string')).toBe(true);
    const pf = await a.app.inject({ method: 'GET', url: '/api/portfolio' });
    expect(pf.statusCode).toBe(200);
    expect(pf.json().openPositions).toBeGreaterThanOrEqual(1);
    expect(pf.json().grossExposureUsd).toBeGreaterThan(0);
    const rej = await a.app.inject({ method: 'GET', url: '/api/rejections?limit=5' });
    expect(rej.statusCode).toBe(200);
    expect(Array.isArray(rej.json().rejections)).toBe(true);
    expect((await a.app.inject({ method: 'GET', url: '/api/positions?state=bogus' })).json().field).toBe('querystring.state');
  });

  it('404 for an unknown position (GET and close)', async () => {
    const a = await make();
    const g = await a.app.inject({ method: 'GET', url: '/api/positions/nope' });
    expect(g.statusCode).toBe(404);
    expect(g.json()).toMatchObject({ error: 'not_found', field: 'id' });
    const c = await a.app.inject({ method: 'POST', url: '/api/positions/nope/close' });
    expect(c.statusCode).toBe(404);
  });

  it('POST /api/positions/:id/close closes it (idempotent)', async () => {
    const { a, id } = await withPosition();
    const r = await a.app.inject({ method: 'POST', url: `/api/positions/${encodeURIComponent(id)}/close` });
    expect(r.statusCode).toBe(200);
    expect(['closing', 'closed']).toContain(r.json().state);
    expect(r.json().exitReason).toBe('manual');
    const again = await a.app.inject({ method: 'POST', url: `/api/positions/${encodeURIComponent(id)}/close`, payload: {} });
    expect(again.statusCode).toBe(200);
    const bad = await a.app.inject({ method: 'POST', url: `/api/positions/${encodeURIComponent(id)}/close`, payload: { force: true } });
    expect(bad.statusCode).toBe(400);
  });

  it('kill switch: POST /api/trading-state', async () => {
    const { a } = await withPosition();
    const r = await a.app.inject({ method: 'POST', url: '/api/trading-state', payload: { state: 'halted', closeAll: true, reason: 'test' } });
    expect(r.statusCode).toBe(200);
    expect(r.json().state).toBe('halted');
    expect(a.strategy.tradingState()).toBe('halted');
    expect(a.strategy.positions().every((p) => p.state !== 'open')).toBe(true);
    expect((await a.app.inject({ method: 'GET', url: '/api/trading-state' })).json().state).toBe('halted');
    const bad = await a.app.inject({ method: 'POST', url: '/api/trading-state', payload: { state: 'paused' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe('state');
    const missing = await a.app.inject({ method: 'POST', url: '/api/trading-state', payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().field).toBe('state');
  });
});

describe('system routes', () => {
  it('health, ready, feeds, stats, metrics, docs', async () => {
    const a = await make();
    expect((await a.app.inject({ method: 'GET', url: '/api/health' })).json().status).toBe('ok');
    const notReady = await a.app.inject({ method: 'GET', url: '/api/ready' });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json().engine).toBe(false);
    await a.start();
    const ready = await a.app.inject({ method: 'GET', url: '/api/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ ready: true, engine: true, feeds: 'none', persistence: 'memory' });
    expect((await a.app.inject({ method: 'GET', url: '/api/feeds' })).json()).toEqual({ feeds: [] });
    a.flat('BTC-PERP', 50_000);
    const stats = (await a.app.inject({ method: 'GET', url: '/api/stats' })).json();
    expect(stats.stats.updatesTotal).toBe(8); // 4 venues: the harness's first funding of each leg, then its quote
    const metrics = await a.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toMatch(/^perpscan_market_updates_total 8$/m);
    expect(metrics.body).toMatch(/^perpscan_ws_clients 0$/m);
    expect(metrics.body).toMatch(/^perpscan_persistence_backlog 0$/m);
    const docs = await a.app.inject({ method: 'GET', url: '/api/docs/json' });
    expect(docs.statusCode).toBe(200);
    const doc = docs.json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/api/config', '/api/opportunities', '/api/opportunities/history', '/api/positions/{id}', '/api/positions/{id}/close', '/api/trading-state', '/api/ready']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
    expect(doc.paths['/api/config'].put.requestBody).toBeDefined();
  });

  it('serves the built dashboard at / and still 404s unknown API routes with the error body', async () => {
    const a = await make({ staticDir: DEFAULT_STATIC_DIR });
    expect(existsSync(`${DEFAULT_STATIC_DIR}index.html`)).toBe(true); // npm test builds the dashboard first
    const html = await a.app.inject({ method: 'GET', url: '/' });
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toContain('text/html');
    const asset = /(?:src|href)="\.\/(assets\/[^"]+)"/.exec(html.body)?.[1];
    expect(asset).toBeDefined();
    expect((await a.app.inject({ method: 'GET', url: `/${asset}` })).statusCode).toBe(200);
    const missing = await a.app.inject({ method: 'GET', url: '/api/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toBe('not_found');
  });

  it('unknown routes are 404 with the error body', async () => {
    const a = await make();
    const r = await a.app.inject({ method: 'GET', url: '/api/nope' });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ error: 'not_found', field: null });
    expect((await a.app.inject({ method: 'DELETE', url: '/api/config' })).statusCode).toBe(404);
  });
});

describe('auth, rate limit, base path', () => {
  it('mutating routes need the bearer token when API_TOKEN is set; reads do not', async () => {
    const a = await make({ apiToken: 's3cret-token' });
    const none = await a.app.inject({ method: 'PUT', url: '/api/config', payload: { thresholds: { minSpreadBps: 9 } } });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ error: 'unauthorized', field: 'authorization' });
    const wrong = await a.app.inject({ method: 'PUT', url: '/api/config', headers: { authorization: 'Bearer nope' }, payload: { thresholds: { minSpreadBps: 9 } } });
    expect(wrong.statusCode).toBe(401);
    expect(a.config.version).toBe(1);
    for (const [method, url, payload] of [
      ['POST', '/api/trading-state', { state: 'halted' }],
      ['POST', '/api/positions/x/close', {}],
    ] as const) {
      expect((await a.app.inject({ method, url, payload })).statusCode).toBe(401);
    }
    const ok = await a.app.inject({ method: 'PUT', url: '/api/config', headers: { authorization: 'Bearer s3cret-token' }, payload: { thresholds: { minSpreadBps: 9 } } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().version).toBe(2);
    expect((await a.app.inject({ method: 'GET', url: '/api/config' })).statusCode).toBe(200);
    expect((await a.app.inject({ method: 'GET', url: '/api/positions' })).statusCode).toBe(200);
  });

  it('without API_TOKEN mutating routes are open (loopback only; see config tests)', async () => {
    const a = await make();
    const r = await a.app.inject({ method: 'POST', url: '/api/trading-state', payload: { state: 'reducing' } });
    expect(r.statusCode).toBe(200);
    expect(a.strategy.tradingState()).toBe('reducing');
  });

  it('mutating routes are rate-limited', async () => {
    const a = await make({ rateLimit: { max: 3, timeWindowMs: 60_000 } });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await a.app.inject({ method: 'PUT', url: '/api/config', payload: { thresholds: { minSpreadBps: 6 + i } } })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    const limited = await a.app.inject({ method: 'PUT', url: '/api/config', payload: {} });
    expect(limited.json().error).toBe('rate_limited');
    // reads are not limited
    for (let i = 0; i < 10; i++) expect((await a.app.inject({ method: 'GET', url: '/api/config' })).statusCode).toBe(200);
  });

  it('everything is served under BASE_PATH', async () => {
    const a = await make({ basePath: '/perpscan', staticDir: null });
    expect((await a.app.inject({ method: 'GET', url: '/perpscan/api/health' })).statusCode).toBe(200);
    expect((await a.app.inject({ method: 'GET', url: '/perpscan/metrics' })).statusCode).toBe(200);
    expect((await a.app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(404);
    const redirect = await a.app.inject({ method: 'GET', url: '/perpscan' });
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe('/perpscan/');
    expect((await a.app.inject({ method: 'GET', url: '/perpscan/' })).statusCode).toBe(200);
    const docs = (await a.app.inject({ method: 'GET', url: '/perpscan/api/docs/json' })).json();
    expect(docs.servers[0].url).toBe('/perpscan');
  });

  it('honours X-Forwarded-* only when trustProxy is set', async () => {
    for (const trustProxy of [true, false]) {
      const a = await make({ trustProxy });
      a.app.get('/echo-ip', async (req) => ({ ip: req.ip, protocol: req.protocol }));
      const r = await a.app.inject({ method: 'GET', url: '/echo-ip', headers: { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' } });
      expect(r.json()).toEqual(trustProxy ? { ip: '203.0.113.9', protocol: 'https' } : { ip: '127.0.0.1', protocol: 'http' });
    }
  });
});
