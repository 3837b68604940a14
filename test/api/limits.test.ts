/**
 * Limits a hostile client runs into (issue 10 §3), over real HTTP / WebSocket / TCP on 127.0.0.1:
 * failed authentications per address, /ws message budget and subscribe throttle, oversized /ws messages,
 * a request body that trickles in, and the per-address connection cap.
 */
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { trackApps } from './harness.js';
import { rawRequest } from './raw-http.js';
import { StreamTestClient } from './ws-client.js';

const { serve, closeAll } = trackApps();
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await closeAll();
});

/** JSON log lines the app writes (a real pino logger into memory). */
function captureLogs(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

const TOKEN = 't'.repeat(40);

describe('failed authentications per address', () => {
  it('130 wrong tokens: 10 × 401, then 429 for everything from that address, even the right token', async () => {
    const { a, port } = await serve({ apiToken: TOKEN, authFailures: { max: 10, windowMs: 60_000 }, rateLimit: { max: 10_000, timeWindowMs: 60_000 } });
    const codes = new Map<number, number>();
    for (let i = 0; i < 130; i++) {
      const r = await rawRequest(port, { method: 'PUT', path: '/api/config', headers: { authorization: `Bearer guess-${i}` }, body: { thresholds: { minSpreadBps: 9 } } });
      codes.set(r.status, (codes.get(r.status) ?? 0) + 1);
    }
    expect(Object.fromEntries(codes)).toEqual({ 401: 10, 429: 120 });
    const blocked = await rawRequest(port, { method: 'PUT', path: '/api/config', headers: { authorization: `Bearer ${TOKEN}` }, body: { thresholds: { minSpreadBps: 9 } } });
    expect(blocked.status).toBe(429);
    expect(blocked.json()).toMatchObject({ error: 'rate_limited', field: 'authorization' });
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(a.config.version).toBe(1);
  });

  it('the address may try again when its window ends', async () => {
    // A 2 s window: the 4 requests below (~50 ms) must all land inside it even if the process stalls.
    const { a, port } = await serve({ apiToken: TOKEN, authFailures: { max: 3, windowMs: 2000 } });
    const put = (token: string) => rawRequest(port, { method: 'PUT', path: '/api/config', headers: { authorization: `Bearer ${token}` }, body: { thresholds: { minSpreadBps: 9 } } });
    for (let i = 0; i < 3; i++) await put('wrong');
    expect((await put(TOKEN)).status).toBe(429);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await put(TOKEN)).status).toBe(200);
    expect(a.config.version).toBe(2);
  });

  it('counts per client address (the forwarded one behind a trusted proxy); a missing token is not a guess', async () => {
    const { port } = await serve({ apiToken: TOKEN, trustProxy: 'loopback', authFailures: { max: 3, windowMs: 60_000 } });
    const put = (client: string, token?: string) =>
      rawRequest(port, { method: 'POST', path: '/api/trading-state', headers: { 'x-forwarded-for': client, ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: { state: 'active' } });
    for (let i = 0; i < 3; i++) expect((await put('203.0.113.7', 'wrong')).status).toBe(401);
    expect((await put('203.0.113.7', TOKEN)).status).toBe(429);
    expect((await put('198.51.100.2', TOKEN)).status).toBe(200); // another client is not locked out
    for (let i = 0; i < 20; i++) expect((await put('198.51.100.3')).status).toBe(401); // no token: nothing guessed
    expect((await put('198.51.100.3', TOKEN)).status).toBe(200);
  });
});

