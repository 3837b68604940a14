import { buildApp } from '../../server/app.ts';
import WebSocket from 'ws';
const a = await buildApp({ feeds: { simulator: { messagesPerSec: 3000, dislocationsPerMin: 600 } }, staticDir: null });
await a.app.listen({ host: '127.0.0.1', port: 0 });
const port = (a.app.server.address() as { port: number }).port;
const h = a.hub as unknown as Record<string, (...args: unknown[]) => unknown>;
const timings: Record<string, number[]> = {};
for (const name of ['flush', 'dispatch', 'onOpportunityEvent', 'onStrategyEvent', 'pump']) {
  const orig = h[name].bind(a.hub);
  timings[name] = [];
  h[name] = (...args: unknown[]) => { const t = performance.now(); const r = orig(...args); timings[name].push(performance.now() - t); return r; };
}
const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
await new Promise((r) => setTimeout(r, 12000));
for (const [k, arr] of Object.entries(timings)) { arr.sort((x, y) => x - y); console.log(k, arr.length, 'p50', arr[Math.floor(arr.length / 2)]?.toFixed(4), 'p99', arr[Math.floor(arr.length * 0.99)]?.toFixed(3), 'max', arr.at(-1)?.toFixed(2)); }
console.log(JSON.stringify(a.hub.stats().latency));
ws.terminate(); await a.close(); process.exit(0);
