/**
 * The REST contract: every route in the OpenAPI document declares its 2xx response, Swagger UI is served
 * (also under BASE_PATH), and every live response matches the schema its route declares — no missing or
 * mistyped field, and no field the schema does not declare. Every operation also declares the errors it can
 * answer (400 naming the field, 401, 403, 404, 408, 421, 429, 503…), all in the one shared shape
 * `ErrorResponseSchema`, and live errors from every source (validation, handlers, the Host/Origin guard,
 * auth, the auth-failure and rate limits, the request timeout, shutdown) match it.
 */
import { connect } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorResponseSchema } from '../../shared/api.js';
import { trackApps, type TestApp } from './harness.js';

const { make, closeAll } = trackApps();
afterEach(closeAll);

interface OpenApiOperation {
  parameters?: unknown[];
  requestBody?: unknown;
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}
type OpenApiDoc = { openapi: string; servers: Array<{ url: string }>; paths: Record<string, Record<string, OpenApiOperation>> };

async function openApi(a: TestApp, base = ''): Promise<OpenApiDoc> {
  const r = await a.app.inject({ method: 'GET', url: `${base}/api/docs/json` });
  expect(r.statusCode).toBe(200);
  return r.json() as OpenApiDoc;
}

/** "GET /api/positions/:id" for every operation in the document. */
function operations(doc: OpenApiDoc): string[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
}

interface CheckedResponse {
  operation: string;
  status: number;
  problems: string[];
}

/** Paths (dotted) present in `actual` but not in `cleaned` (what the schema declares). */
function undeclared(actual: unknown, cleaned: unknown, path = ''): string[] {
  if (typeof actual !== 'object' || actual === null) return [];
  if (Array.isArray(actual)) return actual.flatMap((v, i) => undeclared(v, (cleaned as unknown[])[i], `${path}[${i}]`));
  const out: string[] = [];
  for (const [k, v] of Object.entries(actual)) {
    const c = (cleaned as Record<string, unknown>)[k];
    if (!(k in (cleaned as object))) out.push(`${path}.${k}`);
    else out.push(...undeclared(v, c, `${path}.${k}`));
  }
  return out;
}

/** Checks every response the app sends against the schema its route declares for that status. */
function checkResponses(app: FastifyInstance): CheckedResponse[] {
  const checked: CheckedResponse[] = [];
  app.addHook('onSend', async (request, reply, payload) => {
    const route = request.routeOptions;
    const schema = route.schema as { hide?: boolean; response?: Record<string, TSchema> } | undefined;
    if (!route.url || schema?.hide) return payload; // Swagger UI assets, /ws, the dashboard, 404s
    const operation = `${request.method} ${route.url}`;
    const declared = schema?.response?.[String(reply.statusCode)] ?? schema?.response?.[`${String(reply.statusCode)[0]}xx`];
    const problems: string[] = [];
    if (!declared) problems.push(`no response schema for ${reply.statusCode}`);
    else {
      const json = String(reply.getHeader('content-type') ?? '').includes('json');
      const body: unknown = json ? JSON.parse(String(payload)) : String(payload);
      for (const e of Value.Errors(declared, body)) problems.push(`${e.instancePath || '(root)'}: ${e.message}`);
      const cleaned = Value.Clean(declared, structuredClone(body));
      if (!isDeepStrictEqual(cleaned, body)) problems.push(`undeclared fields: ${undeclared(body, cleaned).slice(0, 5).join(', ')}`);
    }
    checked.push({ operation, status: reply.statusCode, problems: problems.slice(0, 5) });
    return payload;
  });
  return checked;
}

