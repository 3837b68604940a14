/**
 * Single node against the floor, in one run, same clients, same frames:
 *
 * 1. The real server (`server/main.ts`, fed by the simulator in its own process over real sockets, as
 *    bench/e2e does) with N `/ws` clients at 10 Hz spread over
 *    load processes (bench/e2e/load.ts): frame delivery = client arrival − the server's `sentUs` (the
 *    start of the send pass that carried it), and opened/closed end to end (arrival − the market frame's
 *    receive time). A recorder client keeps every frame the server sent, with its time.
 * 2. The floor: a bare `ws` server (this process; no feeds, engine or hub) sends the recorded frames, at
 *    their recorded times, to the same number of clients with a plain `send` per client.
 *
 * `fanout_ratio_vs_floor` = single-node p99 ÷ floor p99 (goal ≤ 1.5).
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import type { ServerFrame } from '../../shared/protocol.js';
import { Samples } from '../lib.js';
import { EXCHANGES } from '../../shared/exchanges.js';
import { cpuSeconds, freePortBlock, nowUs, type Proc, startProc } from '../e2e/proc.js';

export interface SingleNodeOptions {
  clients: number;
  /** Measured seconds per phase (after connecting and a settle time). */
  seconds: number;
  loadProcs: number;
  /** Simulator messages/s fed to the server. */
  simRate: number;
  /** Simulated dislocations per minute: each opens an opportunity, moves it for a while and closes it. */
  dislocationsPerMin: number;
  /** Instruments the server scans (each on every venue). */
  instruments: string[];
}

export interface LatencySummary {
  p50_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  samples: number;
}

export interface SingleNodeResult {
  clients: number;
  single_node_delivery_p99_ms: number;
  floor_p99_ms: number;
  fanout_ratio_vs_floor: number;
  single_node: LatencySummary & {
    e2e_opened_closed: LatencySummary;
    /** The hub's own pass (bus drained → last client written), from its last stats window; null if none. */
    server_pass: { p50_ms: number; p99_ms: number; count: number } | null;
    frames_per_sec: number;
    mean_frame_bytes: number;
    server_cpu_pct: number;
    frame_gaps: number;
    closed_early: number;
  };
  floor: LatencySummary & { server_pass: { p50_ms: number; p99_ms: number; count: number }; frames_per_sec: number; frame_gaps: number; closed_early: number };
}

