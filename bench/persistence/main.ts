/**
 * bench/persistence: detection with the Redis write-behind on and off, in the same process and run.
 *
 * At 10,000 and 100,000 market updates/s (synthetic market, 2 instruments × 4 venues, scheduled at a
 * uniform rate on the wall clock) each update is pushed into a real Engine and drained, then (Redis on)
 * appended to RedisPersistence, whose recorder also takes every opportunity event from the bus.
 * Measured per update: detection (push → drain done, synchronous) and arrival → detected (includes
 * event-loop delay, e.g. while the writer hands a batch over). Writer: batches/s, commands per batch,
 * records per batch, backlog (sampled every 20 ms), drops, the main thread's time per batch hand-over
 * (the stall it can cause) and the writer thread's encode time; event-loop delay per mode
 * (perf_hooks monitorEventLoopDelay). Off and on alternate in 1 s slices (a fresh
 * Engine each) so both modes see the same load on a shared machine. Redis is a private redis-server on
 * a free loopback port (or REDIS_URL when redis-server is not installed).
 *
 *   npx tsx bench/persistence/main.ts [--seconds 3]   (env: BENCH_RATES=10000,100000; BENCH_WRITER_NICE=<n> overrides writerNice)
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Engine } from '../../server/engine/engine.js';
import { symbolBaseQuote } from '../../server/venues/index.js';
import { recordOpportunities } from '../../server/persistence/recorder.js';
import { RedisPersistence } from '../../server/persistence/redis.js';
import type { MarketRecord } from '../../server/persistence/persistence.js';
import { deletePrefix, PrivateRedis, uniquePrefix } from '../../test/persistence/helpers.js';
import { MARKET_CONFIG, SyntheticMarket } from '../../test/persistence/market.js';
import { nowNs, report, Samples, writeResult } from '../lib.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg('seconds', 3);
const WARMUP_S = 0.25;
const RATES = (process.env.BENCH_RATES ?? "10000,100000").split(",").map(Number);

/** CPU time of this process's main thread alone (µs; Linux /proc, 10 ms ticks), or NaN elsewhere. */
function mainThreadCpuUs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // utime + stime, USER_HZ = 100
  } catch {
    return Number.NaN;
  }
}

interface ModeResult {
  updates: number;
  achieved_per_s: number;
  detect_p50_us: number;
  detect_p99_us: number;
  detect_p999_us: number;
  arrival_p50_us: number;
  arrival_p99_us: number;
  events: number;
  /** This process's CPU time (user + system, all threads) per measured update, µs (redis-server's own CPU not included). */
  cpu_us_per_update: number;
  /** The main (detection) thread's CPU time per measured update, µs (Linux; 10 ms resolution). */
  main_thread_cpu_us_per_update: number;
  /** Event-loop delay while this mode ran (ms, worst slice): what a stall on the main thread costs every update behind it. */
  loop_delay_p99_ms: number;
  loop_delay_max_ms: number;
  writer?: {
    batches_per_s: number;
    commands_per_batch: number;
    records_per_batch: number;
    round_trips_per_s: number;
    max_backlog: number;
    mean_backlog: number;
    dropped: number;
    failed_attempts: number;
    /** Main-thread time per batch (take slots, JSON of state, hand-over to the writer thread), ms. */
    build_ms_mean: number;
    build_ms_max: number;
    /** Writer-thread time to encode a batch, ms (off the detection thread). */
    encode_ms_mean: number;
    encode_ms_max: number;
    exec_ms_mean: number;
    exec_ms_max: number;
  };
}

/** What one mode accumulates over its slices. */
class ModeAcc {
  readonly detect: Samples;
  readonly arrival: Samples;
  seconds = 0;
  events = 0;
  cpuUs = 0;
  mainCpuUs = 0;
  batches = 0;
  commands = 0;
  roundTrips = 0;
  written = 0;
  backlogMax = 0;
  backlogSum = 0;
  backlogN = 0;
  /** Event-loop delay over this mode's measured parts (one monitor per slice): worst slice p99 and max, ns. */
  loopP99 = 0;
  loopMax = 0;
  constructor(capacity: number) {
    this.detect = new Samples(capacity);
    this.arrival = new Samples(capacity);
  }
}

