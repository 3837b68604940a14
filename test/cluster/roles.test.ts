/**
 * ROLE=engine + ROLE=edge over a real Redis and real sockets: an edge serves the engine's opportunities
 * (REST and /ws), proves no gap and no duplicate by sequence (a gap is filled from the stream, a trimmed
 * one brings a fresh snapshot, a replayed batch is dropped), and relays mutations with the engine's
 * answers, 400s naming the field, 401 on the edge, and 503 when no engine is active.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { VersionedConfig } from '../../shared/config.js';
import type { Opportunity } from '../../shared/opportunity.js';
import { clusterKeys } from '../../server/cluster/keys.js';
import { LuaScript } from '../../server/cluster/lua.js';
import { PUBLISH_EVENTS } from '../../server/cluster/scripts.js';
import type { PerpscanEdge } from '../../server/cluster/edge.js';
import { StreamTestClient } from '../api/ws-client.js';
import { describeWith, REDIS_URL } from '../helpers/services.js';
import { deletePrefix, uniquePrefix, waitFor } from '../persistence/helpers.js';
import { json, startTestEdge, startTestEngine, type TestEngine } from './helpers.js';

const TOKEN = 'cluster-test-token-0123456789abcdef0123';

describeWith(['redis'], 'cluster roles: engine and edge over Redis', () => {
  let prefix: string;
  let redis: Redis;
  let engine: TestEngine | null = null;
  let edges: PerpscanEdge[] = [];
  const sockets: StreamTestClient[] = [];

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.ws.terminate();
    for (const e of edges.splice(0)) await e.close();
    await engine?.close();
    engine = null;
    await deletePrefix(REDIS_URL, prefix);
  });
  afterAll(() => redis.disconnect());

  const start = async (opts: { token?: string } = {}) => {
    prefix = uniquePrefix('cluster-roles');
    engine = await startTestEngine(REDIS_URL, prefix, { apiToken: opts.token ?? null });
    const { edge, url } = await startTestEdge(REDIS_URL, prefix, { apiToken: opts.token ?? null });
    edges.push(edge);
    await edge.mirror.whenSynced();
    return { engine, edge, url };
  };
  const ids = (list: Opportunity[]) => list.map((o) => o.id).sort();

  it('serves the engine\'s opportunities over REST and /ws, live', async () => {
    const { engine, edge, url } = await start();
    engine.perpscan.spread('BTC-PERP', 'okx', 'bybit', 60_000, 40);
    expect(engine.perpscan.engine.opportunities().length).toBeGreaterThan(0);
    await waitFor(() => edge.mirror.opportunities().length === engine.perpscan.engine.opportunities().length, 5000, 'edge has the opportunity');
    const rest = await json<{ count: number; opportunities: Opportunity[] }>(`${url}/api/opportunities`);
    expect(rest.status).toBe(200);
    expect(rest.body.opportunities).toEqual(engine.perpscan.engine.opportunities().slice().sort((a, b) => b.projectedProfitBps - a.projectedProfitBps || a.id.localeCompare(b.id)));

    const ws = await StreamTestClient.connect(`${url.replace('http', 'ws')}/ws`);
    sockets.push(ws);
    expect(ids(ws.snapshots()[0].opportunities)).toEqual(ids(engine.perpscan.engine.opportunities()));
    engine.perpscan.spread('ETH-PERP', 'kucoin', 'binance', 3_000, 50);
    await ws.waitFor(() => ws.opportunityEvents().some((m) => m.event === 'opened' && m.opportunity.instrument === 'ETH-PERP'));
    expect(ws.violations).toEqual([]);
    expect(ids(edge.mirror.opportunities())).toEqual(ids(engine.perpscan.engine.opportunities()));
    expect(edge.mirror.stats).toMatchObject({ gaps: 0, duplicates: 0 });
  });

  it('fills a gap from the stream, drops a replayed batch, and takes a fresh snapshot when the gap was trimmed', async () => {
    const { engine, edge } = await start();
    expect(edge.mirror.stats).toMatchObject({ gaps: 0, gapsFilled: 0, duplicates: 0 }); // subscribed before the snapshot: nothing missed
    const k = clusterKeys(prefix);
    const streamOnly = new LuaScript(PUBLISH_EVENTS);
    const stats = engine.perpscan.engineStats();
    // A batch that reaches the stream but not the live channel: the edge sees the gap at the next live batch.
    await streamOnly.run(redis, [k.fence, k.seq, k.events, `${k.live}:nobody`], [engine.token, 1, JSON.stringify([{ t: 'stats', e: { ...stats, updatesTotal: 424242 } }]), 1000]);
    engine.perpscan.spread('BTC-PERP', 'okx', 'bybit', 60_000, 40);
    await waitFor(() => edge.mirror.stats.gapsFilled === 1 && edge.mirror.opportunities().length > 0, 5000, 'gap filled').catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(edge.mirror.stats)}, ${edge.mirror.opportunities().length} opportunities`);
    });
    expect(edge.mirror.stats.gaps).toBe(1);
    const snapshotsBefore = edge.mirror.stats.snapshots;

    // The same payload published again: every event in it is a duplicate.
    const [[, fields]] = (await redis.xrevrange(k.events, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
    const replayed = JSON.parse(fields[1]) as { events: unknown[] };
    await redis.publish(k.live, fields[1]);
    await waitFor(() => edge.mirror.stats.duplicates === replayed.events.length, 5000, 'duplicates dropped');

    // A gap whose events the stream no longer holds: only a fresh snapshot can repair it.
    await streamOnly.run(redis, [k.fence, k.seq, k.events, `${k.live}:nobody`], [engine.token, 1, JSON.stringify([{ t: 'stats', e: stats }]), 1000]);
    const [[lostId]] = (await redis.xrevrange(k.events, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
    await redis.xdel(k.events, lostId);
    engine.perpscan.spread('ETH-PERP', 'kucoin', 'binance', 3_000, 50);
    await waitFor(() => edge.mirror.stats.snapshots > snapshotsBefore && ids(edge.mirror.opportunities()).join() === ids(engine.perpscan.engine.opportunities()).join(), 5000, 'fresh snapshot after a trimmed gap');
    expect(edge.mirror.stats.gaps).toBe(2);
    expect(edge.mirror.stats.gapsFilled).toBe(1);
  });

  it('relays mutations: the engine\'s answer, 400s naming the field, 401 on the edge, 503 without an engine', async () => {
    const { engine, edge, url } = await start({ token: TOKEN });
    const put = await json<VersionedConfig>(`${url}/api/config`, { method: 'PUT', body: { thresholds: { minSpreadBps: 7 } }, token: TOKEN });
    expect(put.status).toBe(200);
    expect(put.body.config.thresholds.minSpreadBps).toBe(7);
    expect(engine.perpscan.config.config.thresholds.minSpreadBps).toBe(7);
    await waitFor(() => edge.mirror.config()?.version === put.body.version, 5000, 'edge follows the config');
    expect((await json<VersionedConfig>(`${url}/api/config`)).body.version).toBe(put.body.version);

    // Schema-level (the edge's own validation) and config-level (the engine's, relayed) 400s both name the field.
    const badType = await json<{ error: string; field: string }>(`${url}/api/config`, { method: 'PUT', body: { thresholds: { minSpreadBps: 'wide' } }, token: TOKEN });
    expect(badType.status).toBe(400);
    expect(badType.body.field).toContain('minSpreadBps');
    const badValue = await json<{ error: string; field: string }>(`${url}/api/config`, { method: 'PUT', body: { risk: { maxOpenPositions: -3 } }, token: TOKEN });
    expect(badValue.status).toBe(400);
    expect(badValue.body.field).toContain('maxOpenPositions');
    expect(engine.perpscan.config.version).toBe(put.body.version);

    expect((await json(`${url}/api/config`, { method: 'PUT', body: {} })).status).toBe(401);
    const missing = await json<{ field: string }>(`${url}/api/positions/nope/close`, { method: 'POST', body: {}, token: TOKEN });
    expect(missing).toMatchObject({ status: 404, body: { field: 'id' } });

    const halt = await json<{ state: string }>(`${url}/api/trading-state`, { method: 'POST', body: { state: 'halted' }, token: TOKEN });
    expect(halt).toMatchObject({ status: 200, body: { state: 'halted' } });
    await waitFor(() => edge.mirror.tradingState() === 'halted', 5000, 'edge follows the trading state');

    await engine.close();
    const away = await json<{ error: string; message: string }>(`${url}/api/trading-state`, { method: 'POST', body: { state: 'active' }, token: TOKEN });
    expect(away.status).toBe(503);
    expect(away.body.message).toMatch(/no engine is active/);
  });
});
