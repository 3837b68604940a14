/**
 * RedisPersistence against the real Redis at REDIS_URL (a unique key prefix per run, deleted after).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import type { Position } from '../../shared/position.js';
import { createPersistence } from '../../server/persistence/index.js';
import type { MarketRecord } from '../../server/persistence/persistence.js';
import { RedisPersistence, type RedisPersistenceOptions } from '../../server/persistence/redis.js';
import { describeWith } from '../helpers/services.js';
import { persistenceContract } from './contract.js';
import { collect, deletePrefix, marketRecord, oppEvent, position, PrivateRedis, ReplyLosingProxy, SHARED_REDIS_URL, uniquePrefix, waitFor } from './helpers.js';

describeWith(['redis'], 'RedisPersistence (shared Redis, own prefix)', () => {
  const prefixes: string[] = [];
  const open: RedisPersistence[] = [];
  const make = async (prefix: string, extra: Partial<RedisPersistenceOptions> = {}) => {
    const p = new RedisPersistence({ url: SHARED_REDIS_URL, prefix, flushIntervalMs: 20, ...extra });
    open.push(p);
    await p.open();
    return p;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((p) => p.close()));
  }, 30_000);
  afterAll(async () => {
    for (const prefix of prefixes) await deletePrefix(SHARED_REDIS_URL, prefix);
  }, 30_000);

  describe('contract', () => {
    persistenceContract(async (caps) => {
      const prefix = uniquePrefix('contract');
      prefixes.push(prefix);
      const persistence = await make(prefix, { caps });
      return { persistence, reopen: () => make(prefix, { caps }) };
    });
  }, 30_000);

  it('createPersistence with a URL gives Redis under the given prefix; keys are namespaced by it', async () => {
    const prefix = uniquePrefix('factory');
    prefixes.push(prefix);
    const p = createPersistence({ redisUrl: SHARED_REDIS_URL, prefix, writer: { flushIntervalMs: 20 } });
    expect(p.kind).toBe('redis');
    await p.open();
    p.savePosition(position('pos-1', 1));
    p.appendMarketRecord(marketRecord(1, 'okx', 1_700_000_000_000));
    await p.flush();
    const r = new Redis(SHARED_REDIS_URL);
    const keys = (await r.keys(`${prefix}*`)).sort();
    r.disconnect();
    expect(keys).toEqual([`${prefix}epoch`, `${prefix}market:okx`, `${prefix}market:okx:count`, `${prefix}market:okx:sizes`, `${prefix}positions`, `${prefix}writer:lastid`]);
    expect(p.health()).toMatchObject({ kind: 'redis', connected: true, degraded: false, backlog: 0, dropped: 0 });
    await p.close();
  }, 30_000);

  it('two instances with different prefixes on one Redis do not see each other', async () => {
    const [a, b] = [uniquePrefix('a'), uniquePrefix('b')];
    prefixes.push(a, b);
    const pa = await make(a);
    const pb = await make(b);
    pa.savePosition(position('only-a', 1));
    pa.appendOpportunityEvent(oppEvent(1, 1_700_000_000_000, 'closed'));
    await pa.flush();
    expect(await pb.loadPositions()).toEqual([]);
    expect(await pb.opportunityHistory(10)).toEqual([]);
    expect(await pa.opportunityHistory(10)).toHaveLength(1);
  }, 30_000);

  it('malformed records are counted and skipped; the writer keeps writing the good ones', async () => {
    const prefix = uniquePrefix('bad');
    prefixes.push(prefix);
    const p = await make(prefix);
    const good = oppEvent(1, 1_700_000_000_000, 'closed');
    const bad = { ...oppEvent(2, 1_700_000_000_001), opportunity: { ...good.opportunity, instrument: undefined } } as unknown as OpportunityEvent;
    p.appendOpportunityEvent(bad);
    p.appendOpportunityEvent(good);
    p.appendMarketRecord({ exchange: 'nowhere', symbol: 'X', kind: 'quote', recvMs: 1, exchangeTsMs: 1 } as unknown as MarketRecord);
    p.appendMarketRecord({ exchange: 'okx', kind: 'quote', recvMs: 1, exchangeTsMs: 1 } as unknown as MarketRecord);
    p.appendMarketRecord(marketRecord(1, 'okx', 1_700_000_000_000));
    const cyclic = position('pos-cyclic', 1) as Position & { self?: unknown };
    cyclic.self = cyclic;
    p.savePosition(cyclic);
    p.savePosition(position('pos-ok', 2));
    await p.flush();
    expect(p.health()).toMatchObject({ connected: true, degraded: false, backlog: 0, dropped: 3 });
    expect(await p.readOpportunityEvents()).toEqual([good]);
    expect(await collect(p.readMarketRecords())).toEqual([marketRecord(1, 'okx', 1_700_000_000_000)]);
    expect((await p.loadPositions()).map((x) => x.id)).toEqual(['pos-ok']);
  }, 30_000);

  it('a writer thread that dies is replaced: health says degraded, then writing resumes and nothing queued is lost', async () => {
    const prefix = uniquePrefix('respawn');
    prefixes.push(prefix);
    const p = await make(prefix);
    const t0 = 1_700_000_000_000;
    const records = Array.from({ length: 200 }, (_, i) => marketRecord(i, i % 2 ? 'okx' : 'bybit', t0 + i));
    records.slice(0, 100).forEach((r) => p.appendMarketRecord(r));
    await p.flush();
    const batchesBefore = p.health().batches;
    // A real thread termination (the writer thread is private: reached through a cast, as no caller should).
    await (p as unknown as { worker: import('node:worker_threads').Worker }).worker.terminate();
    expect(p.health()).toMatchObject({ connected: false, degraded: true });
    records.slice(100).forEach((r) => p.appendMarketRecord(r));
    await waitFor(() => p.health().connected && p.health().backlog === 0, 10_000, 'a new writer thread');
    expect(p.health()).toMatchObject({ degraded: false, dropped: 0 });
    expect(p.health().batches).toBeGreaterThan(batchesBefore);
    expect(await collect(p.readMarketRecords())).toEqual(records);
  }, 30_000);

  it('history includes closed events not yet written', async () => {
    const prefix = uniquePrefix('pending');
    prefixes.push(prefix);
    const p = await make(prefix, { flushIntervalMs: 60_000 });
    p.appendOpportunityEvent(oppEvent(1, 1_700_000_000_000, 'closed'));
    p.appendOpportunityEvent(oppEvent(2, 1_700_000_000_001, 'closed'));
    const h = await p.opportunityHistory(5);
    expect(h.map((x) => x.closedMs)).toEqual([1_700_000_000_001, 1_700_000_000_000]);
  }, 30_000);
});

describeWith(['redis'], 'RedisPersistence retried batches (private redis-server behind a reply-losing proxy)', () => {
  let redis: PrivateRedis | null = null;
  let proxy: ReplyLosingProxy | null = null;
  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  }, 30_000);

  it('a batch whose acknowledgement was lost is retried unchanged and written exactly once', async () => {
    redis = await PrivateRedis.start();
    proxy = await ReplyLosingProxy.start(redis.port);
    const prefix = uniquePrefix('retry');
    const p = new RedisPersistence({ url: `redis://127.0.0.1:${proxy.port}`, prefix, flushIntervalMs: 20, retryMaxDelayMs: 50 });
    await p.open();
    const t0 = 1_700_000_000_000;
    const first = Array.from({ length: 30 }, (_, i) => oppEvent(i + 1, t0 + i, i % 3 === 0 ? 'closed' : 'updated'));
    const records = Array.from({ length: 40 }, (_, i) => marketRecord(i, i % 2 ? 'bybit' : 'kucoin', t0 + i));
    first.forEach((e) => p.appendOpportunityEvent(e));
    records.forEach((r) => p.appendMarketRecord(r));
    p.savePosition(position('pos-r', t0));
    proxy.loseNextExecReply();
    await waitFor(() => p.writerStats().failedAttempts > 0, 5_000, 'the lost reply');
    // The transaction did reach Redis: the data is there although the writer never heard back.
    const direct = new Redis(redis.url);
    expect(Number(await direct.get(`${prefix}opps:count`))).toBe(30);
    await waitFor(() => p.health().backlog === 0 && p.health().connected, 10_000, 'the retry');
    const stats = p.writerStats();
    expect(stats.duplicateChunks).toBeGreaterThanOrEqual(3); // events, closed, and each market chunk were skipped on retry
    expect(await p.readOpportunityEvents()).toEqual(first);
    expect(await collect(p.readMarketRecords())).toEqual(records);
    expect((await p.opportunityHistory(100)).length).toBe(10);
    expect(Number(await direct.get(`${prefix}opps:count`))).toBe(30);
    expect(await p.loadPositions()).toEqual([position('pos-r', t0)]);
    expect(p.health().dropped).toBe(0);
    direct.disconnect();
    await p.close();
  }, 30_000);
});
