import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
import { DEFAULT_CONFIG } from '../../shared/config.js';
import { Engine, MarketPipeline, nowUs } from '../../server/engine/index.js';
const N = 2_000_000;
function measure(name: string, f: (i: number) => void) {
  for (let i = 0; i < 300_000; i++) f(i);
  gc();
  const h0 = process.memoryUsage().heapUsed; const t0 = performance.now();
  for (let i = 0; i < N; i++) f(i);
  const t1 = performance.now();
  console.log(name.padEnd(30), ((process.memoryUsage().heapUsed - h0) / N).toFixed(2), 'B/upd', ((t1 - t0) * 1e6 / N).toFixed(0), 'ns/upd');
}
const p = new MarketPipeline(1024);
const v = { onQuote(_i: number, _a: number, _b: number, _c: number, _d: number, _e: number, _f: number) {}, onFunding() {} };
measure('pipeline push+consume', (i) => { p.pushQuote(i & 7, 100 + (i & 15), 101, 1, 1, 1.7e12, 1.7e15); p.consume(1, v); });
measure('nowUs', () => { nowUs(); });
const clock = new Float64Array([1.7e12]);
const cfg = { ...DEFAULT_CONFIG, thresholds: { ...DEFAULT_CONFIG.thresholds, minSpreadBps: 10000 } };
const e1 = new Engine({ config: cfg, now: () => clock[0] });
const solo = e1.registerInstrument('bybit', 'BTCUSDT', { base: 'BTC', quote: 'USDT' });
measure('engine, 1 venue (no pairs)', (i) => { clock[0] += 0.05; e1.pushQuote(solo, 100 + (i & 15) * 0.01, 101, 1, 1, clock[0], nowUs()); e1.drain(); });
const e2 = new Engine({ config: cfg, now: () => clock[0] });
const ids = (['bybit', 'okx', 'kucoin', 'binance'] as const).map((x) => e2.registerInstrument(x, 'BTC' + x, { base: 'BTC', quote: 'USDT' }));
measure('engine, 4 venues quiet', (i) => { clock[0] += 0.05; e2.pushQuote(ids[i & 3], 100 + (i & 15) * 0.01, 101, 1, 1, clock[0], nowUs()); e2.drain(); });
