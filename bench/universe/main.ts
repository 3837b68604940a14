/**
 * bench/universe (`npm run bench -- universe`): four venues × about 300 instruments from the simulator (its own
 * process) → the server (its own process, default config: detector, strategy, stream) → one `ws` client. Per
 * offered rate (20,000 and 50,000 msgs/s, 60 s each after a warm-up): throughput offered/processed, pipeline
 * drops, frame-receive → opportunity-event latency at the client, server CPU per message, heap growth after a
 * forced GC; start-up time from launch to every venue subscribed; and ccxt.pro's handler alone on the same
 * frames as the yardstick (cpu_ratio_vs_ccxt = server CPU per message ÷ ccxt's). Writes bench/results/universe.json.
 *
 * Latency, precisely: `recvUs` is the epoch µs the server reads (performance.timeOrigin + performance.now())
 * in the venue socket's `message` event, before decoding (server/feeds/connection.ts); it travels with the
 * quote through the engine into the opportunity event. The client stamps arrival the same way as the first
 * thing in its own `message` handler, before JSON.parse. p50/p99 are over `opened` and `closed` events
 * (`updated` is throttled to the stream's update rate on purpose, so it would measure the throttle). Not
 * included: time the frame waited in the server's socket buffer before the event (visible instead as
 * processed < offered) and the simulator's send path.
 *
 * Env: UNIVERSE_SECONDS (60), UNIVERSE_WARMUP_S (5), UNIVERSE_RATES ("20000,50000"), UNIVERSE_INSTRUMENTS (300),
 * UNIVERSE_CAPTURE_S (3, frames recorded for the yardstick), UNIVERSE_YARDSTICK_S (1, CPU seconds per measurement).
 */
import { loadavg } from 'node:os';
import WebSocket from 'ws';
import type { Exchange } from '../../shared/exchanges.js';
import type { ServerFrame } from '../../shared/protocol.js';
import { nowUs, rssMb } from '../e2e/proc.js';
import { heapAfterGcMb } from '../inspector.js';
import { report, Samples, writeResult } from '../lib.js';
import { type Captured, captureFrames, yardsticks } from './capture.js';
import { cpuSeconds, feedsOf, framesOf, instrumentVenuePairs, simSent, startUniverseStack, statsOf, type UniverseStack } from './stack.js';
import { syntheticKeys } from './universe.js';

const SECONDS = Number(process.env.UNIVERSE_SECONDS ?? 60);
const WARMUP_S = Number(process.env.UNIVERSE_WARMUP_S ?? 5);
const RATES = (process.env.UNIVERSE_RATES ?? '20000,50000').split(',').map(Number);
const INSTRUMENTS = Number(process.env.UNIVERSE_INSTRUMENTS ?? 300);
const CAPTURE_S = Number(process.env.UNIVERSE_CAPTURE_S ?? 3);
const YARDSTICK_S = Number(process.env.UNIVERSE_YARDSTICK_S ?? 1);
const DISLOCATIONS_PER_MIN = 600; // enough opened/closed events to sample

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RateResult {
  msgs_per_s_offered: number;
  /** The simulator's configured quote rate (periodic mark/funding streams come on top in the offered figure). */
  sim_rate_setting: number;
  msgs_per_s_processed: number;
  pipeline_dropped: number;
  p50_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  latency_samples: number;
  server_cpu_us_per_msg: number;
  server_cpu_pct: number;
  heap_after_gc_start_mb: number;
  heap_after_gc_end_mb: number;
  heap_after_gc_growth_mb: number;
  rss_start_mb: number;
  rss_end_mb: number;
  simulator_cpu_pct: number;
  opportunities_open_end: number;
  bus_missed: Record<string, number>;
  frame_gaps: number;
  instrument_venue_pairs: number;
  loadavg_1m_end: number;
  measured_s: number;
}

