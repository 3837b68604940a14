/**
 * Cluster pieces of `npm run bench -- cluster` (bench/cluster/main.ts combines them with the single-node
 * fan-out figures): `redis_hop_p50_ms` / `redis_hop_p99_ms`, the time from an event entering the
 * engine's bus to the edge writing it to a /ws client, at a given event rate, through a real Redis, the
 * real publisher (server/cluster/publisher.ts), a real edge (mirror + stream hub) and one real client.
 *
 * Events are opened/closed pairs (sent on the tick they arrive, never coalesced), each stamped with its
 * bus time in `recvUs`; the edge hub records send time − recvUs per message (its end-to-end window).
 *
 * Standalone: `REDIS_URL=redis://127.0.0.1:6379 npx tsx bench/cluster/redis-hop.ts` prints the figures.
 */
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pino from 'pino';
import WebSocket from 'ws';
import { DEFAULT_CONFIG } from '../../shared/config.js';
import { EXCHANGES } from '../../shared/exchanges.js';
import { opportunityId, type Opportunity, type OpportunityEvent } from '../../shared/opportunity.js';
import type { StrategyEvent } from '../../shared/position.js';
import { buildEdge } from '../../server/cluster/edge.js';
import { clusterKeys } from '../../server/cluster/keys.js';
import { EngineLease } from '../../server/cluster/lease.js';
import { ClusterPublisher } from '../../server/cluster/publisher.js';
import { BroadcastRing } from '../../server/engine/bus.js';
import { LatencyHistogram } from '../../server/engine/histogram.js';

export interface RedisHopResult {
  redis_hop_p50_ms: number;
  redis_hop_p99_ms: number;
  events: number;
  eventsPerSec: number;
}

const nowUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

function opportunity(i: number): Opportunity {
  // Only the fields the hub and the JSON path touch matter here; the rest are plausible values.
  return {
    id: opportunityId(`BENCH${i}-PERP`, EXCHANGES[0], EXCHANGES[1]),
    instrument: `BENCH${i}-PERP`,
    longExchange: EXCHANGES[0],
    shortExchange: EXCHANGES[1],
    firstSeenMs: Date.now(),
    projectedProfitBps: 12,
  } as Opportunity;
}

/** Bus → Redis → edge → /ws send latency at `eventsPerSec` for `seconds` (after a 1 s warm-up). */
export async function measureRedisHop(opts: { redisUrl: string; eventsPerSec?: number; seconds?: number; prefix?: string }): Promise<RedisHopResult> {
  const rate = opts.eventsPerSec ?? 10_000;
  const seconds = opts.seconds ?? 10;
  const prefix = opts.prefix ?? `perpscan-bench:cluster:${process.pid}:`;
  const keys = clusterKeys(prefix);
  const log = pino({ level: 'silent' });
  const redis = new Redis(opts.redisUrl);
  const lease = new EngineLease({ redis, keys, ttlMs: 5000, logger: log });
  const token = await lease.tryAcquire();
  if (token === null) throw new Error('bench: the lease is held by someone else under this prefix');
  const bus = new BroadcastRing<OpportunityEvent>(1 << 17);
  const strategy = new BroadcastRing<StrategyEvent>(16);
  const publisher = new ClusterPublisher({
    redis,
    keys,
    token,
    opportunities: bus,
    strategy,
    state: () => ({ opportunities: [], positions: [], portfolio: { tsMs: Date.now() } as never, tradingState: 'active', feeds: [], fundingChecks: [], config: { version: 1, config: DEFAULT_CONFIG, updatedMs: 0 }, fills: [], rejections: [], stats: { tsMs: Date.now() } as never, alerts: null, counters: { rejections: {}, fills: [] } }),
    onFenced: () => undefined,
    logger: log,
  });
  await publisher.start();
  const edge = await buildEdge({ redisUrl: opts.redisUrl, redisPrefix: prefix, logger: log, staticDir: null });
  await edge.mirror.whenSynced();
  await edge.app.listen({ host: '127.0.0.1', port: 0 });
  const addr = edge.app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const client = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  await new Promise((resolve, reject) => (client.once('open', resolve), client.once('error', reject)));

  // The hub rolls its own window every stats interval: keep every measured sample here too.
  const hop = new LatencyHistogram();
  const window = edge.hub.latency.endToEnd;
  const record = window.record.bind(window);
  let measuring = false;
  window.record = (us: number): void => {
    record(us);
    if (measuring && us >= 0) hop.recordUs(us);
  };

  // Open and close in pairs at the target rate, in 1 ms slices.
  let seq = 0;
  let sent = 0;
  const startMs = performance.now();
  const warmupMs = 1000;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - startMs;
      if (!measuring && elapsed >= warmupMs) measuring = true;
      if (elapsed >= warmupMs + seconds * 1000) {
        clearInterval(timer);
        resolve();
        return;
      }
      const due = Math.floor((elapsed / 1000) * rate) - sent;
      for (let i = 0; i < due; i++, sent++) {
        const opp = opportunity(sent >> 1);
        const t = Date.now();
        bus.publish(sent % 2 === 0 ? { kind: 'opened', seq: ++seq, tsMs: t, recvUs: nowUs(), opportunity: opp } : { kind: 'closed', seq: ++seq, tsMs: t, recvUs: nowUs(), opportunity: opp, reason: 'spread_below_min', lifetimeMs: 0 });
      }
    }, 1);
  });
  await new Promise((r) => setTimeout(r, 300)); // the last events arrive
  const summary = hop.summary();
  client.terminate();
  publisher.close();
  await edge.close();
  await lease.release();
  const leftovers = await redis.keys(`${prefix}*`);
  if (leftovers.length > 0) await redis.del(...leftovers);
  redis.disconnect();
  return { redis_hop_p50_ms: summary.p50Us / 1000, redis_hop_p99_ms: summary.p99Us / 1000, events: summary.count, eventsPerSec: rate };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  measureRedisHop({ redisUrl: url, seconds: Number(process.env.BENCH_SECONDS ?? 10) }).then(
    (r) => {
      console.log(JSON.stringify(r));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