describe('OpenAPI document and Swagger UI', () => {
  it('every route declares a 2xx response schema', async () => {
    const a = await make();
    const doc = await openApi(a);
    expect(doc.openapi).toMatch(/^3\./);
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThanOrEqual(17);
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const ok = Object.entries(op.responses ?? {}).filter(([status]) => /^2/.test(status));
        expect(ok.length, `${method} ${path} declares a 2xx response`).toBeGreaterThan(0);
        for (const [status, response] of ok) {
          const media = Object.values(response.content ?? {});
          expect(media.length, `${method} ${path} ${status} has a body schema`).toBeGreaterThan(0);
          for (const m of media) expect(m.schema, `${method} ${path} ${status}`).toMatchObject({ type: expect.any(String) });
        }
      }
    }
    // The shapes are real schemas, not "anything".
    const positions = doc.paths['/api/positions'].get.responses!['200'].content!['application/json'].schema as { properties: Record<string, unknown> };
    expect(positions.properties.positions).toMatchObject({ type: 'array', items: { type: 'object', properties: { long: { type: 'object' } } } });
  });

  it('serves Swagger UI at /api/docs and the document at /api/docs/json, under BASE_PATH too', async () => {
    for (const base of ['', '/perpscan']) {
      const a = await make({ basePath: base });
      const html = await a.app.inject({ method: 'GET', url: `${base}/api/docs` });
      expect(html.statusCode).toBe(200);
      expect(html.headers['content-type']).toContain('text/html');
      expect(html.body).toContain('swagger-ui');
      // Every script, stylesheet and icon the page names resolves (from the page's URL) under the base path.
      const assets = [...html.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => new URL(m[1], `http://127.0.0.1${base}/api/docs`).pathname);
      expect(assets.length).toBeGreaterThanOrEqual(5);
      for (const asset of assets) {
        expect(asset.startsWith(`${base}/api/docs/`), asset).toBe(true);
        expect((await a.app.inject({ method: 'GET', url: asset })).statusCode, asset).toBe(200);
      }
      const init = await a.app.inject({ method: 'GET', url: `${base}/api/docs/static/swagger-initializer.js` });
      expect(init.body).toContain("resolveUrl('./json')");
      const doc = await openApi(a, base);
      expect(doc.servers[0].url).toBe(base || '/');
      expect(Object.keys(doc.paths)).toContain('/api/positions/{id}');
      expect(Object.keys(doc.paths).every((p) => !p.startsWith('/perpscan'))).toBe(true);
    }
  });
});

/** Statuses any operation can answer, and what a mutating one adds (server/api/error-responses.ts). */
const EVERY_OPERATION = ['408', '421', '500', '503'];
const MUTATING = ['400', '401', '403', '413', '415', '429'];

