/**
 * Redis stopped and back mid-run, on a PRIVATE redis-server (never the shared one): the writer keeps
 * accepting, health says degraded then recovers, nothing is lost up to the backlog bound, the drop
 * counter is exact beyond it, and the engine keeps detecting while Redis is down.
 *
 * The private server keeps an append-only file (fsync always) so what was acknowledged before it was
 * killed is still there after the restart, and the whole run can be compared record by record.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import type { MarketRecord, PersistenceHealth } from '../../server/persistence/persistence.js';
import { recordOpportunities } from '../../server/persistence/recorder.js';
import { RedisPersistence } from '../../server/persistence/redis.js';
import { describeWith } from '../helpers/services.js';
import { collect, marketRecord, oppEvent, position, PrivateRedis, uniquePrefix, waitFor } from './helpers.js';
import { EngineDriver, SyntheticMarket } from './market.js';

describeWith(['redis'], 'Redis outage (private redis-server)', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await PrivateRedis.start({ durable: true });
  });
  afterAll(async () => {
    await redis.destroy();
  });

  const writer = async (extra: { maxBacklog?: number; maxEventBacklog?: number } = {}) => {
    const p = new RedisPersistence({ url: redis.url, prefix: uniquePrefix('outage'), flushIntervalMs: 20, retryMaxDelayMs: 50, connectTimeoutMs: 500, ...extra });
    await p.open();
    return p;
  };

  it('buffers while Redis is down (degraded), then catches up with nothing lost up to the bound', async () => {
    const p = await writer({ maxBacklog: 1_000, maxEventBacklog: 200 });
    const seen: PersistenceHealth[] = [];
    const t0 = 1_700_000_000_000;
    const records: MarketRecord[] = [];
    const events: OpportunityEvent[] = [];
    let n = 0;
    const produce = (count: number) => {
      for (let i = 0; i < count; i++, n++) {
        const r = marketRecord(n, (['bybit', 'okx', 'kucoin', 'binance'] as const)[n % 4], t0 + n);
        records.push(r);
        p.appendMarketRecord(r);
        if (n % 5 === 0) {
          const e = oppEvent(n + 1, t0 + n, n % 15 === 0 ? 'closed' : 'updated');
          events.push(e);
          p.appendOpportunityEvent(e);
        }
      }
    };
    produce(300);
    p.savePosition(position('pos-before', t0));
    await p.flush();
    expect(p.health()).toMatchObject({ connected: true, degraded: false, backlog: 0 });

    await redis.stop();
    await waitFor(() => p.health().degraded, 5_000, 'degraded');
    seen.push(p.health());
    produce(900); // 900 market records and 180 events: within both bounds
    p.savePosition(position('pos-during', t0 + 1));
    const down = p.health();
    expect(down).toMatchObject({ connected: false, degraded: true, dropped: 0, backlog: 900 + 180 + 1 });

    await redis.start();
    await waitFor(() => p.health().connected && p.health().backlog === 0, 10_000, 'catch-up');
    seen.push(p.health());
    expect(seen[0].degraded).toBe(true);
    expect(p.health()).toMatchObject({ connected: true, degraded: false, dropped: 0 });
    expect(await collect(p.readMarketRecords())).toEqual(records);
    expect(await p.readOpportunityEvents()).toEqual(events);
    expect((await p.loadPositions()).map((x) => x.id)).toEqual(['pos-before', 'pos-during']);
    await p.close();
  }, 30_000);

  it('beyond the bound drops the oldest records and counts them exactly; state writes are never dropped', async () => {
    const bound = 500;
    const eventBound = 50;
    const p = await writer({ maxBacklog: bound, maxEventBacklog: eventBound });
    const t0 = 1_700_000_100_000;
    await redis.stop();
    await waitFor(() => p.health().degraded, 5_000, 'degraded');
    const records = Array.from({ length: bound + 1234 }, (_, i) => marketRecord(i, i % 3 ? 'okx' : 'binance', t0 + i));
    const events = Array.from({ length: eventBound + 77 }, (_, i) => oppEvent(i + 1, t0 + i, i % 4 ? 'updated' : 'closed'));
    records.forEach((r) => p.appendMarketRecord(r));
    events.forEach((e) => p.appendOpportunityEvent(e));
    for (let i = 0; i < 20; i++) p.savePosition(position(`pos-${i}`, t0 + i));
    expect(p.health()).toMatchObject({ degraded: true, dropped: 1234 + 77, backlog: bound + eventBound + 20 });
    expect(p.writerStats()).toMatchObject({ droppedMarket: 1234, droppedEvents: 77 });

    await redis.start();
    await waitFor(() => p.health().connected && p.health().backlog === 0, 10_000, 'catch-up');
    expect(p.health()).toMatchObject({ degraded: false, dropped: 1234 + 77 });
    expect(await collect(p.readMarketRecords())).toEqual(records.slice(-bound));
    expect(await p.readOpportunityEvents()).toEqual(events.slice(-eventBound));
    expect(await p.loadPositions()).toHaveLength(20);
    await p.close();
  }, 30_000);

  it('starts while Redis is down: open() does not throw, writes wait, loads fail after their timeout, then it catches up', async () => {
    await redis.stop();
    const p = new RedisPersistence({ url: redis.url, prefix: uniquePrefix('cold'), flushIntervalMs: 20, retryMaxDelayMs: 50, connectTimeoutMs: 300, loadTimeoutMs: 300 });
    await p.open();
    expect(p.health()).toMatchObject({ connected: false, degraded: true });
    p.savePosition(position('pos-cold', 1));
    p.appendOpportunityEvent(oppEvent(1, 1_700_000_000_000, 'closed'));
    await expect(p.loadPositions()).rejects.toThrow(/not connected/);
    expect(await p.opportunityHistory(5)).toHaveLength(1); // history answers from memory meanwhile
    await redis.start();
    await waitFor(() => p.health().connected && p.health().backlog === 0, 10_000, 'catch-up');
    // The read side has its own connection and retry timer: on a loaded machine it can come back a
    // few hundred ms after the writer, longer than this test's short load timeout.
    await waitFor(() => p.reads.client.status === 'ready', 10_000, 'read connection');
    expect((await p.loadPositions()).map((x) => x.id)).toEqual(['pos-cold']);
    expect(await p.readOpportunityEvents()).toEqual([oppEvent(1, 1_700_000_000_000, 'closed')]);
    await p.close();
  }, 30_000);

  it('the engine keeps detecting while Redis is down, and every event it published is in Redis afterwards', async () => {
    const p = await writer({ maxBacklog: 200_000, maxEventBacklog: 100_000 });
    const driver = new EngineDriver(undefined, { wallClock: true });
    const recorder = recordOpportunities(driver.engine.bus, p);
    const market = new SyntheticMarket(5);
    // ~20,000 updates/s on the wall clock, 200 per 10 ms tick, each drained as a feed would.
    const timer = setInterval(() => {
      const now = Date.now();
      for (let i = 0; i < 200; i++) {
        const r = market.next(now);
        p.appendMarketRecord(r);
        driver.apply(r);
      }
    }, 10);
    try {
      await waitFor(() => driver.events.length > 50 && p.health().batches > 5, 10_000, 'events before the outage');
      await redis.stop();
      await waitFor(() => p.health().degraded, 5_000, 'degraded');
      const publishedAtStop = driver.engine.bus.published;
      const healthDown = p.health();
      await new Promise((r) => setTimeout(r, 1_000));
      // detection never paused: events kept coming while the writer could not write
      const duringOutage = driver.engine.bus.published - publishedAtStop;
      expect(duringOutage).toBeGreaterThan(0);
      expect(p.health().connected).toBe(false);
      expect(p.health().backlog).toBeGreaterThan(healthDown.backlog);
      await redis.start();
      await waitFor(() => p.health().connected && !p.health().degraded, 10_000, 'reconnect');
    } finally {
      clearInterval(timer);
    }
    recorder.drain();
    await p.flush(10_000);
    expect(p.health()).toMatchObject({ backlog: 0, dropped: 0, degraded: false });
    expect(recorder.missed).toBe(0);
    const stored = await p.readOpportunityEvents();
    expect(stored.length).toBe(driver.events.length);
    expect(stored.map((e) => e.seq)).toEqual(driver.events.map((e) => e.seq));
    recorder.stop();
    await p.close();
  }, 40_000);
});