describe('/ws client messages', () => {
  it('a burst of subscribes rebuilds at most a few snapshots, and the last filter wins', async () => {
    const { a, port } = await serve();
    a.flat('BTC-PERP', 50_000);
    a.flat('ETH-PERP', 3000);
    a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 60);
    a.spread('ETH-PERP', 'kucoin', 'binance', 3000, 120);
    const ws = await StreamTestClient.connect(`ws://127.0.0.1:${port}/ws`);
    try {
      for (let i = 0; i < 30; i++) ws.send({ type: 'subscribe', filter: { instruments: [i % 2 === 0 ? 'BTC-PERP' : 'SOL-PERP'] } });
      ws.send({ type: 'subscribe', filter: { instruments: ['ETH-PERP'] } });
      await ws.waitFor(() => ws.snapshots().at(-1)?.opportunities.some((o) => o.instrument === 'ETH-PERP') === true, 5000);
      await new Promise((r) => setTimeout(r, 600)); // anything still scheduled would arrive now
      const snapshots = ws.snapshots();
      // the connect snapshot, the first subscribe at once, then one merged snapshot for the other 30
      expect(snapshots.length).toBe(3);
      expect(new Set(snapshots.at(-1)!.opportunities.map((o) => o.instrument))).toEqual(new Set(['ETH-PERP']));
      expect(ws.closed).toBeNull();
      expect(ws.violations).toEqual([]);
      expect(a.hub.counters.rateLimitedClientMessages).toBe(0); // 31 messages fit the burst (2 × 20)
    } finally {
      ws.close();
    }
  });

  it('a client flooding past its budget has the excess dropped, then is closed with 1008', async () => {
    const logs = captureLogs();
    const { a, port } = await serve({ logger: logs.logger, wsClientMessagesPerSec: 20 });
    const ws = await StreamTestClient.connect(`ws://127.0.0.1:${port}/ws`);
    for (let i = 0; i < 2000 && !ws.closed; i++) ws.send({ type: 'ping', id: String(i) });
    await ws.waitFor(() => ws.closed !== null, 5000).catch(() => undefined);
    expect(ws.closed?.code).toBe(1008);
    expect(a.hub.counters.rateLimitedClientMessages).toBeGreaterThan(400);
    expect(logs.lines.some((l) => l.msg === 'ws client sends too fast: excess messages dropped')).toBe(true);
    expect(logs.lines.some((l) => String(l.msg).includes('closed (1008)'))).toBe(true);
    // others are unaffected
    const other = await StreamTestClient.connect(`ws://127.0.0.1:${port}/ws`);
    expect(other.frames[0].messages[0].type).toBe('snapshot');
    other.close();
  });

  it('an oversized message closes the socket with 1009 and one warning line, no stack trace', async () => {
    const logs = captureLogs();
    const { a, port } = await serve({ logger: logs.logger });
    const ws = await StreamTestClient.connect(`ws://127.0.0.1:${port}/ws`);
    ws.send({ type: 'subscribe', filter: { instruments: Array.from({ length: 2000 }, (_, i) => `X${i}-PERP`.padEnd(60, 'X')) } }); // ~130 KB > 64 KiB
    await ws.waitFor(() => ws.closed !== null, 5000).catch(() => undefined);
    expect(ws.closed?.code).toBe(1009);
    await new Promise((r) => setTimeout(r, 100));
    const lines = logs.lines.filter((l) => String(l.msg).includes('too large'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, maxBytes: 64 * 1024 });
    expect(JSON.stringify(logs.lines)).not.toMatch(/"stack"|at .*\.js:\d+/);
    expect(logs.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect((await rawRequest(port, { path: '/api/health' })).status).toBe(200);
    expect(a.hub.clientCount).toBe(0);
  });
});

/** Opens a TCP connection and resolves when it is connected. */
function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    sockets.push(s);
    s.on('error', reject);
  });
}

/** Resolves with what the server wrote and when it closed the socket (ms after `startMs`), or null after `waitMs`. */
function whenClosed(s: net.Socket, startMs: number, waitMs: number): Promise<{ afterMs: number; reply: string } | null> {
  let reply = '';
  s.on('data', (d: Buffer) => (reply += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), waitMs);
    s.once('close', () => {
      clearTimeout(timer);
      resolve({ afterMs: Date.now() - startMs, reply });
    });
  });
}

