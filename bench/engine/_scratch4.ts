import { DEFAULT_CONFIG } from '../../shared/config.js';
import { Engine, nowUs } from '../../server/engine/index.js';
const N = 1_000_000;
const clock = new Float64Array([1.7e12]);
const busCap = Number(process.argv[2] ?? 4096);
const e1 = new Engine({ config: DEFAULT_CONFIG, now: () => clock[0], busCapacity: busCap });
const a = e1.registerInstrument('bybit', 'BTCUSDT', { base: 'BTC', quote: 'USDT' });
const b = e1.registerInstrument('okx', 'BTC-USDT-SWAP', { base: 'BTC', quote: 'USDT' });
const sub = e1.bus.subscribe('x');
let ev = 0;
for (let round = 0; round < 4; round++) {
  const c0 = process.cpuUsage(); const ev0 = ev;
  for (let i = 0; i < N; i++) {
    clock[0] += 0.05;
    if (i & 1) e1.pushQuote(a, 99.99, 100, 1e6, 1e6, clock[0], nowUs());
    else e1.pushQuote(b, 100.3 + (i & 2 ? 0.01 : 0), 100.4, 1e6, 1e6, clock[0], nowUs());
    e1.drain();
    if (sub.pending > 0) ev += sub.popBatch(256).length;
  }
  const c = process.cpuUsage(c0);
  console.log('busCap', busCap, 'events', ev - ev0, 'cpu ns/update', ((c.user + c.system) * 1e3 / N).toFixed(0));
}
