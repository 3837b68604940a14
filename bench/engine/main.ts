/**
 * Engine benchmark: pre-built normalised updates for 4 exchanges × 200 instruments go through
 * pipeline → store → detector → bus, one subscriber draining, the way a feed drives it (push one
 * record, drain). Prints throughput, per-update detection latency (record stamped → detection done,
 * from the engine's own histogram) and heap growth; writes bench/results/engine.json.
 *
 *   npx tsx bench/engine/main.ts [updates=10000000]
 */
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DEFAULT_CONFIG, type Config } from '../../shared/config.js';
import { EXCHANGES } from '../../shared/exchanges.js';
import { Engine, nowUs } from '../../server/engine/index.js';
import { fmt, nowNs, report, writeResult } from '../lib.js';

const UPDATES = Number(process.argv[2] ?? 10_000_000);
const INSTRUMENTS = 200;
const TABLE = 1 << 17; // pre-built records, cycled
const FUNDING_EVERY = 50; // one funding record per 50
const SIM_MS_PER_UPDATE = 0.05; // simulated business time: 20,000 updates per simulated second
const SEED_TARGET = 10_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(42);
const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());

// --- set-up: 800 ids, pre-built records -------------------------------------------------------
const T0 = 1_700_000_000_000;
const clock = new Float64Array([T0]); // a typed-array cell: a module-level `let` double would box on every write
const config: Config = { ...DEFAULT_CONFIG, thresholds: { ...DEFAULT_CONFIG.thresholds, minSpreadBps: 5, minProfitBps: 2, hysteresisBps: 2 } };
const engine = new Engine({ config, now: () => clock[0], pipelineCapacity: 4096, busCapacity: 4096 });
const ids: number[] = [];
for (let i = 0; i < INSTRUMENTS; i++)
  for (const ex of EXCHANGES) ids.push(engine.registerInstrument(ex, `C${i}-${ex}`, { base: `C${i}`, quote: 'USDT' }));

const kind = new Uint8Array(TABLE);
const recId = new Int32Array(TABLE);
const a = new Float64Array(TABLE); // bid | rate
const b = new Float64Array(TABLE); // ask | interval
const c = new Float64Array(TABLE); // bidSize | next funding offset
const d = new Float64Array(TABLE); // askSize | predicted
const mid = new Float64Array(INSTRUMENTS).map(() => 10 + rand() * 1000);
// Each venue's price = instrument mid × (1 + offset); offsets mean-revert (σ ≈ 3 bps) and now and then
// jump by ~40 bps (a dislocation) so opportunities open, update and close at a realistic rate.
const offset = new Float64Array(INSTRUMENTS * EXCHANGES.length);
for (let r = 0; r < TABLE; r++) {
  const id = ids[Math.floor(rand() * ids.length)];
  recId[r] = id;
  if (r % FUNDING_EVERY === 0) {
    kind[r] = 2;
    a[r] = gauss() * 0.00005;
    b[r] = [3_600_000, 14_400_000, 28_800_000][id % 3];
    c[r] = rand() * b[r];
    d[r] = rand() < 0.5 ? 1 : 0;
  } else {
    const inst = Math.floor(id / EXCHANGES.length);
    mid[inst] *= 1 + gauss() * 0.0002;
    offset[id] = offset[id] * 0.98 + gauss() * 0.00006 + (rand() < 0.0003 ? (rand() < 0.5 ? -1 : 1) * 0.004 : 0);
    const venueMid = mid[inst] * (1 + offset[id]);
    kind[r] = 1;
    a[r] = venueMid * (1 - 0.00005);
    b[r] = venueMid * (1 + 0.00005);
    c[r] = (rand() * 20000) / venueMid;
    d[r] = (rand() * 20000) / venueMid;
  }
}

const sub = engine.bus.subscribe('bench');
let events = 0;
let missed = 0;

function run(n: number, from: number): void {
  for (let i = 0; i < n; i++) {
    const r = (from + i) & (TABLE - 1);
    const t = (clock[0] += SIM_MS_PER_UPDATE);
    if (kind[r] === 1) engine.pushQuote(recId[r], a[r], b[r], c[r], d[r], t, nowUs());
    else engine.pushFunding(recId[r], a[r], b[r], t + c[r], d[r] === 1, t, nowUs());
    engine.drain();
    if (sub.pending > 0) events += sub.popBatch(256).length;
  }
  missed += sub.takeMissed();
}

// --- warm-up (JIT, bus ring fills and wraps), then measure --------------------------------------
const WARMUP = Math.min(2_000_000, Math.max(100_000, UPDATES / 5));
run(WARMUP, 0);
const warmEvents = events;
events = 0;
gc();
const heapBefore = process.memoryUsage().heapUsed;
engine.resetLatency();
const t0 = nowNs();
const cpu0 = process.cpuUsage();
const heapSamples: number[] = [];
const CHUNK = 1_000_000;
for (let done = 0; done < UPDATES; done += CHUNK) {
  run(Math.min(CHUNK, UPDATES - done), WARMUP + done);
  heapSamples.push(process.memoryUsage().heapUsed);
}
const elapsedNs = nowNs() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuNs = (cpu.user + cpu.system) * 1000;
const mainStats = engine.stats(); // latency of the measured push-one-drain run only
gc();
const heapAfter = process.memoryUsage().heapUsed;

