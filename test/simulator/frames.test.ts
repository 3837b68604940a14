import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { encodeTextFrames } from '../../server/simulator/venue.js';
import { WsProbe } from './probe.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

describe('batched frame encoding', () => {
  it('writes frames a standard ws client decodes exactly, for all three length forms and UTF-8', async () => {
    const texts = ['{}', 'x'.repeat(125), 'y'.repeat(126), 'z'.repeat(65_535), 'w'.repeat(70_000), '{"s":"é€😀"}'];
    server = createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => {
      // the same path the simulator uses: frames written straight to the upgraded socket
      ((ws as unknown as { _socket: Socket })._socket).write(encodeTextFrames(texts));
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
    const probe = await WsProbe.open(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await probe.until(() => probe.frames.length === texts.length, 5000, 'all frames');
    expect(probe.frames.map((f) => f.text)).toEqual(texts);
    probe.close();
    wss.close();
  });
});