/** One window at `rate` on the running stack (the simulator is switched to the rate first). */
async function measureRate(stack: UniverseStack, rate: number): Promise<RateResult> {
  await stack.setRate(rate);
  {
    const samples = new Samples(2_000_000);
    let measuring = false;
    let frameNo = 0;
    let gaps = 0;
    const ws = new WebSocket(`ws://127.0.0.1:${stack.port}/ws`, { perMessageDeflate: false });
    ws.on('message', (data) => {
      const arrival = nowUs();
      const f = JSON.parse((data as Buffer).toString()) as ServerFrame;
      if (f.frame !== frameNo + 1) gaps++;
      frameNo = f.frame;
      if (!measuring) return;
      for (const m of f.messages) if (m.type === 'opportunity' && m.event !== 'updated') samples.add((arrival - m.recvUs) / 1000);
    });
    await new Promise((r, j) => {
      ws.once('open', r);
      ws.once('error', j);
    });
    await sleep(WARMUP_S * 1000);
    const heap0 = await heapAfterGcMb(stack.inspectorUrl);
    const rss0 = rssMb(stack.pid);
    const st0 = (await statsOf(stack.base)).stats;
    const frames0 = framesOf(await feedsOf(stack.base));
    const sim0 = stack.simSample();
    const cpu0 = cpuSeconds(stack.pid);
    const t0 = performance.now();
    gaps = 0;
    measuring = true;
    await sleep(SECONDS * 1000);
    measuring = false;
    const cpu = cpuSeconds(stack.pid) - cpu0;
    const elapsed = (performance.now() - t0) / 1000;
    const feeds = await feedsOf(stack.base);
    const frames = framesOf(feeds) - frames0;
    const sim1 = stack.simSample();
    const st1 = (await statsOf(stack.base)).stats;
    const rss1 = rssMb(stack.pid);
    const heap1 = await heapAfterGcMb(stack.inspectorUrl);
    ws.terminate();
    await sleep(200);
    const simS = (sim1.tMs - sim0.tMs) / 1000;
    const s = samples.summary();
    return {
      msgs_per_s_offered: (simSent(sim1) - simSent(sim0)) / simS,
      sim_rate_setting: rate,
      msgs_per_s_processed: frames / elapsed,
      pipeline_dropped: st1.pipelineDropped - st0.pipelineDropped,
      p50_ms: s.p50,
      p99_ms: s.p99,
      p999_ms: s.p999,
      max_ms: s.max,
      latency_samples: s.count,
      server_cpu_us_per_msg: (cpu * 1e6) / frames,
      server_cpu_pct: (cpu / elapsed) * 100,
      heap_after_gc_start_mb: heap0,
      heap_after_gc_end_mb: heap1,
      heap_after_gc_growth_mb: heap1 - heap0,
      rss_start_mb: rss0,
      rss_end_mb: rss1,
      simulator_cpu_pct: ((sim1.cpuUs - sim0.cpuUs) / 1e6 / simS) * 100,
      opportunities_open_end: st1.opportunitiesOpen,
      bus_missed: Object.fromEntries(Object.entries(st1.busMissed).map(([k, v]) => [k, v - (st0.busMissed[k] ?? 0)])),
      frame_gaps: gaps,
      instrument_venue_pairs: instrumentVenuePairs(feeds, INSTRUMENTS),
      loadavg_1m_end: loadavg()[0],
      measured_s: elapsed,
    };
  }
}

const rates: Record<string, RateResult> = {};
// One server runs through every rate: its start-up with the full universe takes a while (see startup).
// The yardstick's frames are recorded from the same simulator while the server starts (both wait for the
// venues' metadata), so the recording never overlaps a measuring window.
let capture: Promise<Captured> | null = null;
const stack = await startUniverseStack({
  rate: RATES[0],
  instruments: INSTRUMENTS,
  dislocationsPerMin: DISLOCATIONS_PER_MIN,
  onSimulator: (endpoints) => {
    capture = captureFrames(endpoints, syntheticKeys(INSTRUMENTS), CAPTURE_S);
  },
});
const captured = await capture!;
report('start-up with the full universe (server spawn → …), ms', [
  ['"listening"', stack.startup.listening_ms],
  ['every venue\'s metadata loaded', stack.startup.metadata_loaded_ms],
  ['every venue live with all its topics', stack.startup.all_venues_subscribed_ms],
  ...Object.entries(stack.startup.per_venue_ms).map(([ex, ms]): [string, string] => [`  ${ex} (${stack.startup.topics[ex as Exchange]} topics)`, ms.toFixed(0)]),
]);
for (const rate of RATES) {
  const r = await measureRate(stack, rate);
  rates[String(rate)] = r;
  report(`universe @ ${rate.toLocaleString('en-US')} msgs/s offered, ${r.instrument_venue_pairs} instrument-venue pairs, ${SECONDS} s`, [
    ['offered msgs/s (simulator frames sent)', r.msgs_per_s_offered],
    ['processed msgs/s (server frames received)', r.msgs_per_s_processed],
    ['pipeline dropped', r.pipeline_dropped],
    ['receive → opened/closed at client p50 / p99 ms', `${r.p50_ms.toFixed(2)} / ${r.p99_ms.toFixed(2)} (${r.latency_samples} samples, p99.9 ${r.p999_ms.toFixed(2)})`],
    ['server CPU µs/msg', r.server_cpu_us_per_msg],
    ['server CPU %', r.server_cpu_pct],
    ['heap after GC start → end MB', `${r.heap_after_gc_start_mb.toFixed(1)} → ${r.heap_after_gc_end_mb.toFixed(1)} (${r.heap_after_gc_growth_mb >= 0 ? '+' : ''}${r.heap_after_gc_growth_mb.toFixed(2)})`],
    ['RSS start → end MB', `${r.rss_start_mb.toFixed(0)} → ${r.rss_end_mb.toFixed(0)}`],
    ['simulator CPU %', r.simulator_cpu_pct],
    ['loadavg 1m at end', r.loadavg_1m_end],
  ]);
}

