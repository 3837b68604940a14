import { DEFAULT_CONFIG } from '../../shared/config.js';
import { Engine, nowUs } from '../../server/engine/index.js';
const N = 4_000_000;
const clock = new Float64Array([1.7e12]);
const cfg = { ...DEFAULT_CONFIG, thresholds: { ...DEFAULT_CONFIG.thresholds, minSpreadBps: 10000 } };
const e1 = new Engine({ config: cfg, now: () => clock[0] });
const venues = Number(process.argv[2] ?? 1);
const ids = (['bybit', 'okx', 'kucoin', 'binance'] as const).slice(0, venues).map((x) => e1.registerInstrument(x, 'BTC' + x, { base: 'BTC', quote: 'USDT' }));
const stamp = process.argv[3] !== 'nostamp';
for (let round = 0; round < 3; round++) {
  const c0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < N; i++) { clock[0] += 0.05; e1.pushQuote(ids[i % venues], 100 + (i & 15) * 0.01, 101, 1, 1, clock[0], stamp ? nowUs() : 0); e1.drain(); }
  const c = process.cpuUsage(c0);
  console.log(venues, 'venues', ((performance.now() - t0) * 1e6 / N).toFixed(0), 'ns/upd wall', (((c.user + c.system) * 1e3) / N).toFixed(0), 'ns/upd cpu');
}