describe('error responses', () => {
  it('every operation declares the errors it can answer, each in the shared error shape', async () => {
    const a = await make();
    const doc = await openApi(a);
    let declared = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const name = `${method.toUpperCase()} ${path}`;
        const statuses = Object.keys(op.responses ?? {});
        const expected = [...EVERY_OPERATION];
        if (method === 'post' || method === 'put') expected.push(...MUTATING);
        if ((op.parameters ?? []).length > 0 || op.requestBody) expected.push('400');
        if (/\{(id|venue)\}/.test(path)) expected.push('404');
        for (const status of expected) expect(statuses, `${name} declares ${status}`).toContain(status);
        for (const status of statuses.filter((s) => /^[45]/.test(s))) {
          const response = op.responses![status];
          expect(response.description, `${name} ${status} says what it means`).not.toMatch(/^(Default Response)?$/);
          const schema = response.content?.['application/json']?.schema as { anyOf?: unknown[]; $ref?: string } | undefined;
          expect(schema, `${name} ${status} has a JSON body`).toBeDefined();
          // /ready's 503 is "not ready" (a Readiness body) or "shutting down" (the error body).
          const variants = (schema!.anyOf ?? [schema]) as Array<{ $ref?: string; properties?: Record<string, unknown>; required?: string[] }>;
          const resolved = variants.map((v) => (v.$ref ? (doc as unknown as { components: { schemas: Record<string, typeof v> } }).components.schemas[v.$ref.split('/').pop()!] : v));
          const errorShape = resolved.find((v) => v.properties && 'error' in v.properties);
          expect(errorShape, `${name} ${status} is the shared error shape`).toMatchObject({
            type: 'object',
            required: expect.arrayContaining(['error', 'field', 'message']),
            properties: { error: { type: 'string' }, message: { type: 'string' } },
          });
          expect(Object.keys(errorShape!.properties!).sort()).toEqual(Object.keys(ErrorResponseSchema.properties).sort());
          declared++;
        }
      }
    }
    expect(declared).toBeGreaterThanOrEqual(17 * EVERY_OPERATION.length);
  });

  it('live errors from every source — validation, handlers, Host, Origin, auth, the limits, not found, shutdown — match the shared shape', async () => {
    const token = 'a-test-token-that-is-long-enough-000000';
    const a = await make({ apiToken: token, authFailures: { max: 3, windowMs: 60_000 }, rateLimit: { max: 4, timeWindowMs: 60_000 } });
    const checked = checkResponses(a.app);
    const auth = { authorization: `Bearer ${token}` };
    const errors: Array<{ status: number; body: unknown }> = [];
    const send = async (opts: InjectOptions) => {
      const r = await a.app.inject(opts);
      if (r.statusCode >= 400) errors.push({ status: r.statusCode, body: r.json() });
      return { status: r.statusCode, body: r.statusCode >= 400 ? (r.json() as { error: string; field: string | null }) : null };
    };

    expect(await send({ method: 'GET', url: '/api/opportunities?limit=0' })).toMatchObject({ status: 400, body: { error: 'validation', field: 'querystring.limit' } });
    expect(await send({ method: 'PUT', url: '/api/config', headers: auth, payload: { thresholds: { minSpreadBps: 'x' } } })).toMatchObject({ status: 400, body: { field: 'thresholds.minSpreadBps' } });
    expect(a.config.version).toBe(1);
    expect(await send({ method: 'POST', url: '/api/feeds/nowhere/restart', headers: auth, payload: {} })).toMatchObject({ status: 400, body: { field: 'venue' } });
    expect(await send({ method: 'PUT', url: '/api/config', payload: { thresholds: { minSpreadBps: 6 } } })).toMatchObject({ status: 401, body: { error: 'unauthorized', field: 'authorization' } });
    expect(await send({ method: 'POST', url: '/api/trading-state', headers: { ...auth, origin: 'https://attacker.example' }, payload: { state: 'halted' } })).toMatchObject({ status: 403, body: { field: 'origin' } });
    expect(await send({ method: 'GET', url: '/api/positions/nope' })).toMatchObject({ status: 404, body: { error: 'not_found', field: 'id' } });
    expect(await send({ method: 'POST', url: '/api/positions/nope/close', headers: auth, payload: {} })).toMatchObject({ status: 404, body: { field: 'id' } });
    expect(await send({ method: 'GET', url: '/api/no-such-route' })).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect(await send({ method: 'GET', url: '/api/health', headers: { host: 'attacker.example' } })).toMatchObject({ status: 421, body: { field: 'host' } });
    expect(await send({ method: 'PUT', url: '/api/config', headers: { ...auth, 'content-type': 'application/xml' }, payload: '<x/>' })).toMatchObject({ status: 415 });
    expect(await send({ method: 'PUT', url: '/api/config', headers: { ...auth, 'content-type': 'application/json' }, payload: `{"x":"${'y'.repeat(300_000)}"}` })).toMatchObject({ status: 413 });
    // Wrong tokens: 401 each, then the address is refused (429) whatever it sends.
    for (let i = 0; i < 3; i++) expect((await send({ method: 'POST', url: '/api/trading-state', headers: { authorization: 'Bearer wrong' }, payload: { state: 'halted' } })).status).toBe(401);
    expect(await send({ method: 'POST', url: '/api/trading-state', headers: auth, payload: { state: 'halted' } })).toMatchObject({ status: 429, body: { error: 'rate_limited', field: 'authorization' } });
    expect(a.strategy.tradingState()).toBe('active');

    // The per-route rate limit (another address: the auth-failure block is per address).
    const rate = await make({ rateLimit: { max: 2, timeWindowMs: 60_000 } });
    const rateChecked = checkResponses(rate.app);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await rate.app.inject({ method: 'POST', url: '/api/trading-state', payload: { state: 'active' } });
      statuses.push(r.statusCode);
      if (r.statusCode >= 400) errors.push({ status: r.statusCode, body: r.json() });
    }
    expect(statuses).toEqual([200, 200, 429]);

    // A request that arrives while the server shuts down (real HTTP: the server still listens during preClose).
    const closingApp = await make();
    const closingChecked = checkResponses(closingApp.app);
    closingApp.app.addHook('preClose', async () => {
      const r = await fetch(`http://127.0.0.1:${(closingApp.app.server.address() as { port: number }).port}/api/portfolio`);
      errors.push({ status: r.status, body: await r.json() });
    });
    await closingApp.app.listen({ host: '127.0.0.1', port: 0 });
    await closingApp.app.close();
    expect(errors.at(-1)).toMatchObject({ status: 503, body: { error: 'shutting_down' } });

    for (const e of errors) expect([...Value.Errors(ErrorResponseSchema, e.body)], `${e.status} ${JSON.stringify(e.body)}`).toEqual([]);
    expect([...new Set(errors.map((e) => e.status))].sort()).toEqual([400, 401, 403, 404, 413, 415, 421, 429, 503]);
    // …and each matched the schema its route declares for that status.
    const all = [...checked, ...rateChecked, ...closingChecked];
    expect(all.filter((c) => c.problems.length > 0), JSON.stringify(all.filter((c) => c.problems.length > 0), null, 1)).toEqual([]);
    expect(all.filter((c) => c.status >= 400).length).toBeGreaterThanOrEqual(errors.length - 1); // all but the unrouted 404
  });

  it('a request that does not arrive in time gets 408 in the shared shape', async () => {
    const a = await make({ http: { requestTimeoutMs: 1000, headersTimeoutMs: 1000 } });
    await a.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (a.app.server.address() as { port: number }).port;
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      const drip = setInterval(() => socket.writable && socket.write(' '), 200);
      socket.on('connect', () => socket.write(`PUT /api/config HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`));
      socket.on('data', (d) => (text += d.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(drip);
        resolve(text);
      });
      setTimeout(() => reject(new Error('no 408 within 8 s')), 8000).unref();
    });
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(reply).toMatch(/content-type: application\/json/i);
    const body: unknown = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4));
    expect([...Value.Errors(ErrorResponseSchema, body)]).toEqual([]);
    expect(body).toMatchObject({ error: 'request_timeout', field: null });
    expect(a.config.version).toBe(1);
  }, 15_000);
});

