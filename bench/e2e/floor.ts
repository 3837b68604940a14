/**
 * The floor under the fan-out figure: a bare `ws` server (no feeds, engine or hub) sends one small,
 * pre-encoded frame to N clients at 10 Hz; the clients run in `E2E_LOAD_PROCS` load processes (load.ts).
 * Prints the server's pass time (first to last `send`) and the clients' delivery latency, so the hub's
 * numbers can be read against what the kernel and this machine allow.
 * `npx tsx bench/e2e/floor.ts [clients] [seconds]`
 */
import { readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { report, Samples } from '../lib.js';
import { nowUs, startProc } from './proc.js';

const clients = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 8);
const procs = Math.max(1, Number(process.env.E2E_LOAD_PROCS ?? 4));
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
await new Promise((r) => wss.once('listening', r));
const port = (wss.address() as { port: number }).port;
const sockets: WebSocket[] = [];
const frameNo = new Map<WebSocket, number>();
wss.on('connection', (ws) => {
  sockets.push(ws);
  frameNo.set(ws, 0);
});
const pass = new Samples(100_000);
const timer = setInterval(() => {
  const sentUs = Math.round(nowUs());
  const t0 = performance.now();
  for (const ws of sockets) {
    const n = (frameNo.get(ws) ?? 0) + 1;
    frameNo.set(ws, n);
    ws.send(`{"frame":${n},"sentUs":${sentUs},"messages":[]}`, { compress: false });
  }
  if (sockets.length === clients) pass.add(performance.now() - t0);
}, 100);
const raw = (i: number) => join(tmpdir(), `perpscan-floor-${process.pid}-${i}.json`);
const loads = Array.from({ length: procs }, (_, i) =>
  startProc(['bench/e2e/load.ts', `ws://127.0.0.1:${port}`, String(Math.floor(clients / procs) + (i < clients % procs ? 1 : 0)), String(seconds), `--raw=${raw(i)}`], { ...process.env }),
);
await Promise.all(loads.map((l) => l.waitFor((line) => line.includes('"result"'), (seconds + 60) * 1000)));
clearInterval(timer);
const delivery = new Samples(5_000_000);
for (let i = 0; i < procs; i++) {
  for (const v of (JSON.parse(readFileSync(raw(i), 'utf8')) as { delivery_raw: number[] }).delivery_raw) delivery.add(v);
  rmSync(raw(i), { force: true });
}
const p = pass.summary();
const d = delivery.summary();
report(`floor: bare ws, ${clients} clients (${procs} load processes), 10 Hz, tiny frame`, [
  ['server pass p50 / p99 ms', `${p.p50.toFixed(2)} / ${p.p99.toFixed(2)}`],
  ['delivery p50 / p99 ms', `${d.p50.toFixed(2)} / ${d.p99.toFixed(2)} (${d.count})`],
  ['loadavg 1m', loadavg()[0].toFixed(2)],
]);
for (const l of loads) await l.stop();
wss.close();
process.exit(0);
