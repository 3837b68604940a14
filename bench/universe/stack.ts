/**
 * Simulator process + server process for the universe and soak benchmarks, and the readings taken from
 * them: the simulator's cumulative counters (its JSON lines), the server's feeds/stats over its own REST API,
 * CPU and RSS from /proc, heap after a forced GC through the server's loopback inspector.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import type { Exchange } from '../../shared/exchanges.js';
import type { FeedState } from '../../shared/feeds.js';
import type { EngineStats } from '../../shared/protocol.js';
import { cpuSeconds, type Proc, startProc } from '../e2e/proc.js';
import { inspectorUrlOf } from '../inspector.js';
import { universeServerEnv } from './universe.js';

export interface SimSample {
  tMs: number;
  generated: number;
  sent: Record<Exchange, number>;
  connections: Record<Exchange, number>;
  cpuUs: number;
}

export interface StackOptions {
  /** Quote messages per second the simulator offers (all venues together). */
  rate: number;
  /** Instruments in the simulated universe. */
  instruments: number;
  dislocationsPerMin?: number;
  /** Extra node flags for the server (e.g. `--cpu-prof`). */
  serverFlags?: string[];
  /** Extra environment for the server (REDIS_URL, PERPSCAN_STRATEGY_ENABLED, …). */
  serverEnv?: Record<string, string>;
  /** How long start-up may take before the bench gives up (ms). */
  startupTimeoutMs?: number;
  /** Called once the simulator is up, before the server is spawned (e.g. to record frames meanwhile). */
  onSimulator?: (endpoints: Record<Exchange, { ws: string; rest: string }>) => void;
}

export interface StartupTimes {
  /** Server process spawn → its "listening" log line. */
  listening_ms: number;
  /** Spawn → every venue's metadata (REST) loaded. */
  metadata_loaded_ms: number;
  /**
   * Spawn → every venue `live` (each of its sockets has delivered data since subscribing) with its full topic
   * count subscribed (FeedState.subscriptions at its settled value). The topic count is set when a socket starts
   * its paced subscribe messages, so the venue's last subscribe goes out up to (messages − 1) × spacing later.
   */
  all_venues_subscribed_ms: number;
  /** Per venue: spawn → that venue live with its full topic count. */
  per_venue_ms: Partial<Record<Exchange, number>>;
  /** Topics subscribed per venue once settled. */
  topics: Partial<Record<Exchange, number>>;
}

export interface UniverseStack {
  sim: Proc;
  server: Proc;
  pid: number;
  port: number;
  inspectorUrl: string;
  base: string;
  startup: StartupTimes;
  /** The simulator's newest counters. */
  simSample(): SimSample;
  /** Changes the simulator's offered rate (`rate N` on its stdin). */
  setRate(rate: number): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function getJson<T>(base: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

export const feedsOf = async (base: string): Promise<FeedState[]> => (await getJson<{ feeds: FeedState[] }>(base, '/api/feeds')).feeds;
export const statsOf = async (base: string): Promise<{ stats: EngineStats; persistence: { backlog: number; connected: boolean; kind: string } }> =>
  getJson(base, '/api/stats');

/** Frames received by the server across venues (FeedState.messages: every frame, data or not). */
export const framesOf = (feeds: FeedState[]): number => feeds.reduce((s, f) => s + f.messages, 0);

/** (venue, instrument) pairs subscribed: configured instruments minus those a venue does not list. */
export function instrumentVenuePairs(feeds: FeedState[], instruments: number): number {
  // With discovery ("all"), what each venue subscribed; with an explicit list, the list minus what a venue does not list.
  return feeds.reduce((s, f) => s + (f.status === 'stopped' ? 0 : (f.discovery?.subscribed ?? instruments - (f.unlisted?.length ?? 0))), 0);
}

export function latestSim(proc: Proc): SimSample {
  for (let i = proc.lines.length - 1; i >= 0; i--) {
    const line = proc.lines[i];
    if (line.startsWith('{"sim":')) return (JSON.parse(line) as { sim: SimSample }).sim;
  }
  throw new Error('simulator has not reported yet');
}

export const simSent = (s: SimSample): number => Object.values(s.sent).reduce((a, b) => a + b, 0);

/** Open sockets of a process (fd links to `socket:[…]`). */
export function socketCount(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed between the listing and the read
    }
  }
  return n;
}