// --- batched: a frame of 64 records stamped once, then one drain (a feed message carrying many updates)
function runBatched(n: number, from: number): void {
  for (let i = 0; i < n; i += 64) {
    const recvUs = nowUs();
    for (let j = 0; j < 64; j++) {
      const r = (from + i + j) & (TABLE - 1);
      const t = (clock[0] += SIM_MS_PER_UPDATE);
      if (kind[r] === 1) engine.pushQuote(recId[r], a[r], b[r], c[r], d[r], t, recvUs);
      else engine.pushFunding(recId[r], a[r], b[r], t + c[r], d[r] === 1, t, recvUs);
    }
    engine.drain();
    if (sub.pending > 0) events += sub.popBatch(4096).length;
  }
}
const BATCHED = 2_000_000;
runBatched(200_000, 0);
const tb = nowNs();
const cb = process.cpuUsage();
runBatched(BATCHED, 200_000);
const batchedNs = nowNs() - tb;
const batchedCpu = process.cpuUsage(cb);
const batchedCpuNs = (batchedCpu.user + batchedCpu.system) * 1000;

// --- allocation check without events: nothing opens, so any heap growth would be per update -----
engine.setConfig({ ...config, thresholds: { ...config.thresholds, minSpreadBps: 10_000 } });
run(200_000, 0); // closes what was open
gc();
const quietBefore = process.memoryUsage().heapUsed;
const quietEventsBefore = events;
const tq = nowNs();
const cq = process.cpuUsage();
run(2_000_000, 0);
const quietNsPerUpdate = (nowNs() - tq) / 2_000_000;
const quietCpu = process.cpuUsage(cq);
const quietCpuNsPerUpdate = ((quietCpu.user + quietCpu.system) * 1000) / 2_000_000;
const quietGrowth = process.memoryUsage().heapUsed - quietBefore; // no gc in between: measures allocation
const quietEvents = events - quietEventsBefore;

const stats = engine.stats();
const lat = mainStats.latencyUs.pipeline_to_detected;
const updatesPerS = UPDATES / (elapsedNs / 1e9);
const result = {
  updates: UPDATES,
  exchanges: EXCHANGES.length,
  instruments: INSTRUMENTS,
  updates_per_s: Math.round(updatesPerS),
  ns_per_update: Math.round(elapsedNs / UPDATES),
  // CPU time of this process: less sensitive than wall time to other processes sharing the cores.
  cpu_ns_per_update: Math.round(cpuNs / UPDATES),
  updates_per_cpu_s: Math.round(UPDATES / (cpuNs / 1e9)),
  load_average_1m: Math.round(loadavg()[0] * 100) / 100,
  p50_ns: Math.round(lat.p50Us * 1000),
  p99_ns: Math.round(lat.p99Us * 1000),
  p999_ns: Math.round(lat.p999Us * 1000),
  max_ns: Math.round(lat.maxUs * 1000),
  heap_growth_bytes: heapAfter - heapBefore,
  heap_samples_mb: heapSamples.map((h) => Math.round(h / 1e5) / 10),
  batched64_updates_per_s: Math.round(BATCHED / (batchedNs / 1e9)),
  batched64_cpu_ns_per_update: Math.round(batchedCpuNs / BATCHED),
  quiet_phase_updates: 2_000_000,
  quiet_phase_heap_growth_bytes: quietGrowth,
  quiet_phase_events: quietEvents,
  quiet_phase_ns_per_update: Math.round(quietNsPerUpdate),
  quiet_phase_cpu_ns_per_update: Math.round(quietCpuNsPerUpdate),
  events_per_update: events / (UPDATES + 2_200_000 + BATCHED + 200_000),
  events_measured: events,
  events_warmup: warmEvents,
  bus_missed: missed,
  pipeline_dropped: stats.pipeline.dropped,
  rejected: stats.rejectedTotal,
  detector_evaluations: stats.detector.evaluations,
  opened: stats.detector.opened,
  closed: stats.detector.closed,
  detected_to_bus_p50_us: mainStats.latencyUs.detected_to_bus.p50Us,
  detected_to_bus_p99_us: mainStats.latencyUs.detected_to_bus.p99Us,
  ratio_vs_seed_target: Math.round((updatesPerS / SEED_TARGET) * 10) / 10,
};
const file = writeResult('engine', result);
report('engine: pipeline → store → detector → bus (push one, drain)', [
  ['updates', fmt(UPDATES)],
  ['updates/s', fmt(result.updates_per_s)],
  ['ns/update', fmt(result.ns_per_update)],
  ['CPU ns/update (updates per CPU-second)', `${fmt(result.cpu_ns_per_update)} (${fmt(result.updates_per_cpu_s)})`],
  ['load average (1 min) at the end', fmt(result.load_average_1m, 2)],
  ['detection latency p50 / p99 / p99.9', `${fmt(result.p50_ns)} / ${fmt(result.p99_ns)} / ${fmt(result.p999_ns)} ns`],
  ['batched (64 records per drain) updates/s (CPU ns/update)', `${fmt(result.batched64_updates_per_s)} (${fmt(result.batched64_cpu_ns_per_update)})`],
  ['heap growth over run (after gc)', `${fmt(result.heap_growth_bytes)} B`],
  ['heap used per 1 M updates (MB)', result.heap_samples_mb.join(' ')],
  ['quiet phase: heap growth / 2 M updates (no gc)', `${fmt(quietGrowth)} B (${quietEvents} events)`],
  ['quiet phase ns/update (CPU ns/update)', `${fmt(quietNsPerUpdate)} (${fmt(quietCpuNsPerUpdate)})`],
  ['events (opened/updated/closed) measured', `${fmt(events)} (opened ${fmt(stats.detector.opened)})`],
  ['bus missed / pipeline dropped', `${missed} / ${stats.pipeline.dropped}`],
  ['ratio vs seed target (10,000/s)', `${fmt(result.ratio_vs_seed_target, 1)}×`],
  ['written', file],
]);