await stack.stop();
const yard = await yardsticks(captured, syntheticKeys(INSTRUMENTS), YARDSTICK_S);
report('yardstick: the same universe frames in-process, CPU µs per frame', [
  ...Object.entries(yard.perVenue).map(([ex, v]): [string, string] =>
    [ex, 'error' in v! ? v!.error : `ccxt ${v!.ccxt_us_per_msg.toFixed(2)} · ours parse+engine ${v!.parse_engine_us_per_msg.toFixed(2)} (${v!.frames} frames)`]),
  ['ccxt µs/msg (frame-weighted)', yard.ccxt_us_per_msg],
  ['our parse + engine µs/msg (frame-weighted)', yard.parse_engine_us_per_msg],
]);
for (const r of Object.values(rates)) {
  Object.assign(r, {
    ccxt_us_per_msg: yard.ccxt_us_per_msg,
    cpu_ratio_vs_ccxt: r.server_cpu_us_per_msg / yard.ccxt_us_per_msg,
    parse_engine_us_per_msg: yard.parse_engine_us_per_msg,
    outside_parse_engine_us_per_msg: r.server_cpu_us_per_msg - yard.parse_engine_us_per_msg,
  });
}
const first = Object.values(rates)[0];
report('summary', Object.entries(rates).map(([rate, r]): [string, string] => [
  `${rate} msgs/s`,
  `processed ${r.msgs_per_s_processed.toFixed(0)}/s, dropped ${r.pipeline_dropped}, p50/p99 ${r.p50_ms.toFixed(2)}/${r.p99_ms.toFixed(2)} ms, ${r.server_cpu_us_per_msg.toFixed(1)} µs/msg, ratio vs ccxt ${(r.server_cpu_us_per_msg / yard.ccxt_us_per_msg).toFixed(2)}`,
]));
const file = writeResult('universe', {
  instrument_venue_pairs: first?.instrument_venue_pairs ?? 0,
  instruments: INSTRUMENTS,
  instrument_source: process.env.BENCH_UNIVERSE === 'sim' ? `the simulator's own universe of ${INSTRUMENTS} coins, market.instruments "all"` : 'synthetic keys C0-PERP… listed on every venue (exactly instruments × 4 pairs; BENCH_UNIVERSE=sim for the simulated universe)',
  seconds_per_rate: SECONDS,
  warmup_s: WARMUP_S,
  startup_ms_to_all_venues_subscribed: stack.startup.all_venues_subscribed_ms,
  startup: stack.startup,
  ccxt_us_per_msg: yard.ccxt_us_per_msg,
  parse_engine_us_per_msg: yard.parse_engine_us_per_msg,
  yardstick_per_venue: yard.perVenue,
  rates,
  goal: { cpu_ratio_vs_ccxt: '< 1', msgs_per_s: 50_000, pipeline_dropped: 0, p99_ms: 5, heap: 'flat' },
  note:
    'Machine: 2 cores shared with other engineers (loadavg_1m_end per rate says how busy). Latency = client arrival − the server\'s receive stamp (recvUs, socket message event) of the frame that caused an opened/closed event, same host clock. CPU from /proc (server process only; the simulator runs in its own process). server_cpu_us_per_msg = server CPU seconds ÷ frames received in the window. ccxt_us_per_msg and parse_engine_us_per_msg: in this process, CPU time per frame over frames recorded from the same simulated universe, frame-weighted over venues. heap after GC: full GC forced through the server\'s loopback inspector at the start and end of the window.',
});
console.log(`\nwrote ${file}`);
process.exit(0);