describe('HTTP timeouts and the connection cap', () => {
  it('request bodies that trickle in are cut with 408 after the request timeout', async () => {
    const { a, port } = await serve({ http: { requestTimeoutMs: 2000, headersTimeoutMs: 1000 } });
    const startMs = Date.now();
    const slow = await Promise.all(Array.from({ length: 40 }, () => connect(port)));
    const timers: NodeJS.Timeout[] = [];
    for (const s of slow) {
      s.write(`PUT /api/config HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
      timers.push(setInterval(() => s.writable && s.write(' '), 200)); // one byte every 200 ms: never idle, never done
    }
    const results = await Promise.all(slow.map((s) => whenClosed(s, startMs, 8000)));
    for (const t of timers) clearInterval(t);
    for (const r of results) {
      expect(r).not.toBeNull();
      expect(r!.reply).toMatch(/^HTTP\/1\.1 408/);
      expect(r!.afterMs).toBeGreaterThanOrEqual(1900);
      expect(r!.afterMs).toBeLessThan(5000);
    }
    expect(a.config.version).toBe(1);
    expect((await rawRequest(port, { path: '/api/health' })).status).toBe(200);
  });

  it('headers that never finish are cut after the headers timeout', async () => {
    // The request timeout well apart from the headers one (5 s vs 1 s; Node checks both every 1 s here), so
    // "cut by the headers timeout" (≤ ~2 s) and "not before the request timeout" stay distinct under a stall.
    const { port } = await serve({ http: { requestTimeoutMs: 5000, headersTimeoutMs: 1000 } });
    const startMs = Date.now();
    const s = await connect(port);
    s.write(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
    const timer = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), 200);
    const r = await whenClosed(s, startMs, 8000);
    clearInterval(timer);
    expect(r).not.toBeNull();
    expect(r!.reply).toMatch(/^HTTP\/1\.1 408/);
    expect(r!.afterMs).toBeLessThan(5000);
  });

  it('past MAX_CONNECTIONS_PER_IP open connections from one address, new ones are closed at once', async () => {
    const logs = captureLogs();
    const { port } = await serve({ logger: logs.logger, http: { maxConnectionsPerIp: 5 } });
    const held = await Promise.all(Array.from({ length: 5 }, () => connect(port)));
    const extra = await Promise.all(Array.from({ length: 3 }, () => connect(port)));
    const extraClosed = await Promise.all(extra.map((s) => whenClosed(s, Date.now(), 3000)));
    for (const r of extraClosed) expect(r).toMatchObject({ reply: '' }); // closed before any byte
    const heldOpen = await Promise.all(held.map((s) => whenClosed(s, Date.now(), 300)));
    expect(heldOpen).toEqual([null, null, null, null, null]);
    expect(logs.lines.filter((l) => String(l.msg).includes('MAX_CONNECTIONS_PER_IP'))).toHaveLength(1); // one line per episode
    // a held connection works; once they close, new connections are accepted again
    held[0].write(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    expect((await whenClosed(held[0], Date.now(), 3000))?.reply).toMatch(/^HTTP\/1\.1 200/);
    for (const s of held) s.destroy();
    // As soon as the server has seen them close (a connection accepted before that is still refused: retried).
    await vi.waitFor(async () => expect((await rawRequest(port, { path: '/api/health' })).status).toBe(200), { timeout: 5_000, interval: 100 });
  });

  it('a trusted proxy\'s connections are not capped (every client shares its address)', async () => {
    const { port } = await serve({ trustProxy: 'loopback', http: { maxConnectionsPerIp: 2 } });
    const conns = await Promise.all(Array.from({ length: 6 }, () => connect(port)));
    const closed = await Promise.all(conns.map((s) => whenClosed(s, Date.now(), 300)));
    expect(closed.every((c) => c === null)).toBe(true);
  });
});