interface LoadPart {
  clients: number;
  frames: number;
  frameGaps: number;
  closedEarly: number;
  delivery_raw: number[];
  e2e_raw: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function summarise(values: number[]): LatencySummary {
  const s = new Samples(Math.max(1, values.length));
  for (const v of values) s.add(v);
  const r = s.summary();
  return { p50_ms: r.p50, p99_ms: r.p99, p999_ms: r.p999, max_ms: r.max, samples: r.count };
}

/** Runs the load processes against `url` for `seconds` and merges what they measured. */
async function runLoad(url: string, opts: SingleNodeOptions, tag: string, onConnected: () => void = () => {}): Promise<{ parts: LoadPart[]; elapsedS: number }> {
  const rawFile = (i: number) => join(tmpdir(), `perpscan-cluster-${tag}-${process.pid}-${i}.json`);
  const loads: Proc[] = Array.from({ length: opts.loadProcs }, (_, i) => {
    const n = Math.floor(opts.clients / opts.loadProcs) + (i < opts.clients % opts.loadProcs ? 1 : 0);
    return startProc(['bench/e2e/load.ts', url, String(n), String(opts.seconds), `--raw=${rawFile(i)}`], { ...process.env });
  });
  await Promise.all(loads.map((l) => l.waitFor((line) => line.includes('"connected"'), 180_000)));
  onConnected();
  const t0 = performance.now();
  const lines = await Promise.all(loads.map((l) => l.waitFor((line) => line.includes('"result"'), (opts.seconds + 60) * 1000)));
  const elapsedS = (performance.now() - t0) / 1000;
  await Promise.all(loads.map((l) => l.stop()));
  const parts = lines.map((line, i): LoadPart => {
    const raw = JSON.parse(readFileSync(rawFile(i), 'utf8')) as Pick<LoadPart, 'delivery_raw' | 'e2e_raw'>;
    rmSync(rawFile(i), { force: true });
    return { ...(JSON.parse(line) as { result: Omit<LoadPart, 'delivery_raw' | 'e2e_raw'> }).result, ...raw };
  });
  return { parts, elapsedS };
}

const sum = (parts: LoadPart[], k: 'clients' | 'frames' | 'frameGaps' | 'closedEarly') => parts.reduce((acc, p) => acc + p[k], 0);

interface RecordedFrame {
  atMs: number;
  /** The frame after its `{"frame":N,"sentUs":T,` head: `"messages":[…]}`. */
  rest: string;
}

const HEAD_RE = /^\{"frame":\d+,"sentUs":\d+,/;

/**
 * The hub's `bus_to_sent` (pump start → last client written) of its last completed stats window, read from
 * a fresh snapshot: the server's own share of the delivery latency, without the load processes' reading.
 */
async function busToSentOfLastWindow(url: string): Promise<{ p50_ms: number; p99_ms: number; count: number } | null> {
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
  const v = snap?.type === 'snapshot' ? snap.stats.latency.bus_to_sent : undefined;
  return v ? { p50_ms: v.p50Us / 1000, p99_ms: v.p99Us / 1000, count: v.count } : null;
}

/** Phase 1: the real server. */
async function measureServer(opts: SingleNodeOptions): Promise<{ result: SingleNodeResult['single_node']; recorded: RecordedFrame[] }> {
  const portBase = await freePortBlock(EXCHANGES.length);
  const sim = startProc(
    ['server/simulator/main.ts', '--port-base', String(portBase), '--rate', String(opts.simRate), '--dislocations', String(opts.dislocationsPerMin), '--instruments', opts.instruments.join(',')],
    { ...process.env },
  );
  await sim.waitFor((l) => l.includes('simulator running'), 60_000);
  const endpoints = Object.fromEntries(EXCHANGES.map((ex, i) => [ex, { ws: `ws://127.0.0.1:${portBase + i}`, rest: `http://127.0.0.1:${portBase + i}` }]));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: '0',
    FEEDS: 'live',
    FEED_ENDPOINTS: JSON.stringify(endpoints),
    PERPSCAN_INSTRUMENTS: opts.instruments.join(','),
    PERPSCAN_CONFIG: '/nonexistent.json',
    LOG_LEVEL: 'info', // the "listening" line carries the port
    LOG_FORMAT: 'json',
    MAX_CONNECTIONS_PER_IP: '0', // every bench client shares 127.0.0.1
  };
  for (const k of ['REDIS_URL', 'API_TOKEN', 'BASE_PATH']) delete env[k];
  const server = startProc(['server/main.ts'], env);
  try {
    const line = await server.waitFor((l) => l.includes('"msg":"listening"'), 60_000);
    const port = (JSON.parse(line) as { port: number }).port;
    const url = `ws://127.0.0.1:${port}/ws`;
    // The recorder: one more client whose frames the floor will send.
    const recorded: RecordedFrame[] = [];
    let recording = false;
    let bytes = 0;
    const recorder = new WebSocket(url);
    recorder.on('message', (data) => {
      if (!recording) return;
      const text = (data as Buffer).toString();
      const head = HEAD_RE.exec(text);
      if (!head) return;
      recorded.push({ atMs: performance.now(), rest: text.slice(head[0].length) });
      bytes += text.length;
    });
    await new Promise((r) => recorder.once('open', r));
    const pid = server.child.pid!;
    let cpu0 = 0;
    let t0 = 0;
    const { parts, elapsedS } = await runLoad(url, opts, 'server', () => {
      recording = true;
      cpu0 = cpuSeconds(pid);
      t0 = performance.now();
    });
    const cpuPct = ((cpuSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100;
    recording = false;
    recorder.terminate();
    const serverPass = await busToSentOfLastWindow(url);
    const d = summarise(parts.flatMap((p) => p.delivery_raw));
    return {
      recorded,
      result: {
        ...d,
        e2e_opened_closed: summarise(parts.flatMap((p) => p.e2e_raw)),
        server_pass: serverPass,
        frames_per_sec: recorded.length / elapsedS,
        mean_frame_bytes: recorded.length > 0 ? bytes / recorded.length : 0,
        server_cpu_pct: cpuPct,
        frame_gaps: sum(parts, 'frameGaps'),
        closed_early: sum(parts, 'closedEarly'),
      },
    };
  } finally {
    await server.stop();
    await sim.stop();
  }
}

/** Phase 2: a bare `ws` server sends the recorded frames at their recorded times, in a loop. */
async function measureFloor(opts: SingleNodeOptions, recorded: RecordedFrame[]): Promise<SingleNodeResult['floor']> {
  if (recorded.length === 0) throw new Error('the server phase recorded no frames');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as { port: number }).port;
  const frameNo = new Map<WebSocket, number>();
  wss.on('connection', (ws) => {
    frameNo.set(ws, 0);
    ws.on('close', () => frameNo.delete(ws));
  });
  const origin = recorded[0].atMs;
  const span = recorded[recorded.length - 1].atMs - origin + 100;
  let next = 0;
  let loopStart = performance.now();
  let sent = 0;
  let stopped = false;
  let measuring = false;
  const pass = new Samples(1_000_000);
  const sendDue = () => {
    if (stopped) return;
    const now = performance.now();
    while (now - loopStart >= recorded[next].atMs - origin) {
      const rest = recorded[next].rest;
      const sentUs = Math.round(nowUs());
      for (const [ws, n] of frameNo) {
        frameNo.set(ws, n + 1);
        ws.send(`{"frame":${n + 1},"sentUs":${sentUs},${rest}`, { compress: false });
      }
      if (measuring) pass.add(nowUs() / 1000 - sentUs / 1000);
      sent++;
      next++;
      if (next === recorded.length) {
        next = 0;
        loopStart += span;
      }
    }
    const waitMs = Math.max(0, recorded[next].atMs - origin - (performance.now() - loopStart));
    setTimeout(sendDue, waitMs);
  };
  sendDue();
  let sentAtStart = 0;
  const { parts, elapsedS } = await runLoad(`ws://127.0.0.1:${port}`, opts, 'floor', () => {
    sentAtStart = sent;
    measuring = true;
  });
  const p = pass.summary();
  stopped = true;
  for (const ws of frameNo.keys()) ws.terminate();
  wss.close();
  return { ...summarise(parts.flatMap((part) => part.delivery_raw)), server_pass: { p50_ms: p.p50, p99_ms: p.p99, count: p.count }, frames_per_sec: (sent - sentAtStart) / elapsedS, frame_gaps: sum(parts, 'frameGaps'), closed_early: sum(parts, 'closedEarly') };
}

export async function measureSingleNodeVsFloor(opts: SingleNodeOptions): Promise<SingleNodeResult> {
  const { result: server, recorded } = await measureServer(opts);
  await sleep(1000);
  const floor = await measureFloor(opts, recorded);
  return {
    clients: opts.clients,
    single_node_delivery_p99_ms: server.p99_ms,
    floor_p99_ms: floor.p99_ms,
    fanout_ratio_vs_floor: server.p99_ms / floor.p99_ms,
    single_node: server,
    floor,
  };
}
