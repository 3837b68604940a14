/**
 * Cluster piece of `npm run bench -- cluster`: `delivery_p99_ms` with `clients` /ws clients spread over
 * `edges` edge processes (ROLE=edge) fed by one engine process (ROLE=engine, the built-in simulator as
 * the market) through Redis. Each client measures every frame's delivery (arrival − the edge's `sentUs`,
 * same host clock) with the e2e benchmark's load process (bench/e2e/load.ts); the samples of all load
 * processes are merged. The stream's update rate is the config's `stream.updateRateHz` (10 Hz default).
 *
 * Standalone: `REDIS_URL=... npx tsx bench/cluster/delivery.ts [clients] [seconds]` prints the figures.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Samples } from '../lib.js';
import { startProc, type Proc } from '../e2e/proc.js';

export interface ClusterDeliveryResult {
  clients: number;
  edges: number;
  frames: number;
  delivery_p50_ms: number;
  delivery_p99_ms: number;
  delivery_p999_ms: number;
}

interface LoadLine {
  result: { clients: number; frames: number };
}

async function listeningPort(p: Proc): Promise<number> {
  const line = await p.waitFor((l) => l.includes('"msg":"listening"'), 90_000);
  return (JSON.parse(line) as { port: number }).port;
}

export async function measureClusterDelivery(opts: { redisUrl: string; clients?: number; edges?: number; seconds?: number; loadProcsPerEdge?: number }): Promise<ClusterDeliveryResult> {
  const clients = opts.clients ?? 3000;
  const edges = opts.edges ?? 2;
  const seconds = opts.seconds ?? 15;
  const perEdgeProcs = opts.loadProcsPerEdge ?? 2;
  const prefix = `perpscan-bench:cluster-delivery:${process.pid}:`;
  const env = { ...process.env, REDIS_URL: opts.redisUrl, REDIS_PREFIX: prefix, HOST: '127.0.0.1', PORT: '0', LOG_FORMAT: 'json', PERPSCAN_CONFIG: '/nonexistent/perpscan.config.json' };
  const engine = startProc(['server/main.ts'], { ...env, ROLE: 'engine', FEEDS: 'sim' });
  const edgeProcs = Array.from({ length: edges }, () => startProc(['server/main.ts'], { ...env, ROLE: 'edge', MAX_CONNECTIONS_PER_IP: '0' }));
  const procs: Proc[] = [engine, ...edgeProcs];
  try {
    await listeningPort(engine);
    const ports = await Promise.all(edgeProcs.map(listeningPort));
    const rawFile = (i: number) => join(tmpdir(), `perpscan-cluster-load-${process.pid}-${i}.json`);
    const nProcs = edges * perEdgeProcs;
    const loads = Array.from({ length: nProcs }, (_, i) => {
      const n = Math.floor(clients / nProcs) + (i < clients % nProcs ? 1 : 0);
      return startProc(['bench/e2e/load.ts', `ws://127.0.0.1:${ports[i % edges]}/ws`, String(n), String(seconds), `--raw=${rawFile(i)}`], { ...process.env });
    });
    procs.push(...loads);
    const lines = await Promise.all(loads.map((l) => l.waitFor((line) => line.includes('"result"'), (seconds + 150) * 1000)));
    const delivery = new Samples(10_000_000);
    let frames = 0;
    let connected = 0;
    lines.forEach((line, i) => {
      const r = (JSON.parse(line) as LoadLine).result;
      frames += r.frames;
      connected += r.clients;
      const raw = JSON.parse(readFileSync(rawFile(i), 'utf8')) as { delivery_raw: number[] };
      rmSync(rawFile(i), { force: true });
      for (const v of raw.delivery_raw) delivery.add(v);
    });
    const d = delivery.summary();
    return { clients: connected, edges, frames, delivery_p50_ms: d.p50, delivery_p99_ms: d.p99, delivery_p999_ms: d.p999 };
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    const redis = new Redis(opts.redisUrl);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [clientsArg, secondsArg] = process.argv.slice(2);
  measureClusterDelivery({ redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', clients: Number(clientsArg ?? 3000), seconds: Number(secondsArg ?? 15) }).then(
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
