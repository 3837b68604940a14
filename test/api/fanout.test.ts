/**
 * /ws fan-out over real sockets on 127.0.0.1: frames are encoded once per audience (clients sharing a
 * subscribe filter) per tick and shared; a client that stops reading is resynced with a fresh snapshot
 * once it drains (its backlog dropped, never queued without bound) while the others keep receiving.
 */
import { describe, expect, it } from 'vitest';
import { testConfig } from './harness.js';
import { INSTRUMENTS, MID, sleep, tick, useStreamServers } from './stream-servers.js';
import type { StreamTestClient } from './ws-client.js';

const { listening, connect } = useStreamServers();
const key = (m: { event?: string; kind?: string; opportunity: { id: string } }) => `${m.event ?? m.kind}:${m.opportunity.id}`;
/** The shared part of a frame (everything but its per-client number). */
const body = (c: StreamTestClient, from: number) => c.frames.slice(from).map((f) => JSON.stringify({ sentUs: f.sentUs, messages: f.messages }));

describe('/ws fan-out', () => {
  it('encodes each frame once per audience: clients with the same filter share it byte for byte', async () => {
    // No periodic stats during the test: every frame comes from the events below.
    const { a, url } = await listening({ config: testConfig({ stream: { statsIntervalMs: 60_000 } }) });
    for (const i of INSTRUMENTS) a.flat(i, MID[i]);
    const plain = await Promise.all(Array.from({ length: 6 }, () => connect(url)));
    const btc = await Promise.all(Array.from({ length: 3 }, () => connect(url)));
    const eth = await connect(url);
    // The same filter spelled differently still means one audience.
    btc[0].send({ type: 'subscribe', filter: { instruments: ['BTC-PERP'], exchanges: ['okx', 'bybit', 'kucoin'] } });
    btc[1].send({ type: 'subscribe', filter: { exchanges: ['bybit', 'kucoin', 'okx'], instruments: ['BTC-PERP'] } });
    btc[2].send({ type: 'subscribe', filter: { exchanges: ['kucoin', 'okx', 'bybit'], instruments: ['BTC-PERP'] } });
    eth.send({ type: 'subscribe', filter: { instruments: ['ETH-PERP'] } });
    for (const c of [...btc, eth]) await c.waitFor(() => c.snapshots().length === 2);
    await sleep(250); // past a coalescing tick
    const start = (c: StreamTestClient) => c.frames.length;
    const from = new Map([...plain, ...btc, eth].map((c) => [c, start(c)]));
    const before = a.hub.counters;

    for (let n = 0; n < 5; n++) {
      a.spread('BTC-PERP', 'bybit', 'okx', MID['BTC-PERP'], 80 + n);
      await tick();
      a.flat('BTC-PERP', MID['BTC-PERP']);
      await tick();
    }
    const expected = 10; // 5 × (opened, closed) of BTC-PERP|bybit|okx
    for (const c of [...plain, ...btc]) await c.waitFor(() => c.opportunityEvents().filter((m) => m.event !== 'updated').length >= expected);
    await sleep(250); // the last tick
    const after = a.hub.counters;

    const framesOf = (c: StreamTestClient) => c.frames.length - from.get(c)!;
    for (const c of plain) expect(body(c, from.get(c)!)).toEqual(body(plain[0], from.get(plain[0])!));
    for (const c of btc) expect(body(c, from.get(c)!)).toEqual(body(btc[0], from.get(btc[0])!));
    expect(framesOf(plain[0])).toBeGreaterThan(0);
    expect(framesOf(btc[0])).toBeGreaterThan(0);
    expect(framesOf(eth)).toBe(0); // nothing for ETH-PERP happened
    // One encode per audience per tick, however many clients it has: 6 + 3 clients, 2 audiences.
    expect(after.framesEncoded - before.framesEncoded).toBe(framesOf(plain[0]) + framesOf(btc[0]));
    expect(after.framesSent - before.framesSent).toBe(6 * framesOf(plain[0]) + 3 * framesOf(btc[0]));
    expect(after.bytesSent).toBeGreaterThan(before.bytesSent);
    for (const c of [...plain, ...btc, eth]) expect(c.violations).toEqual([]);
  });

  it('drops the backlog of a client that stops reading and resyncs it with a snapshot once it drains; the others keep receiving', { timeout: 60_000 }, async () => {
    const max = 64 * 1024;
    const { a, url } = await listening({ config: testConfig({ stream: { maxClientBufferBytes: max, statsIntervalMs: 200 } }) });
    for (const i of INSTRUMENTS) a.flat(i, MID[i]);
    const slow = await connect(url);
    const fast = await connect(url);
    // Test-side only: pause the client's TCP reads (the server sees a peer that stops reading).
    const tcp = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    tcp.pause();
    const observer = a.engine.bus.subscribe('observer');
    // Publish until the server finds the slow client over its limit and starts dropping its frames.
    for (let n = 0; n < 20_000 && a.hub.counters.framesDropped === 0; n++) {
      a.spread(INSTRUMENTS[n % 3], 'bybit', 'okx', MID[INSTRUMENTS[n % 3]], 80 + (n % 7));
      a.flat(INSTRUMENTS[n % 3], MID[INSTRUMENTS[n % 3]]);
      await tick();
    }
    expect(a.hub.counters.framesDropped).toBeGreaterThan(0);
    expect(a.hub.counters.terminatedSlow).toBe(0);
    expect(a.hub.counters.resyncs).toBe(0);
    const fastFramesAtLag = fast.frames.length;
    // While the slow one lags, the fast one keeps getting frames.
    a.spread('BTC-PERP', 'bybit', 'okx', MID['BTC-PERP'], 90);
    await fast.waitFor(() => fast.frames.length > fastFramesAtLag);
    // The slow client reads again: once drained it gets a fresh snapshot (frames stay contiguous).
    const snapshotsBefore = slow.snapshots().length;
    tcp.resume();
    await slow.waitFor(() => slow.snapshots().length > snapshotsBefore, 10_000);
    expect(a.hub.counters.resyncs).toBe(1);
    expect(a.hub.counters.terminatedSlow).toBe(0);
    const resync = slow.snapshots()[slow.snapshots().length - 1];
    expect(slow.violations).toEqual([]);
    expect(slow.closed).toBeNull();
    // The snapshot holds the current state, and the stream goes on after it.
    expect(resync.opportunities.map((o) => o.id).sort()).toEqual(a.engine.opportunities().map((o) => o.id).sort());
    a.flat('BTC-PERP', MID['BTC-PERP']);
    await slow.waitFor(() => slow.messages.slice(slow.messages.indexOf(resync)).some((m) => m.type === 'opportunity' && m.event === 'closed' && m.opportunity.id === 'BTC-PERP|bybit|okx'));
    // The fast client got every opened/closed, in bus order.
    const expected = observer.popBatch(1_000_000).filter((e) => e.kind !== 'updated').map(key);
    await fast.waitFor(() => fast.opportunityEvents().filter((m) => m.event !== 'updated').length >= expected.length, 20_000);
    expect(fast.opportunityEvents().filter((m) => m.event !== 'updated').map(key)).toEqual(expected);
    expect(fast.violations).toEqual([]);
    expect(a.hub.clientCount).toBe(2);
    // The counters are in /metrics.
    const metrics = (await a.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^perpscan_ws_resyncs_total 1$/m);
    expect(metrics).toMatch(/^perpscan_ws_frames_dropped_total [1-9]\d*$/m);
    expect(metrics).toMatch(/^perpscan_ws_bytes_sent_total [1-9]\d*$/m);

    // Lagging again soon after a resync: it cannot keep up, so it is cut rather than resynced in a loop.
    tcp.pause();
    for (let n = 0; n < 20_000 && a.hub.counters.terminatedSlow === 0; n++) {
      a.spread(INSTRUMENTS[n % 3], 'bybit', 'okx', MID[INSTRUMENTS[n % 3]], 80 + (n % 7));
      a.flat(INSTRUMENTS[n % 3], MID[INSTRUMENTS[n % 3]]);
      await tick();
    }
    expect(a.hub.counters.terminatedSlow).toBe(1);
    expect(a.hub.counters.resyncs).toBe(1);
    expect(a.hub.clientCount).toBe(1);
    expect(fast.closed).toBeNull();
  });
});