/**
 * One slice: a fresh Engine fed at `rate` for WARMUP_S + `seconds` on the wall clock; samples after the
 * warm-up go into `acc`. With `persistence`, records and events are written behind as the server does.
 */
async function runSlice(rate: number, seconds: number, seed: number, persistence: RedisPersistence | null, acc: ModeAcc): Promise<void> {
  const engine = new Engine({ config: MARKET_CONFIG });
  const ids = new Map<string, number>();
  const market = new SyntheticMarket(seed);
  const recorder = persistence ? recordOpportunities(engine.bus, persistence) : null;
  const total = Math.round(rate * (seconds + WARMUP_S));
  const stepNs = 1e9 / rate;
  const startNs = nowNs();
  const warmupEnd = Math.round(rate * WARMUP_S);
  let n = 0;
  let measuredFromNs = 0;
  let cpuAtStart = process.cpuUsage();
  let mainCpuAtStart = mainThreadCpuUs();
  let publishedAtStart = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  const at = { batches: 0, commands: 0, roundTrips: 0, written: 0 };
  const sampler = setInterval(() => {
    if (!persistence || n < warmupEnd) return;
    const b = persistence.health().backlog;
    acc.backlogMax = Math.max(acc.backlogMax, b);
    acc.backlogSum += b;
    acc.backlogN++;
  }, 20);

  const apply = (r: MarketRecord): void => {
    const key = `${r.exchange}:${r.symbol}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = engine.registerInstrument(r.exchange, r.symbol, symbolBaseQuote(r.exchange, r.symbol) ?? { base: 'X', quote: 'USDT' });
      ids.set(key, id);
    }
    const recvUs = r.recvMs * 1000;
    if (r.kind === 'quote') engine.pushQuote(id, r.bid ?? 0, r.ask ?? 0, r.bidSize ?? 0, r.askSize ?? 0, r.exchangeTsMs, recvUs);
    else engine.pushFunding(id, r.fundingRate ?? 0, r.fundingIntervalMs ?? 0, r.nextFundingMs ?? 0, r.predicted ?? false, r.exchangeTsMs, recvUs);
    engine.drain();
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = nowNs();
      // At most 10 ms worth of updates per tick, then yield (as a socket-driven feed would), so I/O interleaves.
      const due = Math.min(total, Math.floor((now - startNs) / stepNs) + 1, n + Math.max(1, Math.ceil(rate / 100)));
      const ms = Date.now();
      while (n < due) {
        const scheduled = startNs + n * stepNs;
        const rec = market.next(ms);
        const t0 = nowNs();
        apply(rec);
        const t1 = nowNs();
        if (persistence) persistence.appendMarketRecord(rec);
        if (n === warmupEnd) {
          measuredFromNs = t1;
          cpuAtStart = process.cpuUsage();
          mainCpuAtStart = mainThreadCpuUs();
          publishedAtStart = engine.bus.published;
          if (persistence) {
            const s = persistence.writerStats();
            Object.assign(at, { batches: s.batches, commands: s.commands, roundTrips: s.roundTrips, written: persistence.health().written });
          }
          loopDelay.enable();
        } else if (n > warmupEnd) {
          acc.detect.add((t1 - t0) / 1000);
          acc.arrival.add((t1 - scheduled) / 1000);
        }
        n++;
      }
      if (n >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  clearInterval(sampler);
  loopDelay.disable();
  acc.loopP99 = Math.max(acc.loopP99, loopDelay.percentile(99));
  acc.loopMax = Math.max(acc.loopMax, loopDelay.max);
  const cpu = process.cpuUsage(cpuAtStart);
  acc.cpuUs += cpu.user + cpu.system;
  acc.mainCpuUs += mainThreadCpuUs() - mainCpuAtStart;
  acc.seconds += (nowNs() - measuredFromNs) / 1e9;
  acc.events += engine.bus.published - publishedAtStart;
  recorder?.drain();
  if (persistence) {
    const s = persistence.writerStats();
    acc.batches += s.batches - at.batches;
    acc.commands += s.commands - at.commands;
    acc.roundTrips += s.roundTrips - at.roundTrips;
    acc.written += persistence.health().written - at.written;
    recorder?.stop();
  }
}

function summarise(acc: ModeAcc, persistence: RedisPersistence | null): ModeResult {
  const d = acc.detect.summary();
  const a = acc.arrival.summary();
  const result: ModeResult = {
    updates: d.count,
    achieved_per_s: d.count / acc.seconds,
    detect_p50_us: d.p50,
    detect_p99_us: d.p99,
    detect_p999_us: d.p999,
    arrival_p50_us: a.p50,
    arrival_p99_us: a.p99,
    events: acc.events,
    cpu_us_per_update: acc.cpuUs / Math.max(1, d.count),
    main_thread_cpu_us_per_update: acc.mainCpuUs / Math.max(1, d.count),
    loop_delay_p99_ms: acc.loopP99 / 1e6,
    loop_delay_max_ms: acc.loopMax / 1e6,
  };
  if (persistence) {
    const s = persistence.writerStats();
    result.writer = {
      batches_per_s: acc.batches / acc.seconds,
      commands_per_batch: acc.commands / Math.max(1, acc.roundTrips),
      records_per_batch: acc.written / Math.max(1, acc.batches),
      round_trips_per_s: acc.roundTrips / acc.seconds,
      max_backlog: acc.backlogMax,
      mean_backlog: acc.backlogN ? acc.backlogSum / acc.backlogN : 0,
      dropped: persistence.health().dropped,
      failed_attempts: s.failedAttempts,
      build_ms_mean: s.totalBuildMs / Math.max(1, s.handoffs),
      build_ms_max: s.maxBuildMs,
      encode_ms_mean: s.totalEncodeMs / Math.max(1, s.handoffs),
      encode_ms_max: s.maxEncodeMs,
      exec_ms_mean: s.totalExecMs / Math.max(1, s.batches),
      exec_ms_max: s.maxExecMs,
    };
  }
  return result;
}

/** Off and on alternate in slices (off, on, on, off, off, on) so both see the same machine load. */
const ORDER: Array<'off' | 'on'> = ['off', 'on', 'on', 'off', 'off', 'on'];

async function main(): Promise<void> {
  let redis: PrivateRedis | null = null;
  let url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  try {
    redis = await PrivateRedis.start();
    url = redis.url;
  } catch {
    console.log(`(redis-server not startable; using ${url})`);
  }
  const rows: Array<Record<string, unknown>> = [];
  const prefixes: string[] = [];
  const sliceSeconds = (SECONDS * 2) / ORDER.length;
  try {
    for (const rate of RATES) {
      const prefix = uniquePrefix(`bench-${rate}`);
      prefixes.push(prefix);
      const p = new RedisPersistence({ url, prefix, ...(process.env.BENCH_WRITER_NICE ? { writerNice: Number(process.env.BENCH_WRITER_NICE) } : {}) });
      await p.open();
      const capacity = Math.round(rate * SECONDS * 1.2) + 10;
      const acc = { off: new ModeAcc(capacity), on: new ModeAcc(capacity) };
      for (let i = 0; i < ORDER.length; i++) {
        global.gc?.();
        const mode = ORDER[i];
        await runSlice(rate, sliceSeconds, 3 + i, mode === 'on' ? p : null, acc[mode]);
      }
      const flushStart = nowNs();
      await p.flush(30_000);
      const drainMs = (nowNs() - flushStart) / 1e6;
      const off = summarise(acc.off, null);
      const on = summarise(acc.on, p);
      await p.close();
      const row = {
        rate,
        off,
        on,
        drain_after_run_ms: drainMs,
        p99_ratio_redis_on_off: on.detect_p99_us / off.detect_p99_us,
        arrival_p99_ratio_redis_on_off: on.arrival_p99_us / off.arrival_p99_us,
      };
      rows.push(row);
      const w = on.writer!;
      report(`persistence @ ${rate.toLocaleString('en-US')} updates/s (${SECONDS}s per mode in alternating slices, same process)`, [
        ['achieved updates/s off | on', `${off.achieved_per_s.toFixed(0)} | ${on.achieved_per_s.toFixed(0)}`],
        ['detection p50/p99/p99.9 µs, Redis off', `${off.detect_p50_us.toFixed(2)} / ${off.detect_p99_us.toFixed(2)} / ${off.detect_p999_us.toFixed(2)}`],
        ['detection p50/p99/p99.9 µs, Redis on', `${on.detect_p50_us.toFixed(2)} / ${on.detect_p99_us.toFixed(2)} / ${on.detect_p999_us.toFixed(2)}`],
        ['p99 ratio on/off (detection)', row.p99_ratio_redis_on_off.toFixed(3)],
        ['arrival→detected p99 µs off | on', `${off.arrival_p99_us.toFixed(0)} | ${on.arrival_p99_us.toFixed(0)}`],
        ['p99 ratio on/off (arrival→detected)', row.arrival_p99_ratio_redis_on_off.toFixed(3)],
        ['opportunity events (on)', on.events],
        ['node CPU µs per update off | on (all threads)', `${off.cpu_us_per_update.toFixed(2)} | ${on.cpu_us_per_update.toFixed(2)}`],
        ['main-thread CPU µs per update off | on', `${off.main_thread_cpu_us_per_update.toFixed(2)} | ${on.main_thread_cpu_us_per_update.toFixed(2)}`],
        ['writer batches/s', w.batches_per_s.toFixed(1)],
        ['writer round trips/s', w.round_trips_per_s.toFixed(1)],
        ['commands per batch', w.commands_per_batch.toFixed(1)],
        ['records per batch', w.records_per_batch.toFixed(0)],
        ['backlog max | mean', `${w.max_backlog} | ${w.mean_backlog.toFixed(0)}`],
        ['dropped | failed attempts', `${w.dropped} | ${w.failed_attempts}`],
        ['batch hand-over ms mean | max (main thread)', `${w.build_ms_mean.toFixed(3)} | ${w.build_ms_max.toFixed(3)}`],
        ['batch encode ms mean | max (writer thread)', `${w.encode_ms_mean.toFixed(2)} | ${w.encode_ms_max.toFixed(2)}`],
        ['event-loop delay p99 | max ms off', `${off.loop_delay_p99_ms.toFixed(2)} | ${off.loop_delay_max_ms.toFixed(2)}`],
        ['event-loop delay p99 | max ms on', `${on.loop_delay_p99_ms.toFixed(2)} | ${on.loop_delay_max_ms.toFixed(2)}`],
        ['batch send→ack ms mean | max', `${w.exec_ms_mean.toFixed(2)} | ${w.exec_ms_max.toFixed(2)}`],
        ['drain after run (ms)', drainMs.toFixed(1)],
      ]);
    }
  } finally {
    for (const prefix of prefixes) await deletePrefix(url, prefix).catch(() => undefined);
    await redis?.destroy();
  }
  const file = writeResult('persistence', {
    seconds_per_mode: SECONDS,
    rates: rows,
    p99_ratio_redis_on_off: Math.max(...rows.map((r) => r.p99_ratio_redis_on_off as number)),
    arrival_p99_ratio_redis_on_off: Math.max(...rows.map((r) => r.arrival_p99_ratio_redis_on_off as number)),
    max_backlog: Math.max(...rows.map((r) => (r.on as ModeResult).writer?.max_backlog ?? 0)),
    /** The stall: longest main-thread time spent on one batch (ms), over all rates. */
    max_batch_build_ms: Math.max(...rows.map((r) => (r.on as ModeResult).writer?.build_ms_max ?? 0)),
    max_event_loop_delay_ms_off: Math.max(...rows.map((r) => (r.off as ModeResult).loop_delay_max_ms)),
    max_event_loop_delay_ms_on: Math.max(...rows.map((r) => (r.on as ModeResult).loop_delay_max_ms)),
  });
  console.log(`\nwrote ${file}`);
}

await main();
