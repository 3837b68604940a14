/**
 * `--replay redis`: market records and opportunity events recorded into Redis from an engine run; the
 * market records read back (merged across the per-exchange streams in receive order) and replayed
 * through a fresh Engine with the same config and clock reproduce the recorded opportunity events.
 */
import { afterAll, expect, it } from 'vitest';
import { recordOpportunities } from '../../server/persistence/recorder.js';
import { RedisPersistence } from '../../server/persistence/redis.js';
import { describeWith } from '../helpers/services.js';
import { deletePrefix, SHARED_REDIS_URL, uniquePrefix } from './helpers.js';
import { EngineDriver, SyntheticMarket, T0 } from './market.js';

describeWith(['redis'], 'replay from Redis', () => {
  const prefix = uniquePrefix('replay');
  afterAll(() => deletePrefix(SHARED_REDIS_URL, prefix));

  it('replaying the recorded market records through a fresh Engine reproduces the recorded opportunity events', async () => {
    const p = new RedisPersistence({ url: SHARED_REDIS_URL, prefix, flushIntervalMs: 20 });
    await p.open();
    const live = new EngineDriver();
    const recorder = recordOpportunities(live.engine.bus, p);
    const market = new SyntheticMarket(11);
    let t = T0;
    for (let i = 0; i < 20_000; i++) {
      t += 1 + (i % 3);
      const rec = market.next(t);
      p.appendMarketRecord(rec);
      live.apply(rec);
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r)); // let the recorder and the writer run
    }
    recorder.drain();
    await p.flush(10_000);
    const kinds = new Set(live.events.map((e) => e.kind));
    expect(kinds).toEqual(new Set(['opened', 'updated', 'closed']));
    expect(recorder.missed).toBe(0);
    expect(p.health()).toMatchObject({ backlog: 0, dropped: 0 });

    const recorded = await p.readOpportunityEvents();
    // JSON has no -0: compare the live events as they serialise (every other value round-trips exactly).
    const asJson = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
    expect(recorded).toEqual(asJson(live.events));

    const replay = new EngineDriver();
    let n = 0;
    for await (const rec of p.readMarketRecords()) {
      replay.apply(rec);
      n++;
    }
    expect(n).toBe(20_000);
    expect(replay.events.length).toBe(recorded.length);
    expect(asJson(replay.events)).toEqual(recorded);

    // A period: records since a time reproduce the events from that time when the engine starts fresh
    // there only after the state has been rebuilt, so check the stream reads agree with the recorded order.
    const since = T0 + 20_000;
    const tail: number[] = [];
    for await (const rec of p.readMarketRecords(since)) tail.push(rec.recvMs);
    expect(tail.length).toBeGreaterThan(0);
    expect(tail.every((x, i) => x >= since && (i === 0 || x >= tail[i - 1]))).toBe(true);
    expect((await p.readOpportunityEvents(since)).every((e) => e.tsMs >= since)).toBe(true);
    recorder.stop();
    await p.close();
  }, 60_000);
});