describe('live responses match their declared schemas', () => {
  it('every documented operation, with real positions, fills, rejections, history and feeds', async () => {
    const a = await make({ start: false });
    const checked = checkResponses(a.app);
    const call = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => (await a.app.inject({ method, url, payload })).statusCode;

    expect(await call('GET', '/api/ready')).toBe(503); // not started: the 503 body is declared too
    await a.start();
    a.strategy.stop(); // stepped by hand below
    a.flat('BTC-PERP', 50_000);
    a.flat('ETH-PERP', 3000);
    a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 80);
    a.spread('ETH-PERP', 'kucoin', 'binance', 3000, 70);
    for (let i = 0; i < 20 && a.strategy.positions().filter((p) => p.state === 'open').length < 2; i++) {
      a.strategy.step(Date.now());
      await new Promise((r) => setTimeout(r, 10));
    }
    const [first] = a.strategy.positions();
    expect(first).toBeDefined();
    a.flat('ETH-PERP', 3000); // closes an opportunity: history has an entry
    await a.persistence.flush();
    a.strategy.setTradingState('reducing');
    a.spread('SOL-PERP', 'bybit', 'binance', 150, 90);
    a.strategy.step(Date.now()); // a rejection

    for (const url of ['/api/config', '/api/opportunities', '/api/opportunities/history', '/api/positions', '/api/positions?state=open', `/api/positions/${encodeURIComponent(first.id)}`,
      '/api/trades', '/api/portfolio', '/api/rejections', '/api/trading-state', '/api/feeds', '/api/funding', '/api/health', '/api/ready', '/api/stats', '/metrics']) {
      expect(await call('GET', url), url).toBe(200);
    }
    expect(await call('GET', '/api/positions/nope')).toBe(404);
    expect(await call('PUT', '/api/config', { thresholds: { minSpreadBps: 6 } })).toBe(200);
    expect(await call('PUT', '/api/config', { thresholds: { minSpreadBps: 'x' } })).toBe(400);
    expect(await call('POST', `/api/positions/${encodeURIComponent(first.id)}/close`, {})).toBe(200);
    expect(await call('POST', '/api/trading-state', { state: 'active' })).toBe(200);
    // Alerts (issue 13 §4): rules and sinks, and a test alert (no sink configured: an empty result list).
    expect(await call('PUT', '/api/alerts', { rules: [{ id: 'r1', events: ['feed_down'] }], sinks: [] })).toBe(200);
    expect(await call('PUT', '/api/alerts', { rules: [{ id: 'r1', cooldownMs: -1 }] })).toBe(400);
    expect(await call('GET', '/api/alerts')).toBe(200);
    expect(await call('POST', '/api/alerts/test', {})).toBe(200);
    expect(await call('GET', '/api/opportunities?limit=0')).toBe(400);
    // Funding history (issue 13 §2): a settlement in the store, the range read back, a bad range refused.
    a.fundingHistory.add({ instrument: 'BTC-PERP', venue: 'bybit', settle: 'USDT' }, [{ timeMs: Date.now() - 3_600_000, rate: 0.0001, intervalMs: 3_600_000 }]);
    expect(await call('GET', '/api/funding/history?instrument=BTC-PERP')).toBe(200);
    expect(await call('GET', '/api/funding/history?instrument=BTC-PERP&from=2&to=1')).toBe(400);
    expect(await call('GET', '/api/funding/history/status')).toBe(200);

    // Non-empty lists were checked, not just empty envelopes.
    const body = async (url: string) => (await a.app.inject({ method: 'GET', url })).json();
    expect((await body('/api/positions')).positions.length).toBeGreaterThan(0);
    expect((await body('/api/trades')).fills.length).toBeGreaterThan(0);
    expect((await body('/api/rejections')).rejections.length).toBeGreaterThan(0);
    expect((await body('/api/opportunities/history')).history.length).toBeGreaterThan(0);
    expect((await body('/api/opportunities')).opportunities.length).toBeGreaterThan(0);

    // Feed states from the real simulator (sockets on 127.0.0.1).
    const fed = await make({ feeds: { simulator: { seed: 3, messagesPerSec: 200 } }, start: true });
    const fedChecked = checkResponses(fed.app);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (await fed.app.inject({ method: 'GET', url: '/api/ready' })).statusCode !== 200) await new Promise((r) => setTimeout(r, 200));
    for (const url of ['/api/feeds', '/api/feeds/funding-check', '/api/feeds/depth', '/api/ready', '/api/stats', '/api/opportunities']) expect((await fed.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    expect((await fed.app.inject({ method: 'GET', url: '/api/feeds' })).json().feeds).toHaveLength(4);
    // Restarting a feed (a route of the feed-health work; exercised whenever the server has it).
    if (operations(await openApi(fed)).includes('POST /api/feeds/:venue/restart')) {
      expect((await fed.app.inject({ method: 'POST', url: '/api/feeds/bybit/restart', payload: {} })).statusCode).toBe(200);
    }

    const all = [...checked, ...fedChecked];
    const failures = all.filter((c) => c.problems.length > 0);
    expect(failures, JSON.stringify(failures, null, 1)).toEqual([]);
    const covered = new Set(all.filter((c) => c.status < 300).map((c) => c.operation));
    const documented = operations(await openApi(a));
    expect(documented.filter((op) => !covered.has(op)), 'documented operations never exercised').toEqual([]);
    expect(all.some((c) => c.status === 400) && all.some((c) => c.status === 404) && all.some((c) => c.status === 503)).toBe(true);
  }, 40_000);
});