export { cpuSeconds };

/** Polls /api/feeds from the server's spawn until every venue is live with a settled topic count. */
async function watchStartup(base: string, t0: number, listeningMs: number, timeoutMs: number): Promise<StartupTimes> {
  let metadataMs = Number.NaN;
  const perVenue: Partial<Record<Exchange, number>> = {};
  const topics: Partial<Record<Exchange, number>> = {};
  let stableSince = 0;
  let lastKey = '';
  let allAt = Number.NaN;
  while (performance.now() - t0 < timeoutMs) {
    const at = performance.now() - t0;
    const feeds = await feedsOf(base).catch(() => [] as FeedState[]);
    if (feeds.length > 0 && Number.isNaN(metadataMs) && feeds.every((f) => f.metadata === 'loaded')) metadataMs = at;
    for (const f of feeds) {
      // A venue counts from the first poll where it is live with the topic count it then keeps.
      if (f.status === 'live' && topics[f.exchange] !== f.subscriptions) {
        topics[f.exchange] = f.subscriptions;
        perVenue[f.exchange] = at;
      } else if (f.status !== 'live') delete perVenue[f.exchange];
    }
    const key = feeds.map((f) => `${f.exchange}:${f.status}:${f.subscriptions}`).join();
    const allLive = feeds.length > 0 && feeds.every((f) => f.status === 'live' && f.subscriptions > 0);
    if (allLive && key !== lastKey) {
      allAt = at;
      stableSince = performance.now();
    }
    lastKey = key;
    // Settled: nothing changed for 2 s (a plan may open a further socket or add topics after the first is live).
    if (allLive && performance.now() - stableSince > 2000) break;
    if (!allLive) allAt = Number.NaN;
    await sleep(25);
  }
  if (Number.isNaN(allAt)) throw new Error(`feeds not all live within ${timeoutMs} ms`);
  return { listening_ms: listeningMs, metadata_loaded_ms: metadataMs, all_venues_subscribed_ms: allAt, per_venue_ms: perVenue, topics };
}

export async function startUniverseStack(o: StackOptions): Promise<UniverseStack> {
  const sim = startProc(['bench/universe/sim.ts', '--rate', String(o.rate), '--instruments', String(o.instruments), '--dislocations', String(o.dislocationsPerMin ?? 600)], { ...process.env }, { stdin: 'pipe' });
  const endpointsLine = await sim.waitFor((l) => l.startsWith('{"endpoints":'));
  const endpoints = (JSON.parse(endpointsLine) as { endpoints: Record<Exchange, { ws: string; rest: string }> }).endpoints;
  o.onSimulator?.(endpoints);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: '0',
    FEEDS: 'live',
    FEED_ENDPOINTS: JSON.stringify(endpoints),
    PERPSCAN_CONFIG: '/nonexistent.json',
    LOG_LEVEL: 'info',
    MAX_CONNECTIONS_PER_IP: '0',
  };
  for (const k of ['REDIS_URL', 'REDIS_PREFIX', 'API_TOKEN', 'BASE_PATH']) delete env[k];
  Object.assign(env, universeServerEnv(o.instruments), o.serverEnv);
  const t0 = performance.now();
  // The inspector (loopback, random port) lets the bench force a full GC and read the heap after it.
  const server = startProc(['--inspect=127.0.0.1:0', ...(o.serverFlags ?? []), 'server/main.ts'], env);
  const inspectorUrl = inspectorUrlOf(await server.waitFor((l) => l.includes('Debugger listening on')));
  const line = await server.waitFor((l) => l.includes('"msg":"listening"'), 60_000);
  const listeningMs = performance.now() - t0;
  const port = (JSON.parse(line) as { port: number }).port;
  const base = `http://127.0.0.1:${port}`;
  const startup = await watchStartup(base, t0, listeningMs, o.startupTimeoutMs ?? 600_000);
  return {
    sim,
    server,
    pid: server.child.pid!,
    port,
    inspectorUrl,
    base,
    startup,
    simSample: () => latestSim(sim),
    async setRate(rate: number) {
      sim.child.stdin?.write(`rate ${rate}\n`);
      await sleep(1000); // applied on the simulator's next line read; the caller warms up after this anyway
    },
    async stop() {
      await server.stop();
      await sim.stop();
    },
  };
}
