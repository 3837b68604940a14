import { RedisPersistence } from '../../../server/persistence/redis.js';
import { marketRecord, oppEvent } from '../../../test/persistence/helpers.js';
import { EXCHANGES } from '../../../shared/exchanges.js';
const p = new RedisPersistence({ url: 'redis://127.0.0.1:6379', prefix: 'perpscan-test:h:', flushIntervalMs: 60000, maxBatch: 5000 });
await p.open();
const recs = Array.from({ length: 5000 }, (_, i) => marketRecord(i, EXCHANGES[i % 4], 1_700_000_000_000 + i));
const evs = Array.from({ length: 2500 }, (_, i) => oppEvent(i, 1_700_000_000_000 + i, i % 20 ? 'updated' : 'closed'));
const appendNs: number[] = [];
for (let k = 0; k < 30; k++) {
  const t = process.hrtime.bigint();
  for (const r of recs) p.appendMarketRecord(r);
  for (const e of evs) p.appendOpportunityEvent(e);
  appendNs.push(Number(process.hrtime.bigint() - t) / 7500);
  await p.flush(5000);
}
const s = p.writerStats();
console.log({ handoffs: s.handoffs, build_mean_ms: s.totalBuildMs / s.handoffs, build_max_ms: s.maxBuildMs, encode_mean_ms: s.totalEncodeMs / s.handoffs, encode_max: s.maxEncodeMs, append_ns_per_record_median: appendNs.sort((a, b) => a - b)[15] });
await p.close();
