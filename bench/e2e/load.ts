/**
 * Fan-out load process: `node --import tsx bench/e2e/load.ts <wsUrl> <clients> <seconds> [--raw=<file>]` connects N
 * `ws` clients and measures, on the same host clock, every frame's delivery latency (arrival − the server's
 * `sentUs`) and each opened/closed message's end-to-end latency (arrival − the market frame's receive
 * time); prints one JSON line with the summary (with `--raw=<file>`, the samples go to that JSON file, so several load processes
 * can be merged: one process reading 1,000 sockets in turn adds its own queueing to the last ones read).
 */
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { Samples } from '../lib.js';
import { nowUs } from './proc.js';

const [url, nArg, secondsArg] = process.argv.slice(2);
const n = Number(nArg ?? 1000);
const seconds = Number(secondsArg ?? 15);
const rawFile = process.argv.find((a) => a.startsWith('--raw='))?.slice('--raw='.length) ?? null;
const raw = rawFile !== null;
const samples = new Samples(5_000_000);
let frames = 0;
const HEAD_RE = /^\{"frame":(\d+),"sentUs":(\d+),/;
const delivery = new Samples(5_000_000);
const EVENT_RE = /"recvUs":(\d+(?:\.\d+)?),"event":"(?:opened|closed)"/g;
let gaps = 0;
/** Rounded copies of the samples for --raw (µs resolution). */
const deliveryRaw: number[] = [];
const e2eRaw: number[] = [];
const r3 = (v: number) => Math.round(v * 1000) / 1000;
let closedEarly = 0;
let measuring = false;
const sockets: WebSocket[] = [];

async function connectAll(): Promise<void> {
  const batch = 50;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, () =>
        new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(url);
          let last = 0;
          ws.on('message', (data) => {
            const arrival = nowUs();
            // Cheap parsing on purpose: 1,000 clients JSON-parsing every frame would measure the load process,
            // not the server. Frames start with {"frame":N,"sentUs":T,"messages":[ ...
            const buf = data as Buffer;
            const head = HEAD_RE.exec(buf.toString('latin1', 0, 64));
            if (!head) return;
            const frameNo = Number(head[1]);
            if (frameNo !== last + 1) gaps++;
            last = frameNo;
            if (!measuring) return;
            frames++;
            const d = (arrival - Number(head[2])) / 1000;
            delivery.add(d);
            if (raw) deliveryRaw.push(r3(d));
            if (buf.indexOf('"event":"opened"') < 0 && buf.indexOf('"event":"closed"') < 0) return;
            for (const m of buf.toString().matchAll(EVENT_RE)) {
              const e = (arrival - Number(m[1])) / 1000;
              samples.add(e);
              if (raw) e2eRaw.push(r3(e));
            }
          });
          ws.once('open', () => resolve());
          ws.once('error', reject);
          ws.on('close', () => {
            if (measuring) closedEarly++;
          });
          sockets.push(ws);
        }),
      ),
    );
  }
}

await connectAll();
process.stdout.write(`${JSON.stringify({ connected: sockets.length })}\n`);
// Let snapshots drain; with several load processes, start measuring on a shared wall-clock second.
await new Promise((r) => setTimeout(r, 2000));
await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000)));
measuring = true;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
measuring = false;
const cpu = process.cpuUsage(cpu0);
const cpuPct = ((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 100;
const s = samples.summary();
const d = delivery.summary();
if (rawFile) writeFileSync(rawFile, JSON.stringify({ delivery_raw: deliveryRaw, e2e_raw: e2eRaw }));
process.stdout.write(
  `${JSON.stringify({
    result: {
      clients: sockets.length,
      frames,
      frameGaps: gaps,
      closedEarly,
      // frame delivery: arrival − the server's send-tick start (sentUs)
      p50_ms: d.p50,
      p99_ms: d.p99,
      p999_ms: d.p999,
      max_ms: d.max,
      // opened/closed: arrival − the feed's receive time of the market frame that caused it
      e2e_samples: s.count,
      e2e_p50_ms: s.p50,
      e2e_p99_ms: s.p99,
      cpu_pct: cpuPct,
    },
  })}\n`,
);
for (const ws of sockets) ws.terminate();
process.exit(0);
