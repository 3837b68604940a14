/**
 * Where the server's CPU per message goes: simulator → server (separate processes, no `ws` client), a CPU
 * profile of the server over a steady-state window taken through its loopback inspector, and server CPU ÷
 * frames received over the same window.
 *
 *   npx tsx bench/universe/profile.ts [--rate 10000] [--instruments 300] [--seconds 15] [--out DIR]
 *
 * Writes the raw profile (open it in Chrome DevTools → Performance) and a summary
 * (bench/results/profile-<rate>-<instruments>.json).
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { InspectorSession } from '../inspector.js';
import { report, writeResult } from '../lib.js';
import { type CpuProfile, summarise } from './cpuprofile.js';
import { cpuSeconds, feedsOf, framesOf, simSent, startUniverseStack } from './stack.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '10000' },
    instruments: { type: 'string', default: '300' },
    seconds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    out: { type: 'string', default: 'bench/results' },
  },
  strict: true,
});
const rate = Number(values.rate);
const instruments = Number(values.instruments);
/** Functions whose inclusive share is reported (`name@file suffix`). */
const INCLUSIVE = [
  'receiverOnMessage@ws/lib/websocket.js',
  'handle@server/feeds/manager.ts',
  'parseObject@server/feeds/adapter.ts',
  'drain@server/engine/engine.ts',
  'sweep@server/engine/engine.ts',
  'processTimers@node:internal/timers',
  'processTicksAndRejections@node:internal/process/task_queues',
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const stack = await startUniverseStack({ rate, instruments });
try {
  await sleep(Number(values.warmup) * 1000);
  const inspector = await InspectorSession.open(stack.inspectorUrl);
  await inspector.call('Profiler.enable');
  await inspector.call('Profiler.setSamplingInterval', { interval: 200 });
  const f0 = framesOf(await feedsOf(stack.base));
  const s0 = stack.simSample();
  const c0 = cpuSeconds(stack.pid);
  const t0 = performance.now();
  await inspector.call('Profiler.start');
  await sleep(Number(values.seconds) * 1000);
  const stopped = (await inspector.call('Profiler.stop')) as unknown as { result: { profile: CpuProfile } };
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(stack.pid) - c0;
  const frames = framesOf(await feedsOf(stack.base)) - f0;
  const s1 = stack.simSample();
  inspector.close();
  const profile = stopped.result.profile;
  const file = `${values.out}/server-${rate}-${instruments}.cpuprofile`;
  writeFileSync(file, JSON.stringify(profile));
  const summary = summarise(profile, INCLUSIVE);
  const result = {
    rate,
    instruments,
    seconds: elapsed,
    frames_per_s: frames / elapsed,
    sim_sent_per_s: ((simSent(s1) - simSent(s0)) * 1000) / (s1.tMs - s0.tMs),
    server_cpu_pct: (cpu / elapsed) * 100,
    server_cpu_us_per_msg: (cpu * 1e6) / frames,
    loadavg_1m: loadavg()[0],
    profile_file: file,
    ...summary,
  };
  report(`server profile @ ${rate} msgs/s, ${instruments} instruments`, [
    ['frames/s received', result.frames_per_s],
    ['server CPU %', result.server_cpu_pct],
    ['server CPU µs/msg', result.server_cpu_us_per_msg],
    ['loadavg 1m', result.loadavg_1m],
    ['profile samples / idle %', `${summary.samples} / ${summary.idle_pct}`],
    ...Object.entries(summary.areas_self).slice(0, 12).map(([k, v]): [string, string] => [`self in ${k}`, `${v} %`]),
    ...Object.entries(summary.areas_inclusive).slice(0, 16).map(([k, v]): [string, string] => [`inclusive ${k}`, `${v} %`]),
    ...Object.entries(summary.inclusive).map(([k, v]): [string, string] => [`incl ${k}`, `${v} %`]),
    ...summary.top_self.slice(0, 30).map((t): [string, string] => [`self ${t.fn}`, `${t.pct} %`]),
  ]);
  console.log(`\nwrote ${writeResult(`profile-${rate}-${instruments}`, result)}`);
} finally {
  await stack.stop();
}
process.exit(0);
