/**
 * No Redis command on the caller's path, and Redis round trips per second bounded by the batch
 * interval rather than by the update rate. Counted by the server itself (INFO commandstats on a
 * private redis-server, so nothing else adds to the counts) and by ioredis' own command hook
 * (diagnostics_channel `ioredis:command`) on this thread, which must see none: the writes go through
 * the writer thread's connection.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { EXCHANGES } from '../../shared/exchanges.js';
import { RedisPersistence } from '../../server/persistence/redis.js';
import { describeWith } from '../helpers/services.js';
import { marketRecord, oppEvent, PrivateRedis, uniquePrefix } from './helpers.js';

/** calls per command name since the last CONFIG RESETSTAT, excluding the probe's own commands. */
async function commandCalls(probe: Redis): Promise<Record<string, number>> {
  const info = await probe.info('commandstats');
  const out: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) out[m[1]] = Number(m[2]);
  delete out.info;
  delete out['config|resetstat'];
  delete out.config;
  return out;
}
const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

describeWith(['redis'], 'Redis round trips (private redis-server)', () => {
  let redis: PrivateRedis;
  let probe: Redis;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    probe = new Redis(redis.url);
  }, 30_000);
  afterAll(async () => {
    probe.disconnect();
    await redis.destroy();
  }, 30_000);

  it('appending 20,000 updates sends nothing to Redis until the writer runs', async () => {
    const p = new RedisPersistence({ url: redis.url, prefix: uniquePrefix('rt'), flushIntervalMs: 60_000, maxBatch: 1_000_000 });
    await p.open();
    await probe.config('RESETSTAT');
    const hooked: string[] = [];
    const onStart = (msg: unknown) => hooked.push((msg as { command?: string }).command ?? '?');
    subscribe('tracing:ioredis:command:start', onStart);
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < 20_000; i++) {
      p.appendMarketRecord(marketRecord(i, EXCHANGES[i % 4], t0 + i));
      if (i % 10 === 0) p.appendOpportunityEvent(oppEvent(i, t0 + i));
      if (i % 2000 === 0) await new Promise((r) => setTimeout(r, 5)); // let the event loop (and any stray writer) run
    }
    expect(hooked).toEqual([]);
    expect(await commandCalls(probe)).toEqual({});
    hooked.length = 0; // (the probe's own INFO)
    await p.flush();
    unsubscribe('tracing:ioredis:command:start', onStart);
    // Even the writes themselves are not sent from this thread: the writer thread owns their connection.
    expect(hooked).toEqual([]);
    const calls = await commandCalls(probe);
    expect(calls.exec).toBe(1); // one round trip for all of it
    // the writer's one-off read of the last stream id, and the epoch check inside the transaction (a GET in its script)
    expect(calls.get ?? 0).toBe(2);
    expect(p.health().backlog).toBe(0);
    await p.close();
  }, 30_000);

  it('round trips per second follow the batch interval: the same at 1,000 and at 20,000 updates/s', async () => {
    const flushIntervalMs = 50;
    // A fixed number of 10 ms ticks per run (2 s nominal), so both runs append exactly `perSec` × 2 records
    // whatever the wall clock does; the wall time is measured for the per-second bound.
    const TICKS = 200;
    const runAt = async (perSec: number) => {
      const p = new RedisPersistence({ url: redis.url, prefix: uniquePrefix('rate'), flushIntervalMs });
      await p.open();
      await p.flush();
      await probe.config('RESETSTAT');
      const perTick = perSec / 100;
      let n = 0;
      let ticks = 0;
      const t0 = Date.now();
      const start = performance.now();
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          for (let i = 0; i < perTick; i++, n++) p.appendMarketRecord(marketRecord(n, EXCHANGES[n % 4], t0 + n));
          if (++ticks === TICKS) {
            clearInterval(timer);
            resolve();
          }
        }, 10);
      });
      const seconds = (performance.now() - start) / 1000;
      await p.close(); // flushes the rest
      const calls = await commandCalls(probe);
      return { updates: n, seconds, execs: calls.exec ?? 0, commands: sum(calls) };
    };
    const slow = await runAt(1_000);
    const fast = await runAt(20_000);
    expect(slow.updates).toBe(TICKS * 10);
    expect(fast.updates).toBe(slow.updates * 20);
    const maxPerSecond = 1000 / flushIntervalMs;
    for (const r of [slow, fast]) {
      // Each run on its own, per second of its wall time (a stall lengthens it; timers never catch up):
      // +2: the closing flush and timer phase; a 10 ms minimum gap would allow 100/s if the interval were ignored
      expect(r.execs / r.seconds).toBeLessThanOrEqual(maxPerSecond + 2);
      // a handful of commands per batch (Redis also counts the XADD/RPUSH/INCRBY run inside each append script)
      expect(r.commands).toBeLessThanOrEqual(r.execs * 25);
    }
    // Compared per round trip, not as totals (a run whose writer thread was starved makes fewer, larger batches):
    // 20x the updates, not more commands per round trip: nothing is sent per update.
    expect(fast.commands / fast.execs).toBeLessThanOrEqual((slow.commands / slow.execs) * 1.5);
    // The same number of ticks at 20x the updates: the round trips do not follow the rate (per update, the fast run
    // makes at least 10x fewer). Round trips sent per update would make it 20x; the factor 2 leaves room for the slow
    // run losing up to half its ~40 batches to a starved writer thread.
    expect(fast.execs).toBeLessThanOrEqual(slow.execs * 2);
  }, 30_000);
});
