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
      send(messages, frameNumber) {
        const n = frameNumber ?? peer.nextFrame;
        peer.nextFrame = n + 1;
        socket.send(JSON.stringify({ frame: n, messages }));
      },
    };
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

function client(port: number) {
  const store = new StreamStore();
  const conn = new StreamConnection({
    url: `ws://127.0.0.1:${port}/ws`,
    store,
    createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    backoff: { baseMs: 50, maxMs: 400 },
  });
  const statuses: ConnectionInfo['status'][] = [];
  conn.subscribe((i) => {
    if (statuses.at(-1) !== i.status) statuses.push(i.status);
  });
  conn.start();
  cleanups.push(() => conn.stop());
  return { store, conn, statuses };
}

const a = opportunity('BTC-USDT-PERP', 'okx', 'bybit', 5);
const b = opportunity('ETH-USDT-PERP', 'binance', 'kucoin', 9);

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
