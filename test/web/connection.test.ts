/**
 * StreamConnection against a real `ws` server on 127.0.0.1: it plays the server's side of the protocol
 * (snapshot first, contiguous frame numbers) and misbehaves on purpose (gaps, `missed`, drops, restarts).
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { backoffDelayMs } from '../../web/src/lib/backoff.js';
import { StreamConnection, type ConnectionInfo, type SocketLike } from '../../web/src/lib/connection.js';
import { StreamStore } from '../../web/src/lib/stream-store.js';
import { frame, opened, opportunity, snapshot } from './make.js';

interface Peer {
  socket: WebSocket;
  nextFrame: number;
  /** Client messages this connection received, parsed. */
  received: unknown[];
  send(messages: Parameters<typeof frame>[1][], frameNumber?: number): void;
}

/** A tiny protocol-speaking server; `onConnect` decides what each new connection gets. */
async function startServer(port = 0, onConnect: (peer: Peer, index: number) => void = () => {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const peers: Peer[] = [];
  wss.on('connection', (socket) => {
    const peer: Peer = {
      socket,
      nextFrame: 1,
      received: [],
      send(messages, frameNumber) {
        const n = frameNumber ?? peer.nextFrame;
        peer.nextFrame = n + 1;
        socket.send(JSON.stringify({ frame: n, messages }));
      },
    };
    socket.on('message', (data) => peer.received.push(JSON.parse(String(data))));
    peers.push(peer);
    onConnect(peer, peers.length - 1);
  });
  return {
    port: (wss.address() as AddressInfo).port,
    peers,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

async function until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function client(port: number, filterDebounceMs?: number) {
  const store = new StreamStore();
  const conn = new StreamConnection({
    url: `ws://127.0.0.1:${port}/ws`,
    store,
    createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    backoff: { baseMs: 50, maxMs: 400 },
    filterDebounceMs,
  });
  const statuses: ConnectionInfo['status'][] = [];
  conn.subscribe((i) => {
    if (statuses.at(-1) !== i.status) statuses.push(i.status);
  });
  conn.start();
  cleanups.push(() => conn.stop());
  return { store, conn, statuses };
}

const a = opportunity('BTC-PERP', 'okx', 'bybit', 5);
const b = opportunity('ETH-PERP', 'binance', 'kucoin', 9);

describe('StreamConnection', () => {
  it('goes live on the snapshot and applies the events that follow', async () => {
    const server = await startServer(0, (peer) => {
      peer.send([snapshot(1, [a])]);
      peer.send([opened(2, b)]);
    });
    cleanups.push(server.close);
    const { store, conn, statuses } = client(server.port);
    await until(() => store.value.rows.length === 2, 5000, 'two rows');
    expect(conn.value.status).toBe('live');
    expect(statuses.slice(0, 2)).toEqual(['stopped', 'connecting']);
    expect(statuses).toContain('live');
  });

  it('resyncs on a frame gap: reconnects and takes the new snapshot', async () => {
    const server = await startServer(0, (peer, index) => {
      if (index === 0) {
        peer.send([snapshot(1, [a])]);
        peer.send([opened(3, b)], 3); // frame 2 never arrives
      } else {
        peer.send([snapshot(10, [a, b])]);
      }
    });
    cleanups.push(server.close);
    const { store, conn } = client(server.port);
    await until(() => server.peers.length === 2 && store.value.rows.length === 2, 5000, 'resync');
    expect(conn.value.resyncs).toBe(1);
    expect(store.value.counters.gaps).toBe(1);
    expect(store.value.counters.snapshots).toBe(2);
    expect(conn.value.status).toBe('live');
  });

  it('resyncs when the server reports missed events', async () => {
    const server = await startServer(0, (peer, index) => {
      peer.send([snapshot(index === 0 ? 1 : 20, index === 0 ? [] : [a])]);
      if (index === 0) peer.send([{ type: 'missed', seq: 5, tsMs: 1, count: 3 }]);
    });
    cleanups.push(server.close);
    const { store, conn } = client(server.port);
    await until(() => server.peers.length === 2 && store.value.rows.length === 1, 5000, 'resync after missed');
    expect(conn.value.resyncs).toBe(1);
  });

  it('a frame that is not JSON is dropped and the gap it leaves triggers a resync', async () => {
    const server = await startServer(0, (peer, index) => {
      peer.send([snapshot(1, [])]);
      if (index === 0) {
        peer.socket.send('{not json');
        peer.nextFrame++;
        peer.send([opened(3, b)]);
      }
    });
    cleanups.push(server.close);
    const { store, conn } = client(server.port);
    await until(() => server.peers.length === 2 && conn.value.status === 'live' && conn.value.resyncs === 1, 5000, 'resync after junk');
    expect(store.value.counters.malformed).toBeGreaterThanOrEqual(1);
  });

  it('reconnects with backoff after the server goes away and recovers when it is back on the same port', async () => {
    let server = await startServer(0, (peer) => peer.send([snapshot(1, [a])]));
    const port = server.port;
    const { store, conn, statuses } = client(port);
    await until(() => conn.value.status === 'live', 5000, 'live');

    await server.close();
    await until(() => conn.value.status === 'reconnecting', 5000, 'reconnecting');
    expect(conn.value.downSinceMs).not.toBeNull();
    // Refused connects while the port is closed raise the attempt count.
    await until(() => conn.value.attempt >= 3, 5000, 'several attempts');
    expect(store.value.rows).toHaveLength(1); // the last picture stays on screen

    server = await startServer(port, (peer) => peer.send([snapshot(50, [a, b])]));
    cleanups.push(server.close);
    await until(() => conn.value.status === 'live' && store.value.rows.length === 2, 5000, 'recovered');
    expect(conn.value.attempt).toBe(0);
    expect(conn.value.reconnects).toBe(1);
    expect(conn.value.downSinceMs).toBeNull();
    expect(statuses.filter((s) => s === 'live')).toHaveLength(2);
  });

  it('stop() closes the socket and does not reconnect', async () => {
    const server = await startServer(0, (peer) => peer.send([snapshot(1, [])]));
    cleanups.push(server.close);
    const { conn } = client(server.port);
    await until(() => conn.value.status === 'live');
    conn.stop();
    await new Promise((r) => setTimeout(r, 300));
    expect(conn.value.status).toBe('stopped');
    expect(server.peers).toHaveLength(1);
  });
});

describe('StreamConnection: server-side subscribe filter', () => {
  const subscribes = (peer: Peer) => peer.received.filter((m) => (m as { type?: string }).type === 'subscribe');
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('sends the filter once after the user stops changing it, and re-sends it after a reconnect', async () => {
    const server = await startServer(0, (peer, index) => {
      peer.send([snapshot(index === 0 ? 1 : 30, [a, b])]);
      // Like the real hub: a subscribe is answered with a fresh filtered snapshot in the same frame sequence.
      peer.socket.on('message', (data) => {
        const m = JSON.parse(String(data)) as { type: string; filter: { minProfitBps?: number } };
        if (m.type !== 'subscribe') return;
        const min = m.filter.minProfitBps ?? -Infinity;
        peer.send([snapshot(100 + peer.received.length, [a, b].filter((o) => o.projectedProfitBps >= min))]);
      });
    });
    cleanups.push(server.close);
    const { store, conn } = client(server.port, 80);
    await until(() => conn.value.status === 'live' && store.value.rows.length === 2, 5000, 'live');

    // Typing "8" after "7": only the last value goes out.
    conn.setFilter({ minProfitBps: 7 });
    conn.setFilter({ minProfitBps: 8 });
    await until(() => subscribes(server.peers[0]).length === 1, 5000, 'subscribe');
    expect(subscribes(server.peers[0])).toEqual([{ type: 'subscribe', filter: { minProfitBps: 8 } }]);
    // The filtered snapshot replaces the rows: `a` (5 bps) no longer matches and does not linger as open.
    await until(() => store.value.rows.length === 1, 5000, 'filtered snapshot applied');
    expect(store.value.rows.map((r) => r.id)).toEqual([b.id]);

    // The same filter again sends nothing.
    conn.setFilter({ minProfitBps: 8 });
    await sleep(250);
    expect(subscribes(server.peers[0])).toHaveLength(1);

    // A resync (here: a frame gap) opens a new socket, which starts unfiltered: the filter is sent again.
    server.peers[0].send([opened(50, a)], 99);
    await until(() => server.peers.length === 2 && subscribes(server.peers[1]).length === 1, 5000, 'subscribe after resync');
    expect(subscribes(server.peers[1])[0]).toEqual({ type: 'subscribe', filter: { minProfitBps: 8 } });
    await until(() => store.value.rows.length === 1 && store.value.rows[0].id === b.id, 5000, 'filtered again');
    expect(conn.value.resyncs).toBe(1);
  });

  it('clearing the filter sends an empty one, and a connection with no filter sends nothing', async () => {
    const server = await startServer(0, (peer) => peer.send([snapshot(1, [a])]));
    cleanups.push(server.close);
    const { conn } = client(server.port, 20);
    await until(() => conn.value.status === 'live', 5000, 'live');
    conn.setFilter({});
    await sleep(150);
    expect(subscribes(server.peers[0])).toHaveLength(0);
    conn.setFilter({ instruments: ['BTC-PERP'] });
    await until(() => subscribes(server.peers[0]).length === 1, 5000, 'subscribe');
    conn.setFilter({});
    await until(() => subscribes(server.peers[0]).length === 2, 5000, 'clearing subscribe');
    expect(subscribes(server.peers[0])[1]).toEqual({ type: 'subscribe', filter: {} });
  });

  it('a filter set while down goes out on the connection that comes up', async () => {
    const server = await startServer(0, (peer) => peer.send([snapshot(1, [a])]));
    const port = server.port;
    await server.close();
    const { conn } = client(port, 10);
    conn.setFilter({ minProfitBps: 3 });
    await until(() => conn.value.attempt >= 1, 5000, 'a failed attempt');
    const again = await startServer(port, (peer) => peer.send([snapshot(1, [a])]));
    cleanups.push(again.close);
    await until(() => again.peers.length === 1 && subscribes(again.peers[0]).length === 1, 5000, 'subscribe on connect');
    expect(subscribes(again.peers[0])[0]).toEqual({ type: 'subscribe', filter: { minProfitBps: 3 } });
  });
});

describe('backoffDelayMs', () => {
  it('doubles up to the cap and stays within [ceiling/2, ceiling]', () => {
    const opts = { baseMs: 500, maxMs: 10_000 };
    expect(backoffDelayMs(0, { ...opts, random: () => 0 })).toBe(250);
    expect(backoffDelayMs(0, { ...opts, random: () => 1 })).toBe(500);
    expect(backoffDelayMs(3, { ...opts, random: () => 1 })).toBe(4000);
    expect(backoffDelayMs(10, { ...opts, random: () => 1 })).toBe(10_000);
    expect(backoffDelayMs(50, { ...opts, random: () => 0 })).toBe(5000);
  });
});
