import { DEFAULT_CONFIG } from '../../shared/config.js';
import { Engine, nowUs } from '../../server/engine/index.js';
const N = 3_000_000;
const clock = new Float64Array([1.7e12]);
const cfg = { ...DEFAULT_CONFIG, thresholds: { ...DEFAULT_CONFIG.thresholds, minSpreadBps: 10000 } };
const e2 = new Engine({ config: cfg, now: () => clock[0] });
const ids = (['bybit', 'okx', 'kucoin', 'binance'] as const).map((x) => e2.registerInstrument(x, 'BTC' + x, { base: 'BTC', quote: 'USDT' }));
const t0 = performance.now();
for (let i = 0; i < N; i++) { clock[0] += 0.05; e2.pushQuote(ids[i & 3], 100 + (i & 15) * 0.01, 101, 1, 1, clock[0], nowUs()); e2.drain(); }
console.log(((performance.now() - t0) * 1e6 / N).toFixed(0), 'ns/upd');
