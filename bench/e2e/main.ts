/**
 * bench/e2e: simulator (its own process) → server (its own process: feeds, engine, strategy, stream) → `ws`
 * clients. For 10,000 and 100,000 simulator msgs/s: latency from the exchange frame's receive time (recvUs,
 * stamped by the feed) to the `opened`/`closed` message's arrival at a client, the server's per-stage
 * latencies (from its stats messages), server CPU % and RSS. Then fan-out: 1,000 clients in a separate load
 * process at the default 10 Hz. Writes bench/results/e2e.json. Takes about 1.5 minutes.
 *
 * Budget (seed): p99 < 5 ms end to end, CPU < 15 %, < 5 MB added memory; fan-out p99 < 20 ms.
 */
import { readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { ServerFrame, ServerMessage } from '../../shared/protocol.js';
import { EXCHANGES } from '../../shared/exchanges.js';
import { heapAfterGcMb } from '../inspector.js';
import { report, Samples, writeResult } from '../lib.js';
import { cpuSeconds, freePortBlock, nowUs, type Proc, rssMb, startProc } from './proc.js';

const WARMUP_S = Number(process.env.E2E_WARMUP_S ?? 3);
const MEASURE_S = Number(process.env.E2E_MEASURE_S ?? 10);
const FANOUT_CLIENTS = Number(process.env.E2E_CLIENTS ?? 1000);
/** Load processes the fan-out clients are spread over (one process reading 1,000 sockets queues behind itself). */
const LOAD_PROCS = Math.max(1, Number(process.env.E2E_LOAD_PROCS ?? 4));
const PARTS = (process.env.E2E_PARTS ?? 'rates,fanout').split(',');
const DISLOCATIONS_PER_MIN = 600; // enough opened/closed events to sample

interface Stack {
  sim: Proc;
  server: Proc;
  pid: number;
  port: number;
  inspectorUrl: string;
}

async function startStack(rate: number, dislocationsPerMin = DISLOCATIONS_PER_MIN): Promise<Stack> {
  const portBase = await freePortBlock(4);
  const sim = startProc(['server/simulator/main.ts', '--port-base', String(portBase), '--rate', String(rate), '--dislocations', String(dislocationsPerMin)], { ...process.env });
  await sim.waitFor((l) => l.includes('simulator running'));
  const endpoints = Object.fromEntries(EXCHANGES.map((ex, i) => [ex, { ws: `ws://127.0.0.1:${portBase + i}`, rest: `http://127.0.0.1:${portBase + i}` }]));
  const env: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', PORT: '0', FEEDS: 'live', FEED_ENDPOINTS: JSON.stringify(endpoints), PERPSCAN_CONFIG: '/nonexistent.json', LOG_LEVEL: 'info', MAX_CONNECTIONS_PER_IP: '0' }; // 1,000 fan-out clients share 127.0.0.1
  for (const k of ['REDIS_URL', 'API_TOKEN', 'BASE_PATH']) delete env[k];
  // E2E_SERVER_PROF=<dir>: write a V8 CPU profile of the server process there (node --cpu-prof).
  const prof = process.env.E2E_SERVER_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.E2E_SERVER_PROF}`] : [];
  // E2E_SERVER_FLAGS: extra node flags for the server, e.g. `--max-semi-space-size=2` (see the RSS note).
  const flags = (process.env.E2E_SERVER_FLAGS ?? '').split(' ').filter(Boolean);
  // The inspector (loopback, random port) lets the bench force a full GC and read the heap after it.
  const server = startProc(['--inspect=127.0.0.1:0', ...prof, ...flags, 'server/main.ts'], env);
  const inspectorLine = await server.waitFor((l) => l.includes('Debugger listening on'));
  const line = await server.waitFor((l) => l.includes('"msg":"listening"'));
  const port = (JSON.parse(line) as { port: number }).port;
  return { sim, server, pid: server.child.pid!, port, inspectorUrl: /ws:\/\/\S+/.exec(inspectorLine)?.[0] ?? '' };
}

async function stopStack(s: Stack): Promise<void> {
  await s.server.stop();
  await s.sim.stop();
}

/** V8 heap used and young-generation size (MB) from the server's /metrics (prom-client default metrics). */
async function heapMb(port: number): Promise<{ used: number; young: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN) / 1024 / 1024;
  return { used: num(/^nodejs_heap_size_used_bytes (\S+)/m), young: num(/^nodejs_heap_space_size_total_bytes\{space="new"\} (\S+)/m) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measureRate(rate: number) {
  const stack = await startStack(rate);
  const idleRss = rssMb(stack.pid);
  const samples = new Samples(2_000_000);
  let lastStats: Extract<ServerMessage, { type: 'stats' }> | null = null;
  let measuring = false;
  let frames = 0;
  let gaps = 0;
  const ws = new WebSocket(`ws://127.0.0.1:${stack.port}/ws`);
  ws.on('message', (data) => {
    const arrival = nowUs();
    const f = JSON.parse((data as Buffer).toString()) as ServerFrame;
    if (f.frame !== frames + 1) gaps++;
    frames = f.frame;
    for (const m of f.messages) {
      if (m.type === 'stats') lastStats = m;
      if (measuring && m.type === 'opportunity' && m.event !== 'updated') samples.add((arrival - m.recvUs) / 1000);
    }
  });
  await new Promise((r) => ws.once('open', r));
  await sleep(WARMUP_S * 1000);
  const rssStart = rssMb(stack.pid);
  const heapStart = await heapMb(stack.port);
  const heapGcStart = await heapAfterGcMb(stack.inspectorUrl);
  const cpu0 = cpuSeconds(stack.pid);
  const t0 = performance.now();
  measuring = true;
  await sleep(MEASURE_S * 1000);
  measuring = false;
  const cpuPct = ((cpuSeconds(stack.pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100;
  const rssEnd = rssMb(stack.pid);
  const heapEnd = await heapMb(stack.port);
  const heapGcEnd = await heapAfterGcMb(stack.inspectorUrl);
  const simCpu = cpuSeconds(stack.sim.child.pid!);
  ws.terminate();
  await stopStack(stack);
  const s = samples.summary();
  const stats = (lastStats as Extract<ServerMessage, { type: 'stats' }> | null)?.stats;
  const stages: Record<string, { p50_ms: number; p99_ms: number; count: number }> = {};
  for (const [stage, v] of Object.entries(stats?.latency ?? {})) if (v) stages[stage] = { p50_ms: v.p50Us / 1000, p99_ms: v.p99Us / 1000, count: v.count };
  return {
    rate,
    p50_ms: s.p50,
    p99_ms: s.p99,
    p999_ms: s.p999,
    max_ms: s.max,
    samples: s.count,
    cpu_pct: cpuPct,
    rss_mb: rssEnd,
    rss_idle_mb: idleRss,
    rss_added_mb: rssEnd - rssStart,
    heap_used_start_mb: heapStart.used,
    heap_used_end_mb: heapEnd.used,
    heap_after_gc_start_mb: heapGcStart,
    heap_after_gc_end_mb: heapGcEnd,
    heap_after_gc_added_mb: heapGcEnd - heapGcStart,
    young_gen_start_mb: heapStart.young,
    young_gen_end_mb: heapEnd.young,
    updates_per_sec: stats?.updatesPerSec ?? 0,
    pipeline_dropped: stats?.pipelineDropped ?? 0,
    frame_gaps: gaps,
    server_stages: stages,
    simulator_cpu_s: simCpu,
  };
}

interface FanoutResult {
  clients: number;
  frames: number;
  frameGaps: number;
  closedEarly: number;
  p50_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  e2e_samples: number;
  e2e_p50_ms: number;
  e2e_p99_ms: number;
}

/**
 * One stage's latency from a fresh snapshot's stats (the server's last completed stats window). In the
 * fan-out, `bus_to_sent` of an opened/closed event spans the whole pass over all clients: the server's
 * own share of the delivery latency, without the load processes' reading.
 */
async function serverStageFromSnapshot(url: string, stage: 'bus_to_sent'): Promise<{ p50_ms: number; p99_ms: number; count: number } | null> {
  const ws = new WebSocket(url);
  const first = await new Promise<ServerFrame | null>((resolve) => {
    const t = setTimeout(() => resolve(null), 10_000);
    ws.once('message', (data) => {
      clearTimeout(t);
      resolve(JSON.parse((data as Buffer).toString()) as ServerFrame);
    });
    ws.once('error', () => resolve(null));
  });
  ws.terminate();
  const snap = first?.messages[0];
  const v = snap?.type === 'snapshot' ? snap.stats.latency[stage] : undefined;
  return v ? { p50_ms: v.p50Us / 1000, p99_ms: v.p99Us / 1000, count: v.count } : null;
}

interface LoadResult extends FanoutResult {
  cpu_pct: number;
  delivery_raw: number[];
  e2e_raw: number[];
}

function summarise(values: number[]): { p50: number; p99: number; p999: number; max: number; count: number } {
  const s = new Samples(Math.max(1, values.length));
  for (const v of values) s.add(v);
  return s.summary();
}

async function measureFanout(rate: number) {
  const stack = await startStack(rate, 30); // the simulator's default dislocation rate
  const url = `ws://127.0.0.1:${stack.port}/ws`;
  const rawFile = (i: number) => join(tmpdir(), `perpscan-e2e-load-${process.pid}-${i}.json`);
  const loads = Array.from({ length: LOAD_PROCS }, (_, i) => {
    const n = Math.floor(FANOUT_CLIENTS / LOAD_PROCS) + (i < FANOUT_CLIENTS % LOAD_PROCS ? 1 : 0);
    return startProc(['bench/e2e/load.ts', url, String(n), String(MEASURE_S), `--raw=${rawFile(i)}`], { ...process.env });
  });
  await Promise.all(loads.map((l) => l.waitFor((line) => line.includes('"connected"'), 120_000)));
  await sleep(2000);
  const rssStart = rssMb(stack.pid);
  const cpu0 = cpuSeconds(stack.pid);
  const t0 = performance.now();
  const lines = await Promise.all(loads.map((l) => l.waitFor((line) => line.includes('"result"'), (MEASURE_S + 30) * 1000)));
  const elapsedS = (performance.now() - t0) / 1000;
  const cpuPct = ((cpuSeconds(stack.pid) - cpu0) / elapsedS) * 100;
  const rssEnd = rssMb(stack.pid);
  const serverPass = await serverStageFromSnapshot(url, 'bus_to_sent');
  await Promise.all(loads.map((l) => l.stop()));
  await stopStack(stack);
  const parts = lines.map((line, i): LoadResult => {
    const raw = JSON.parse(readFileSync(rawFile(i), 'utf8')) as Pick<LoadResult, 'delivery_raw' | 'e2e_raw'>;
    rmSync(rawFile(i), { force: true });
    return { ...(JSON.parse(line) as { result: LoadResult }).result, ...raw };
  });
  const loadCpuPct = parts.reduce((acc, p) => acc + p.cpu_pct, 0);
  const d = summarise(parts.flatMap((p) => p.delivery_raw));
  const e = summarise(parts.flatMap((p) => p.e2e_raw));
  const sum = (k: 'clients' | 'frames' | 'frameGaps' | 'closedEarly') => parts.reduce((acc, p) => acc + p[k], 0);
  const r: FanoutResult = {
    clients: sum('clients'),
    frames: sum('frames'),
    frameGaps: sum('frameGaps'),
    closedEarly: sum('closedEarly'),
    p50_ms: d.p50,
    p99_ms: d.p99,
    p999_ms: d.p999,
    max_ms: d.max,
    e2e_samples: e.count,
    e2e_p50_ms: e.p50,
    e2e_p99_ms: e.p99,
  };
  return { rate, load_processes: LOAD_PROCS, load_cpu_pct: loadCpuPct, server_bus_to_sent_last_window: serverPass, ...r, cpu_pct: cpuPct, rss_mb: rssEnd, rss_added_mb: rssEnd - rssStart };
}

const rates: Record<string, Awaited<ReturnType<typeof measureRate>>> = {};
const RATES = (process.env.E2E_RATES ?? '10000,100000').split(',').map(Number);
for (const rate of PARTS.includes('rates') ? RATES : []) {
  const r = await measureRate(rate);
  rates[String(rate)] = r;
  report(`e2e @ ${rate.toLocaleString('en-US')} msgs/s (simulator → server → ws client)`, [
    ['opened/closed samples', r.samples],
    ['end-to-end p50 ms', r.p50_ms],
    ['end-to-end p99 ms', r.p99_ms],
    ['end-to-end p99.9 ms', r.p999_ms],
    ['server CPU %', r.cpu_pct],
    ['server RSS MB', r.rss_mb],
    ['RSS added during run MB', r.rss_added_mb],
    ['V8 heap used start → end MB (not after GC)', `${r.heap_used_start_mb.toFixed(1)} → ${r.heap_used_end_mb.toFixed(1)}`],
    ['V8 heap after full GC start → end MB', `${r.heap_after_gc_start_mb.toFixed(1)} → ${r.heap_after_gc_end_mb.toFixed(1)}`],
    ['V8 young generation start → end MB', `${r.young_gen_start_mb.toFixed(1)} → ${r.young_gen_end_mb.toFixed(1)}`],
    ['engine updates/s', r.updates_per_sec],
    ['pipeline dropped', r.pipeline_dropped],
    ['budget p99 < 5 ms / CPU < 15 % / < 5 MB added', `${r.p99_ms < 5 ? 'met' : 'MISSED'} / ${r.cpu_pct < 15 ? 'met' : 'MISSED'} / ${r.rss_added_mb < 5 ? 'met' : 'MISSED'}`],
    ...Object.entries(r.server_stages).map(([k, v]): [string, string] => [`stage ${k} p50/p99 ms`, `${v.p50_ms.toFixed(3)} / ${v.p99_ms.toFixed(3)}`]),
  ]);
}
const fanout = PARTS.includes('fanout') ? await measureFanout(2000) : null;
if (fanout) report(`fan-out: ${fanout.clients} clients (${fanout.load_processes} load processes), simulator 2,000 msgs/s, 10 Hz updates`, [
  ['clients / load processes', `${fanout.clients} / ${fanout.load_processes}`],
  ['frame gaps', fanout.frameGaps],
  ['frames received', fanout.frames],
  ['frame delivery p50 ms', fanout.p50_ms],
  ['frame delivery p99 ms', fanout.p99_ms],
  ['frame delivery p99.9 ms', fanout.p999_ms],
  ['opened/closed end-to-end p50 / p99 ms', `${fanout.e2e_p50_ms.toFixed(2)} / ${fanout.e2e_p99_ms.toFixed(2)} (${fanout.e2e_samples} samples)`],
  ['clients cut off', fanout.closedEarly],
  ['server pass (bus_to_sent, last stats window) p50 / p99 ms', fanout.server_bus_to_sent_last_window ? `${fanout.server_bus_to_sent_last_window.p50_ms.toFixed(2)} / ${fanout.server_bus_to_sent_last_window.p99_ms.toFixed(2)} (${fanout.server_bus_to_sent_last_window.count})` : 'n/a'],
  ['goal p99 < 20 ms', fanout.p99_ms < 20 ? 'met' : 'MISSED'],
  ['server CPU %', fanout.cpu_pct],
  ['server RSS MB', fanout.rss_mb],
  ['load processes CPU % (sum)', fanout.load_cpu_pct],
]);
const file = writeResult('e2e', {
  loadavg_1m_at_end: loadavg()[0],
  budget: { p99_ms: 5, cpu_pct: 15, added_mb: 5, fanout_p99_ms: 20 },
  rates,
  fanout,
  note: 'Machine: 2 cores shared with other work; loadavg_1m_at_end says how busy. Latency = client arrival − feed receive time (recvUs) of the frame that caused an opened/closed event; same host clock. CPU/RSS of the server process only (the simulator runs in its own process).',
});
console.log(`\nwrote ${file}`);
process.exit(0);
