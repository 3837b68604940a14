import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  F_EXCHANGE_TS_MS,
  F_INTERVAL_MS,
  F_NEXT_FUNDING_MS,
  F_PREDICTED,
  F_RATE,
  F_RECV_US,
  KIND_FUNDING,
  MarketPipeline,
  type RecordVisitor,
} from '../../server/engine/pipeline.js';

type Rec = [string, ...Array<number | boolean>];
function collector(): RecordVisitor & { got: Rec[] } {
  const got: Rec[] = [];
  return {
    got,
    onQuote: (...a) => got.push(['q', ...a]),
    onFunding: (...a) => got.push(['f', ...a]),
  };
}

describe('MarketPipeline', () => {
  it('rounds capacity up to a power of two and uses 64-byte records', () => {
    const p = new MarketPipeline(5);
    expect(p.capacity).toBe(8);
    expect(p.buffers.records.byteLength).toBe(8 * 64);
    expect(p.buffers.records).toBeInstanceOf(SharedArrayBuffer);
  });

  it('carries every field of quote and funding records in order', () => {
    const p = new MarketPipeline(4);
    expect(p.pushQuote(7, 100.5, 100.6, 1.25, 2.5, 1_700_000_000_123, 1_700_000_000_123_456)).toBe(true);
    expect(p.pushFunding(9, -0.000125, 3_600_000, 1_700_003_600_000, true, 1_700_000_000_200, 42)).toBe(true);
    const c = collector();
    expect(p.consume(10, c)).toBe(2);
    expect(c.got).toEqual([
      ['q', 7, 100.5, 100.6, 1.25, 2.5, 1_700_000_000_123, 1_700_000_000_123_456],
      ['f', 9, -0.000125, 3_600_000, 1_700_003_600_000, true, 1_700_000_000_200, 42],
    ]);
    expect(p.size).toBe(0);
  });

  it('consumeRaw hands out the record in place: fields at data[at + F_*]', () => {
    const p = new MarketPipeline(2);
    p.pushFunding(5, 0.0003, 14_400_000, 1_700_000_100_000, false, 1_700_000_000_000, 77);
    const seen: number[] = [];
    const n = p.consumeRaw(5, {
      onRecord(kind, id, d, at) {
        expect(kind).toBe(KIND_FUNDING);
        seen.push(id, d[at + F_RATE], d[at + F_INTERVAL_MS], d[at + F_NEXT_FUNDING_MS], d[at + F_PREDICTED], d[at + F_EXCHANGE_TS_MS], d[at + F_RECV_US]);
      },
    });
    expect(n).toBe(1);
    expect(seen).toEqual([5, 0.0003, 14_400_000, 1_700_000_100_000, 0, 1_700_000_000_000, 77]);
  });

  it('rejects the newest record when full and counts it', () => {
    const p = new MarketPipeline(4);
    for (let i = 0; i < 4; i++) expect(p.pushQuote(i, 1, 2, 1, 1, 0, 0)).toBe(true);
    expect(p.pushQuote(99, 1, 2, 1, 1, 0, 0)).toBe(false);
    expect(p.pushFunding(98, 0, 1, 1, false, 0, 0)).toBe(false);
    expect(p.dropped).toBe(2);
    expect(p.size).toBe(4);
    const c = collector();
    p.consume(100, c);
    expect(c.got.map((r) => r[1])).toEqual([0, 1, 2, 3]); // the queued ones survive, the newest were dropped
    expect(p.pushed).toBe(4);
  });

  it('wraps around many times without losing order', () => {
    const p = new MarketPipeline(4);
    const c = collector();
    let next = 0;
    for (let round = 0; round < 50; round++) {
      p.pushQuote(next++, 1, 2, 1, 1, 0, 0);
      p.pushQuote(next++, 1, 2, 1, 1, 0, 0);
      p.pushQuote(next++, 1, 2, 1, 1, 0, 0);
      expect(p.consume(2, c)).toBe(2); // partial batch: reads straddle the wrap point as 3 ∤ 4
      expect(p.consume(1, c)).toBe(1);
    }
    p.consume(100, c);
    expect(c.got.map((r) => r[1])).toEqual(Array.from({ length: 150 }, (_, i) => i));
    expect(p.dropped).toBe(0);
  });

  it('a second view attached to the same shared buffers sees the producer’s records', () => {
    const producer = new MarketPipeline(8);
    const consumer = new MarketPipeline(producer.buffers);
    producer.pushQuote(3, 10, 11, 1, 1, 0, 5);
    expect(consumer.size).toBe(1);
    const c = collector();
    consumer.consume(1, c);
    expect(c.got[0]).toEqual(['q', 3, 10, 11, 1, 1, 0, 5]);
    expect(producer.size).toBe(0);
  });

  it('a visitor that throws does not wedge the ring', () => {
    const p = new MarketPipeline(4);
    p.pushQuote(1, 1, 2, 1, 1, 0, 0);
    p.pushQuote(2, 1, 2, 1, 1, 0, 0);
    const boom: RecordVisitor = {
      onQuote: () => {
        throw new Error('boom');
      },
      onFunding: () => undefined,
    };
    expect(() => p.consume(10, boom)).toThrow('boom');
    expect(p.size).toBe(1);
  });
});

describe('MarketPipeline across threads', () => {
  it('a producer on a worker thread and a consumer here see every record intact and in order', async () => {
    const { Worker } = await import('node:worker_threads');
    const count = 100_000;
    const ring = new MarketPipeline(256); // small, so the producer keeps hitting "full" and wrapping
    // The worker is TypeScript: register tsx's loader inside the worker thread, then import it.
    const file = fileURLToPath(new URL('./pipeline-producer.worker.ts', import.meta.url));
    const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(pathToFileURL(file).href)}); })`;
    const worker = new Worker(bootstrap, { eval: true, workerData: { buffers: ring.buffers, count } });
    let failure: unknown = null;
    const finished = new Promise<{ done: number; retries: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', (err) => {
        failure = err;
        reject(err);
      });
    });
    finished.catch(() => undefined);
    let expected = 0;
    let bad = 0;
    const visitor: RecordVisitor = {
      onQuote(id, bid, ask, bidSize, askSize, ts, recvUs) {
        const i = expected++;
        if (id !== i % 1000 || bid !== i || ask !== i + 1 || bidSize !== i * 2 || askSize !== i * 3 || ts !== i + 0.5 || recvUs !== i * 10) bad++;
      },
      onFunding() {
        bad++;
      },
    };
    const deadline = Date.now() + 20_000;
    while (expected < count && failure === null && Date.now() < deadline) {
      if (ring.consume(256, visitor) === 0) await new Promise((r) => setImmediate(r));
    }
    const result = await finished;
    await worker.terminate();
    expect(expected).toBe(count);
    expect(bad).toBe(0);
    expect(result.done).toBe(count);
    expect(ring.dropped).toBe(result.retries); // every full-ring rejection was counted
    expect(ring.size).toBe(0);
  });
});
