/**
 * What an edge serves beyond the engine's live state, over a real Redis: the engine's funding board (the
 * same JSON, filters included, following changes), funding history relayed to the engine (downloads keep
 * their file name), /api/alerts read from the mirrored view with secrets masked exactly as the engine masks
 * them (the raw secret never reaches Redis's cluster keys), alert mutations relayed (a rule created through
 * one edge is on the engine and on the other edge; 400s naming the field; 401; 503 without an engine), and
 * the engine's trading counters in the edge's /metrics. After a takeover the edge serves the next engine's board.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { AlertsResponse, AlertTestResult } from '../../shared/alerts.js';
import type { Exchange } from '../../shared/exchanges.js';
import type { FundingResponse } from '../../shared/funding.js';
import type { FundingHistoryResponse } from '../../shared/funding-history.js';
import type { PerpscanEdge } from '../../server/cluster/edge.js';
import { clusterKeys } from '../../server/cluster/keys.js';
import { nowUs } from '../../server/engine/index.js';
import { startSinkServer, type SinkServer } from '../alerts/sink-server.js';
import { describeWith, REDIS_URL } from '../helpers/services.js';
import { deletePrefix, uniquePrefix, waitFor } from '../persistence/helpers.js';
import { json, startTestEdge, startTestEngine, type TestEngine } from './helpers.js';

const TOKEN = 'cluster-edge-api-token-0123456789abcdef';
const H = 3_600_000;
const HOOK_SECRET = 'hooks/T0/secretHookPathQ7zz';

describeWith(['redis'], 'cluster edge: funding board, funding history, alerts and metrics', () => {
  let prefix: string;
  let redis: Redis;
  let engine: TestEngine | null = null;
  const edges: PerpscanEdge[] = [];
  const sinks: SinkServer[] = [];

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    for (const e of edges.splice(0)) await e.close();
    await engine?.close();
    engine = null;
    for (const s of sinks.splice(0)) await s.close();
    await deletePrefix(REDIS_URL, prefix);
  });
  afterAll(() => redis.disconnect());

  const start = async (nEdges = 1) => {
    prefix = uniquePrefix('cluster-edge-api');
    engine = await startTestEngine(REDIS_URL, prefix, { apiToken: TOKEN });
    const urls: string[] = [];
    for (let i = 0; i < nEdges; i++) {
      const { edge, url } = await startTestEdge(REDIS_URL, prefix, { apiToken: TOKEN });
      edges.push(edge);
      await edge.mirror.whenSynced();
      urls.push(url);
    }
    return { engine, urls };
  };
  const engineGet = async <T>(e: TestEngine, url: string): Promise<T> => {
    const r = await e.perpscan.app.inject({ method: 'GET', url });
    expect(r.statusCode, r.body).toBe(200);
    return r.json() as T;
  };
  const fund = (e: TestEngine, key: string, ex: Exchange, rate: number, intervalMs: number) => {
    const id = e.perpscan.engine.instruments.idFor(key, ex);
    expect(id).toBeGreaterThanOrEqual(0);
    const now = Date.now();
    e.perpscan.engine.pushFunding(id, rate, intervalMs, (Math.floor(now / intervalMs) + 1) * intervalMs, false, now, nowUs());
    e.perpscan.engine.drain();
  };
  /** The board without its clock (each process answers with its own). */
  const board = (b: FundingResponse) => ({ ...b, nowMs: 0 });

  it('serves the engine\'s funding board (same rows, filters, changes) and relays funding history', async () => {
    const { engine: first, urls } = await start();
    const [url] = urls;
    let current = first;
    fund(first, 'BTC-PERP', 'bybit', 0.0001, 1 * H);
    fund(first, 'BTC-PERP', 'okx', 0.0002, 4 * H);
    fund(first, 'BTC-PERP', 'kucoin', -0.0003, 8 * H);
    fund(first, 'ETH-PERP', 'binance', 0.00005, 8 * H);
    fund(first, 'ETH-PERP', 'okx', 0.0001, 8 * H);

    const same = async (query: string): Promise<FundingResponse> => {
      const want = await engineGet<FundingResponse>(current, `/api/funding${query}`);
      let got: { status: number; body: FundingResponse } | null = null;
      await waitFor(async () => {
        got = await json<FundingResponse>(`${url}/api/funding${query}`);
        return got.status === 200 && JSON.stringify(board(got.body)) === JSON.stringify(board(want));
      }, 5000, `edge board ${query}`).catch((err: Error) => {
        throw new Error(`${err.message}: edge ${JSON.stringify(got?.body)} vs engine ${JSON.stringify(want)}`);
      });
      const body = (got as unknown as { body: FundingResponse }).body;
      expect(Math.abs(body.nowMs - Date.now())).toBeLessThan(5000); // the edge's own clock (the dashboard estimates its offset from it)
      return body;
    };
    const all = await same('');
    expect(all.count).toBe(5);
    const btc = await same('?instrument=BTC-PERP');
    // Short the richest leg (bybit: 8 bps per 8 h), long the cheapest (kucoin: −3).
    expect(btc.rows.map((r) => [r.venue, r.bestCarry])).toEqual([['bybit', 'short'], ['kucoin', 'long'], ['okx', null]]);
    // Filtered to one venue, the best carry is still computed over all of the instrument's legs (as on the engine).
    const okx = await same('?venue=okx');
    expect(okx.rows.map((r) => [r.instrument, r.bestCarry, r.bestCarry8hBps])).toEqual([['BTC-PERP', null, btc.rows[0].bestCarry8hBps], ['ETH-PERP', 'short', 0.5]]);
    expect((await same('?instrument=ETH-PERP&minOpenInterestUsd=1')).count).toBe(0); // no open interest known: nothing passes
    expect((await json<{ field: string }>(`${url}/api/funding?venue=nowhere`)).status).toBe(400);

    // A change on the engine reaches the edge (a new board is written and announced).
    fund(first, 'BTC-PERP', 'bybit', 0.0009, 1 * H);
    const changed = await same('?instrument=BTC-PERP');
    expect(changed.rows.find((r) => r.venue === 'bybit')!.rate8hBps).toBeCloseTo(72, 9);

    // Funding history lives in the engine's memory: relayed, the same answer, downloads keep their file name.
    const t0 = Date.now() - 24 * H;
    first.perpscan.fundingHistory.add({ instrument: 'BTC-PERP', venue: 'okx', settle: 'USDT' }, [
      { timeMs: t0, rate: 0.0001, intervalMs: 8 * H },
      { timeMs: t0 + 8 * H, rate: -0.0002, intervalMs: 8 * H },
    ]);
    const q = `/api/funding/history?instrument=BTC-PERP&from=${t0 - H}&to=${t0 + 9 * H}`;
    const hist = await json<FundingHistoryResponse>(`${url}${q}`);
    expect(hist.status).toBe(200);
    expect(hist.body).toEqual(await engineGet<FundingHistoryResponse>(first, q));
    expect(hist.body.series.find((s) => s.venue === 'okx')!.points.map((p) => p.rateIntervalBps)).toEqual([1, -2]);
    const csv = await fetch(`${url}${q}&format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="perpscan-funding-history-.*\.csv"/);
    expect((await csv.text()).split('\n').filter((l) => l.includes('okx'))).toHaveLength(2);
    const status = await json<unknown>(`${url}/api/funding/history/status`);
    expect(status).toEqual({ status: 200, body: await engineGet<unknown>(first, '/api/funding/history/status') });
    // Validated on the edge first, like a mutation.
    expect((await json<{ field: string }>(`${url}/api/funding/history?instrument=BTC-PERP&from=5&to=1`)).body.field).toBe('querystring.from');

    await first.close();
    engine = null;
    expect((await json(`${url}${q}`)).status).toBe(503);
    // The board is a mirrored read: still served (its last state) while no engine is active.
    expect((await json<FundingResponse>(`${url}/api/funding`)).body.count).toBe(5);

    // The next engine (a new fencing token) writes its own board; the edge takes it with the new snapshot.
    engine = current = await startTestEngine(REDIS_URL, prefix, { apiToken: TOKEN });
    fund(current, 'SOL-PERP', 'binance', 0.0004, 4 * H);
    const next = await same('');
    expect(next.rows.map((r) => [r.instrument, r.venue])).toEqual([['SOL-PERP', 'binance']]);
    expect(edges[0].mirror.fundingBoard()?.token).toBe(current.token);
  });

  it('alerts: a rule created through one edge is on the engine and the other edge; secrets masked as the engine masks them; 400s, 401, 503', async () => {
    const { engine, urls } = await start(2);
    const [url1, url2] = urls;
    const hook = await startSinkServer();
    sinks.push(hook);
    const rawUrl = `${hook.base}/${HOOK_SECRET}`;
    const body = { enabled: true, rules: [{ id: 'big', name: 'big carry', minAprPct: 50, sinks: ['hook'] }], sinks: [{ id: 'hook', kind: 'webhook', url: rawUrl }] };

    expect((await json(`${url1}/api/alerts`, { method: 'PUT', body })).status).toBe(401);
    const put = await json<AlertsResponse>(`${url1}/api/alerts`, { method: 'PUT', body, token: TOKEN });
    expect(put.status).toBe(200);
    expect(put.body.config.rules.map((r) => r.id)).toEqual(['big']);
    expect(engine.perpscan.alerts.config.rules.map((r) => [r.id, r.minAprPct])).toEqual([['big', 50]]);

    const onEngine = await engineGet<AlertsResponse>(engine, '/api/alerts');
    const maskedUrl = (onEngine.config.sinks[0] as { url: string }).url;
    expect(maskedUrl).not.toContain(HOOK_SECRET);
    for (const url of [url1, url2]) {
      await waitFor(async () => JSON.stringify((await json<AlertsResponse>(`${url}/api/alerts`)).body.config) === JSON.stringify(onEngine.config), 5000, `alerts on ${url}`);
      const got = await json<AlertsResponse>(`${url}/api/alerts`);
      expect(got.body.config).toEqual(onEngine.config);
      expect(JSON.stringify(got.body)).not.toContain(HOOK_SECRET);
    }
    // The raw secret never reaches the cluster keys (snapshot hash, event stream).
    const k = clusterKeys(prefix);
    await waitFor(async () => ((await redis.hget(k.snapshot, 'alerts')) ?? '').includes('"big"'), 5000, 'the snapshot has the rule');
    const snapshot = await redis.hgetall(k.snapshot);
    expect(JSON.stringify(snapshot)).not.toContain(HOOK_SECRET);
    expect(JSON.stringify(await redis.xrange(k.events, '-', '+'))).not.toContain(HOOK_SECRET);

    // A masked value sent back through the other edge keeps the engine's stored secret.
    const back = await json<AlertsResponse>(`${url2}/api/alerts`, { method: 'PUT', body: { ...onEngine.config, rules: [...onEngine.config.rules, { id: 'second', minProfitBps: 20 }] }, token: TOKEN });
    expect(back.status).toBe(200);
    expect((engine.perpscan.alerts.config.sinks[0] as { url: string }).url).toBe(rawUrl);
    await waitFor(async () => (await json<AlertsResponse>(`${url1}/api/alerts`)).body.config.rules.length === 2, 5000, 'edge 1 sees the second rule');

    // 400s naming the field: the edge's own schema, and the engine's validation (relayed). Nothing changes.
    const badType = await json<{ error: string; field: string }>(`${url1}/api/alerts`, { method: 'PUT', body: { enabled: 'yes' }, token: TOKEN });
    expect(badType.status).toBe(400);
    expect(badType.body.field).toContain('enabled');
    const badRule = await json<{ error: string; field: string }>(`${url1}/api/alerts`, { method: 'PUT', body: { rules: [{ id: 'x', minAprPct: 'high' }] }, token: TOKEN });
    expect(badRule).toMatchObject({ status: 400, body: { error: 'invalid_alerts', field: 'rules.0.minAprPct' } });
    const badSink = await json<{ field: string }>(`${url2}/api/alerts`, { method: 'PUT', body: { sinks: [{ id: 'h', kind: 'webhook', url: 'ftp://x' }] }, token: TOKEN });
    expect(badSink).toMatchObject({ status: 400, body: { field: 'sinks.0.url' } });
    expect(engine.perpscan.alerts.config.rules.map((r) => r.id)).toEqual(['big', 'second']);

    // A test send through an edge runs on the engine (which holds the secret) and reaches the sink.
    const sent = await json<{ results: AlertTestResult[] }>(`${url2}/api/alerts/test`, { method: 'POST', body: {}, token: TOKEN });
    expect(sent.status).toBe(200);
    expect(sent.body.results.map((r) => [r.id, r.ok])).toEqual([['hook', true]]);
    const [arrived] = await hook.waitFor(1, 5000);
    expect(arrived.path).toBe(`/${HOOK_SECRET}`);
    expect((await json<{ field: string }>(`${url1}/api/alerts/test`, { method: 'POST', body: { sinks: ['nope'] }, token: TOKEN })).body.field).toBe('sinks.0');

    await engine.close();
    const away = await json<{ error: string; message: string }>(`${url1}/api/alerts`, { method: 'PUT', body, token: TOKEN });
    expect(away).toMatchObject({ status: 503, body: { error: 'engine_unavailable' } });
    expect(away.body.message).toMatch(/no engine is active/);
    // Reads stay served from the mirror.
    expect((await json<AlertsResponse>(`${url2}/api/alerts`)).body.config.rules).toHaveLength(2);
  });

  it('an edge\'s /metrics carries the engine\'s trading counters', async () => {
    const { engine, urls } = await start();
    const a = engine.perpscan;
    a.flat('BTC-PERP', 50_000);
    a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 80);
    a.strategy.start();
    for (let i = 0; i < 20 && a.strategy.fillCounts().length === 0; i++) {
      a.strategy.step(Date.now());
      await new Promise((r) => setTimeout(r, 10));
    }
    a.strategy.stop();
    const fills = a.strategy.fillCounts();
    expect(fills.length).toBeGreaterThan(0);
    a.strategy.setTradingState('halted');
    a.spread('ETH-PERP', 'kucoin', 'binance', 3_000, 90);
    a.strategy.step(Date.now());
    const rejections = a.strategy.rejectionCounts();
    expect(Object.keys(rejections).length).toBeGreaterThan(0);

    const lines = (text: string) => text.split('\n').filter((l) => /^perpscan_(fills|risk_rejections)_total\{/.test(l)).sort();
    const want = lines((await a.app.inject({ method: 'GET', url: '/metrics' })).body);
    expect(want.length).toBe(fills.length + Object.keys(rejections).length);
    let got: string[] = [];
    await waitFor(async () => {
      got = lines(await (await fetch(`${urls[0]}/metrics`)).text());
      return JSON.stringify(got) === JSON.stringify(want);
    }, 5000, 'edge metrics').catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
    });
  });
});
