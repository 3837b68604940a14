/**
 * Fan-out load process: `node --import tsx bench/e2e/load.ts <wsUrl> <clients> <seconds>` connects N `ws`
 * clients, measures each opened/closed opportunity message's delivery latency (arrival − the market frame's
 * receive time, same host clock), and prints one JSON line with the summary.
 */
import WebSocket from 'ws';
import { Samples } from '../lib.js';
import { nowUs } from './proc.js';

const [url, nArg, secondsArg] = process.argv.slice(2);
const n = Number(nArg ?? 1000);
const seconds = Number(secondsArg ?? 15);
const samples = new Samples(5_000_000);
let frames = 0;
const EVENT_RE = /"recvUs":(\d+(?:\.\d+)?),"event":"(?:opened|closed)"/g;
let gaps = 0;
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
            // String scanning instead of JSON.parse: 1,000 clients parsing every frame would measure the load
            // process, not the server. Layout: {"frame":N,...,"recvUs":R,"event":"opened",...}
            const text = (data as Buffer).toString();
            const frameNo = Number(text.slice(9, text.indexOf(',', 9)));
            if (frameNo !== last + 1) gaps++;
            last = frameNo;
            if (!measuring) return;
            frames++;
            for (const m of text.matchAll(EVENT_RE)) samples.add((arrival - Number(m[1])) / 1000);
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
await new Promise((r) => setTimeout(r, 2000)); // let snapshots drain
measuring = true;
await new Promise((r) => setTimeout(r, seconds * 1000));
measuring = false;
const s = samples.summary();
process.stdout.write(
  `${JSON.stringify({ result: { clients: sockets.length, frames, frameGaps: gaps, closedEarly, samples: s.count, p50_ms: s.p50, p99_ms: s.p99, p999_ms: s.p999, max_ms: s.max } })}\n`,
);
for (const ws of sockets) ws.terminate();
process.exit(0);
