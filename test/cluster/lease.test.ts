/**
 * The engine lease on a real Redis: one holder at a time, a standby takes over once the holder stops
 * renewing (its connection cut, as after kill -9), with a higher fencing token; the stale holder's writes
 * — events, snapshot and persisted state — are refused, the new holder's are accepted.
 */
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { BroadcastRing } from '../../server/engine/bus.js';
import { clusterKeys } from '../../server/cluster/keys.js';
import { EngineLease } from '../../server/cluster/lease.js';
import { ClusterPublisher } from '../../server/cluster/publisher.js';
import type { EngineSnapshot } from '../../server/cluster/events.js';
import { RedisPersistence } from '../../server/persistence/redis.js';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import type { StrategyEvent } from '../../shared/position.js';
import { describeWith, REDIS_URL } from '../helpers/services.js';
import { deletePrefix, position, uniquePrefix, versionedConfig, waitFor } from '../persistence/helpers.js';

const log = pino({ level: 'silent' });
// Long enough that a process stall on a loaded CI machine (100-500 ms) is far shorter than the slack between
// renewals (every ttl/4) and expiry (ttl): the holder's lease cannot lapse while it is still alive.
const TTL_MS = 2500;

describeWith(['redis'], 'cluster lease and fencing', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  let prefix = '';
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    if (prefix) await deletePrefix(REDIS_URL, prefix);
  });
  const connect = () => {
    const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    r.on('error', () => undefined);
    cleanup.push(() => r.disconnect());
    return r;
  };

  it('a standby takes over within ttl of the holder going silent, with a higher token', async () => {
    prefix = uniquePrefix('cluster-lease');
    const keys = clusterKeys(prefix);
    const ra = connect();
    const rb = connect();
    await Promise.all([ra.connect(), rb.connect()]);
    const a = new EngineLease({ redis: ra, keys, ttlMs: TTL_MS, owner: 'a', logger: log });
    const b = new EngineLease({ redis: rb, keys, ttlMs: TTL_MS, owner: 'b', logger: log });
    const lostA: string[] = [];
    a.onLost((r) => lostA.push(r));
    cleanup.push(() => a.release(), () => b.release());

    const tokenA = await a.tryAcquire();
    expect(tokenA).not.toBeNull();
    expect(await b.tryAcquire()).toBeNull();
    // A renews: after several ttl the lease is still A's.
    await new Promise((r) => setTimeout(r, TTL_MS * 2));
    expect(await rb.get(keys.lease)).toBe('a');

    const cutMs = Date.now();
    ra.disconnect(); // as after kill -9: no more renewals
    const tokenB = await b.acquire();
    const tookMs = Date.now() - cutMs;
    expect(tokenB).toBe((tokenA as number) + 1);
    // The mechanism's bound is ttl + ttl/8 (expiry, then at most one standby retry interval); the extra
    // 1000 ms covers Redis round trips and a process stall on a loaded machine, still well under 2 * ttl.
    expect(tookMs).toBeLessThanOrEqual(TTL_MS + TTL_MS / 8 + 1000);
    expect(await rb.get(keys.fence)).toBe(String(tokenB));
    // A notices (its renewals fail for a whole ttl) and drops its token.
    await waitFor(() => lostA.length > 0, 5000, 'a notices the loss');
    expect(a.token).toBeNull();
  });

  it('refuses a stale engine\'s events, snapshot and persisted state; accepts the current one\'s', async () => {
    prefix = uniquePrefix('cluster-fence');
    const keys = clusterKeys(prefix);
    const r = connect();
    await r.connect();
    const old = new EngineLease({ redis: r, keys, ttlMs: TTL_MS, owner: 'old', logger: log });
    const staleToken = (await old.tryAcquire()) as number;
    await old.release();
    const current = new EngineLease({ redis: r, keys, ttlMs: TTL_MS, owner: 'new', logger: log });
    const token = (await current.tryAcquire()) as number;
    cleanup.push(() => current.release());
    expect(token).toBeGreaterThan(staleToken);

    const snapshotOf = (tag: number): Omit<EngineSnapshot, 'seq' | 'token'> => ({
      opportunities: [], positions: [], portfolio: { tsMs: tag } as EngineSnapshot['portfolio'], tradingState: 'active', feeds: [], fundingChecks: [], config: versionedConfig(tag), fills: [], rejections: [], stats: { tsMs: tag } as EngineSnapshot['stats'], alerts: null, counters: { rejections: {}, fills: [] },
    });
    const publisher = (t: number, onFenced: () => void) => {
      const p = new ClusterPublisher({ redis: r, keys, token: t, opportunities: new BroadcastRing<OpportunityEvent>(16), strategy: new BroadcastRing<StrategyEvent>(16), state: () => snapshotOf(t), snapshotMs: 60_000, onFenced, logger: log });
      cleanup.push(() => p.close());
      return p;
    };
    let fenced = 0;
    const good = publisher(token, () => fenced--);
    await good.start();
    good.push({ t: 'resync' });
    await waitFor(async () => (await r.get(keys.seq)) === '1', 2000, 'current engine publishes');
    expect(await r.hget(keys.snapshot, 'token')).toBe(String(token));

    const stale = publisher(staleToken, () => fenced++);
    await stale.start().catch(() => undefined);
    stale.push({ t: 'resync' });
    await waitFor(() => fenced === 1, 2000, 'stale engine fenced');
    expect(await r.get(keys.seq)).toBe('1');
    expect(await r.xlen(keys.events)).toBe(1);
    expect(await r.hget(keys.snapshot, 'token')).toBe(String(token));

    // Persisted state: the stale engine's position never lands; the current one's does.
    const persist = (t: number) => {
      const p = new RedisPersistence({ url: REDIS_URL, prefix, logger: log, fence: { key: keys.fence, token: t } });
      cleanup.push(() => p.close());
      return p;
    };
    const stalePersistence = persist(staleToken);
    await stalePersistence.open();
    stalePersistence.savePosition(position('stale-pos', Date.now()));
    await waitFor(() => stalePersistence.writerStats().fencedBatches === 1, 5000, 'stale batch refused');
    // As a standby does: opened ahead with token 0 (never valid), fenced with the lease's token at takeover.
    const currentPersistence = persist(0);
    await currentPersistence.open();
    currentPersistence.setFence({ key: keys.fence, token });
    currentPersistence.savePosition(position('current-pos', Date.now()));
    await currentPersistence.flush(2000);
    expect((await currentPersistence.loadPositions()).map((p) => p.id)).toEqual(['current-pos']);
  });
});
