/**
 * Strategy runner cost: one `step()` (bus → orders → marks → entries → funding → exits) after each
 * market update, with a real Engine fed seeded random-walk quotes on 5 instruments × 4 venues, so
 * opportunities open/close and positions open, mark, and exit continuously. Also the paper executor's
 * decision-to-fill latency (µs, real clock).
 *
 *   npx tsx bench/strategy/main.ts [updates]     (default 60,000)
 */
import { DEFAULT_CONFIG, applyConfigPatch } from '../../shared/config.js';
import { EXCHANGES } from '../../shared/exchanges.js';
import { Engine } from '../../server/engine/engine.js';
import { defaultSymbol } from '../../server/venues/index.js';
import { MemoryPersistence } from '../../server/persistence/memory.js';
import { StrategyRunner } from '../../server/strategy/runner.js';
import { Samples, nowNs, report, writeResult } from '../lib.js';

const UPDATES = Number(process.argv[2] ?? 60_000);
const BASES: Array<[string, number]> = [
  ['BTC', 100_000],
  ['ETH', 3000],
  ['SOL', 150],
  ['XRP', 2],
  ['DOGE', 0.2],
];

const patched = applyConfigPatch(DEFAULT_CONFIG, {
  strategy: { minOpportunityAgeMs: 200, cooldownMs: 2000, minProfitBps: 2 },
  exits: { exitSpreadBps: 0, maxHoldingMs: 60_000, stopLossUsd: 20 },
  risk: { maxOpenPositions: 5 },
});
if (!patched.ok) throw new Error(JSON.stringify(patched.errors));
const config = patched.config;

let t = Date.UTC(2026, 0, 5, 10);
const now = () => t;
const engine = new Engine({ config, now });
const runner = new StrategyRunner({ engine, config, persistence: new MemoryPersistence(), now });
const tap = runner.events.subscribe('bench');

// xorshift32: the same run every time
let seed = 0x9e3779b9;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4_294_967_296;
};

const venues: Array<{ id: number; mid: number; ref: number }> = [];
for (const [base, price] of BASES) {
  for (const ex of EXCHANGES) {
    const id = engine.registerInstrument(ex, defaultSymbol(ex, base), { base, quote: 'USDT' });
    venues.push({ id, mid: price, ref: price });
  }
}

const step = new Samples(UPDATES);
for (let i = 0; i < UPDATES; i++) {
  t += 5;
  const v = venues[Math.floor(rand() * venues.length)];
  // mean-reverting walk with occasional 20–60 bps dislocations
  const shock = rand() < 0.002 ? (rand() < 0.5 ? -1 : 1) * (0.002 + rand() * 0.004) : 0;
  v.mid = v.mid + (v.ref - v.mid) * 0.05 + v.ref * ((rand() - 0.5) * 0.0002 + shock);
  const half = v.mid * 0.00005;
  engine.pushQuote(v.id, v.mid - half, v.mid + half, 50, 50, t, 0);
  engine.drain();
  if (i % 50 === 0) engine.sweep(t);
  const a = nowNs();
  runner.step(t);
  step.add((nowNs() - a) / 1000);
  tap.popBatch(100_000);
}

const fills = runner.fills();
const latency = new Samples(fills.length);
for (const f of fills) latency.add(f.latencyUs);
const s = step.summary();
const l = latency.summary();
const pf = runner.portfolio();
const positions = runner.positions();
report('strategy step (µs per pass, one pass per market update)', [
  ['updates', UPDATES],
  ['p50', s.p50],
  ['p99', s.p99],
  ['p99.9', s.p999],
  ['max', s.max],
  ['positions opened', positions.length],
  ['fills', fills.length],
  ['rejections (last 1000)', runner.rejections(1000).length],
  ['decision→fill p50 µs', l.p50],
  ['decision→fill p99 µs', l.p99],
  ['realised PnL USD', pf.realisedPnlUsd],
]);
const file = writeResult('strategy', {
  updates: UPDATES,
  stepUs: s,
  decisionToFillUs: l,
  positions: positions.length,
  fills: fills.length,
  realisedPnlUsd: pf.realisedPnlUsd,
});
console.log(`\nwrote ${file}`);
