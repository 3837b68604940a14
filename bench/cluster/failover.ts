/**
 * Cluster piece of `npm run bench -- cluster`: `failover_s` = time from `kill -9` of the active engine
 * (ROLE=engine) to the first live opportunity row (opened or updated, not the takeover's closes) that an
 * edge (ROLE=edge) sends its /ws client from the standby engine, which waits on the Redis lease
 * (LEASE_TTL_MS, 2 s here as in test/cluster/failover.test.ts). Processes on loopback; the built-in
 * simulator is the market.
 *
 * Standalone: `REDIS_URL=... npx tsx bench/cluster/failover.ts` prints the figures.
 */
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import type { ServerFrame } from '../../shared/protocol.js';
import { startProc, type Proc } from '../e2e/proc.js';

export interface FailoverResult {
  failover_s: number;
  /** kill -9 → the standby's log line saying it holds the lease. */
  lease_taken_s: number;
  lease_ttl_ms: number;
}

const LEASE_TTL_MS = 2000;

const logRecord = (line: string): { msg?: string; port?: number; time?: number } | null => {
  if (!line.startsWith('{')) return null;
  try {
    return JSON.parse(line) as { msg?: string; port?: number; time?: number };
  } catch {
    return null;
  }
};

export async function measureFailover(opts: { redisUrl: string; timeoutMs?: number }): Promise<FailoverResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const prefix = `perpscan-bench:cluster-failover:${process.pid}:`;
  const env = {
    ...process.env,
    REDIS_URL: opts.redisUrl,
    REDIS_PREFIX: prefix,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_FORMAT: 'json',
    LEASE_TTL_MS: String(LEASE_TTL_MS),
    PERPSCAN_CONFIG: '/nonexistent/perpscan.config.json',
  };
  const engineEnv = { ...env, ROLE: 'engine', FEEDS: 'sim', SIM_RATE: '1000', SIM_DISLOCATIONS_PER_MIN: '600' };
  const procs: Proc[] = [];
  let ws: WebSocket | null = null;
  try {
    const active = startProc(['server/main.ts'], engineEnv);
    procs.push(active);
    await active.waitFor((l) => logRecord(l)?.msg === 'listening', 90_000);
    const standby = startProc(['server/main.ts'], engineEnv);
    procs.push(standby);
    await standby.waitFor((l) => logRecord(l)?.msg?.startsWith('standby:') === true, 90_000);
    const edge = startProc(['server/main.ts'], { ...env, ROLE: 'edge' });
    procs.push(edge);
    const port = logRecord(await edge.waitFor((l) => logRecord(l)?.msg === 'listening', 90_000))?.port;

    // Live rows: receive times of frames carrying an opened or updated opportunity.
    const liveMs: number[] = [];
    ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as ServerFrame;
      if (frame.messages?.some((m) => m.type === 'opportunity' && m.event !== 'closed')) liveMs.push(Date.now());
    });
    const until = async (pred: () => boolean, what: string): Promise<void> => {
      const end = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`failover bench: timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await until(() => liveMs.length > 0, 'live rows before the kill');

    const killedMs = Date.now();
    active.child.kill('SIGKILL');
    const leaseLine = await standby.waitFor((l) => logRecord(l)?.msg === 'cluster: this engine holds the lease', timeoutMs);
    const leaseMs = logRecord(leaseLine)?.time ?? Date.now();
    await until(() => liveMs.some((t) => t > leaseMs), 'live rows from the new engine');
    const resumedMs = liveMs.find((t) => t > leaseMs) as number;
    return { failover_s: (resumedMs - killedMs) / 1000, lease_taken_s: (leaseMs - killedMs) / 1000, lease_ttl_ms: LEASE_TTL_MS };
  } finally {
    ws?.terminate();
    await Promise.all(procs.map((p) => p.stop()));
    const redis = new Redis(opts.redisUrl);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  measureFailover({ redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).then(
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
