/** /ws with real `ws` clients against a listening server driven by the real engine and strategy. */
import { describe, expect, it } from 'vitest';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import type { ServerMessage } from '../../shared/protocol.js';
import { testConfig, type TestApp } from './harness.js';
import { INSTRUMENTS, MID, sleep, tick, useStreamServers } from './stream-servers.js';
import type { StreamTestClient } from './ws-client.js';

const { listening, connect } = useStreamServers();

/** Opens then closes opportunities on an instrument. */
function cycle(a: TestApp, instrument: string, bps = 80): void {
  a.spread(instrument, 'bybit', 'okx', MID[instrument], bps);
  a.flat(instrument, MID[instrument]);
}

const key = (m: { event?: string; kind?: string; opportunity: { id: string } }) => `${m.event ?? m.kind}:${m.opportunity.id}`;

describe('/ws stream', () => {
  it('sends one snapshot first, then ordered events with contiguous frames and increasing seq', async () => {
    const { a, url } = await listening();
    for (const i of INSTRUMENTS) a.flat(i, MID[i]);
    a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 80);
    const open = a.engine.opportunities();
    expect(open.length).toBeGreaterThan(0);

    const c = await connect(url);
    const first = c.frames[0];
    expect(first.frame).toBe(1);
    expect(first.messages).toHaveLength(1);
    const snap = first.messages[0];
    expect(snap.type).toBe('snapshot');
    if (snap.type !== 'snapshot') return;
    expect(snap.opportunities.map((o) => o.id).sort()).toEqual(open.map((o) => o.id).sort());
    expect(snap.configVersion).toBe(1);
    expect(snap.tradingState).toBe('active');
    expect(snap.stats.wsClients).toBe(1);

    const observer = a.engine.bus.subscribe('observer');
    for (let n = 0; n < 20; n++) {
      cycle(a, INSTRUMENTS[n % 3]);
      if (n % 5 === 0) await tick();
    }
    const busEvents = observer.popBatch(100_000).filter((e) => e.kind !== 'updated');
    const expected = busEvents.map(key);
    await c.waitFor(() => c.opportunityEvents().filter((m) => m.event !== 'updated').length >= expected.length);
    expect(c.opportunityEvents().filter((m) => m.event !== 'updated').map(key)).toEqual(expected);
    expect(c.violations).toEqual([]);
  });

  it('coalesces updates per opportunity to the configured rate (latest wins); opened/closed go out at once', async () => {
    // 1 Hz: a tick every second. "At once" below is within 800 ms, 80 % of a tick as before at 2 Hz with 400 ms,
    // scaled up so that a stall of a few hundred ms does not count as waiting for the tick.
    const { a, url } = await listening({ config: testConfig({ stream: { updateRateHz: 1 } }) });
    for (const i of INSTRUMENTS) a.flat(i, MID[i]);
    const c = await connect(url);
    const observer = a.engine.bus.subscribe('observer');
    a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 80);
    const id = 'BTC-PERP|bybit|okx';
    await c.waitFor(() => c.opportunityEvents().some((m) => m.event === 'opened' && m.opportunity.id === id), 800);
    // A burst of 60 moves (each above the update epsilon) in one go.
    for (let n = 1; n <= 60; n++) a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 80 + n);
    const published = observer.popBatch(100_000).filter((e) => e.kind === 'updated' && e.opportunity.id === id);
    expect(published.length).toBeGreaterThanOrEqual(30);
    const finalValue = a.engine.opportunities().find((o) => o.id === id)!;
    await c.waitFor(() => c.opportunityEvents().some((m) => m.event === 'updated' && m.opportunity.id === id), 4000);
    await sleep(2400); // two more ticks: nothing new may arrive for it
    const updates = c.opportunityEvents().filter((m) => m.event === 'updated' && m.opportunity.id === id);
    expect(updates).toHaveLength(1);
    expect(updates[0].opportunity.spreadBps).toBeCloseTo(finalValue.spreadBps, 6);
    expect(updates[0].opportunity.updateCount).toBe(finalValue.updateCount);
    // close goes out at once too
    a.flat('BTC-PERP', 50_000);
    await c.waitFor(() => c.opportunityEvents().some((m) => m.event === 'closed' && m.opportunity.id === id), 800);
    expect(c.violations).toEqual([]);
  });

  it('applies a subscribe filter (instruments, exchanges, minProfitBps) with a fresh filtered snapshot', async () => {
    const { a, url } = await listening();
    for (const i of INSTRUMENTS) a.flat(i, MID[i]);
    a.spread('SOL-PERP', 'kucoin', 'binance', 150, 80);
    const eth = await connect(url);
    const bybitOkx = await connect(url);
    const rich = await connect(url);
    eth.send({ type: 'subscribe', filter: { instruments: ['ETH-PERP'] } });
    bybitOkx.send({ type: 'subscribe', filter: { exchanges: ['bybit', 'okx'] } });
    rich.send({ type: 'subscribe', filter: { minProfitBps: 60 } });
    for (const c of [eth, bybitOkx, rich]) await c.waitFor(() => c.snapshots().length === 2);
    const snap = (c: StreamTestClient) => c.snapshots()[1];
    expect(snap(eth).opportunities).toEqual([]);
    expect(snap(bybitOkx).opportunities).toEqual([]);
    expect(snap(rich).opportunities.every((o) => o.projectedProfitBps >= 60)).toBe(true);

    a.spread('ETH-PERP', 'bybit', 'okx', 3000, 40); // small
    a.spread('BTC-PERP', 'kucoin', 'okx', 50_000, 150); // big
    await sleep(300); // past a coalescing tick: the big one's update (above the threshold) goes out
    a.flat('ETH-PERP', 3000);
    a.flat('BTC-PERP', 50_000);
    await sleep(300);
    // Only what arrived after the filtered snapshot: events sent before the filter took effect are unfiltered by design.
    const ids = (c: StreamTestClient) => [...new Set(c.opportunityEventsAfterSnapshot(2).map((m) => m.opportunity.id))];
    expect(ids(eth).length).toBeGreaterThan(0);
    expect(ids(eth).every((id) => id.startsWith('ETH-PERP|'))).toBe(true);
    expect(ids(bybitOkx)).toContain('ETH-PERP|bybit|okx');
    expect(ids(bybitOkx).every((id) => /\|(bybit|okx)\|(bybit|okx)$/.test(id))).toBe(true);
    expect(ids(rich)).toContain('BTC-PERP|kucoin|okx');
    expect(ids(rich)).not.toContain('ETH-PERP|bybit|okx');
    // a client only ever gets a close for something it was shown
    for (const c of [eth, bybitOkx, rich]) {
      const shown = new Set(snap(c).opportunities.map((o) => o.id));
      for (const m of c.opportunityEventsAfterSnapshot(2)) {
        if (m.event === 'closed') expect(shown.has(m.opportunity.id)).toBe(true);
        else shown.add(m.opportunity.id);
      }
      expect(c.violations).toEqual([]);
    }
  });

  it('cuts off a client that stops reading without slowing another client or the engine', async () => {
    const { a, url } = await listening({ config: testConfig({ stream: { maxClientBufferBytes: 256 * 1024 } }) });
    for (const i of INSTRUMENTS) a.flat(i, MID[i]);
    const slow = await connect(url);
    const fast = await connect(url);
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // stops reading from TCP
    const observer = a.engine.bus.subscribe('observer');
    let pushed = 0;
    const before = a.engine.stats().updates;
    for (let n = 0; n < 6000 && !slow.closed; n++) {
      cycle(a, INSTRUMENTS[n % 3], 80 + (n % 7));
      pushed += 6;
      if (n % 20 === 0) await tick();
      if (a.hub.counters.terminatedSlow > 0 && n % 20 === 0) break;
    }
    expect(a.hub.counters.terminatedSlow).toBe(1);
    expect(a.engine.stats().updates - before).toBe(pushed); // the engine processed every update
    expect(a.engine.stats().pipeline.dropped).toBe(0);
    const expected = observer.popBatch(1_000_000).filter((e) => e.kind !== 'updated').map(key);
    await fast.waitFor(() => fast.opportunityEvents().filter((m) => m.event !== 'updated').length >= expected.length, 20_000);
    expect(fast.opportunityEvents().filter((m) => m.event !== 'updated').map(key)).toEqual(expected);
    expect(fast.violations).toEqual([]);
    expect(fast.closed).toBeNull();
    expect(a.hub.clientCount).toBe(1);
  });

  it('the strategy and two dashboards receive the same opportunity sequence', async () => {
    const { a, url } = await listening();
    for (const i of INSTRUMENTS) a.flat(i, MID[i]);
    const d1 = await connect(url);
    const d2 = await connect(url);
    a.strategy.start();
    // The observer uses the same subscription mechanism as the strategy ('strategy' subscriber on engine.bus).
    const observer = a.engine.bus.subscribe('observer');
    for (let n = 0; n < 30; n++) {
      a.spread(INSTRUMENTS[n % 3], n % 2 ? 'kucoin' : 'bybit', 'okx', MID[INSTRUMENTS[n % 3]], 70 + n);
      await sleep(5);
      a.flat(INSTRUMENTS[n % 3], MID[INSTRUMENTS[n % 3]]);
    }
    const bus: OpportunityEvent[] = observer.popBatch(1_000_000);
    const busSeq = bus.filter((e) => e.kind !== 'updated').map(key);
    for (const d of [d1, d2]) await d.waitFor(() => d.opportunityEvents().filter((m) => m.event !== 'updated').length >= busSeq.length);
    const seqOf = (d: StreamTestClient) => d.opportunityEvents().filter((m) => m.event !== 'updated').map(key);
    expect(seqOf(d1)).toEqual(busSeq);
    expect(seqOf(d2)).toEqual(busSeq);
    // The same messages (same seq, same content) went to both dashboards.
    const strip = (d: StreamTestClient) => d.messages.filter((m) => m.type === 'opportunity').map((m) => JSON.stringify(m));
    expect(strip(d1)).toEqual(strip(d2));
    // The strategy consumed the same bus without loss, and what it traded was announced to the dashboards.
    expect(a.strategy.missedOpportunityEvents()).toBe(0);
    const opened = new Set(bus.filter((e) => e.kind === 'opened').map((e) => e.opportunity.id));
    const traded = a.strategy.positions().map((p) => p.opportunityId);
    expect(traded.length).toBeGreaterThan(0);
    for (const id of traded) expect(opened.has(id)).toBe(true);
    await d1.waitFor(() => d1.messages.some((m) => m.type === 'position'));
    const shownPositions = new Set(d1.messages.flatMap((m) => (m.type === 'position' ? [m.position.id] : [])));
    for (const p of a.strategy.positions()) expect(shownPositions.has(p.id)).toBe(true);
  });

  it('a fan-out larger than one write slice keeps every client complete and in order', { timeout: 60_000 }, async () => {
    const { a, url } = await listening();
    for (const i of INSTRUMENTS) a.flat(i, MID[i]);
    const many: StreamTestClient[] = [];
    for (let i = 0; i < 230; i += 23) many.push(...(await Promise.all(Array.from({ length: 23 }, () => connect(url)))));
    const observer = a.engine.bus.subscribe('observer');
    for (let n = 0; n < 20; n++) {
      cycle(a, INSTRUMENTS[n % 3]);
      if (n === 10) many[5].send({ type: 'subscribe', filter: { instruments: ['BTC-PERP'] } });
      await tick();
    }
    const expected = observer.popBatch(100_000).filter((e) => e.kind !== 'updated').map(key);
    const done = (c: StreamTestClient) => c.opportunityEvents().filter((m) => m.event !== 'updated').length >= expected.length;
    for (const c of many) if (c !== many[5]) await c.waitFor(() => done(c), 20_000);
    for (const c of many) {
      expect(c.violations).toEqual([]);
      if (c !== many[5]) expect(c.opportunityEvents().filter((m) => m.event !== 'updated').map(key)).toEqual(expected);
    }
    // the re-subscribed client: its second snapshot came after all frames owed under the old filter
    await many[5].waitFor(() => many[5].snapshots().length === 2);
    const afterSnap = many[5].messages.slice(many[5].messages.indexOf(many[5].snapshots()[1]) + 1);
    expect(afterSnap.filter((m) => m.type === 'opportunity').every((m) => m.type === 'opportunity' && m.opportunity.instrument === 'BTC-PERP')).toBe(true);
  });

  it('tells clients to resync (missed) when the stream fell behind the bus', async () => {
    const { a, url } = await listening({ busCapacity: 256 });
    for (const i of INSTRUMENTS) a.flat(i, MID[i]);
    const c = await connect(url);
    // Publish far more than the bus holds without yielding: the stream's subscriber cannot keep up.
    for (let n = 0; n < 400; n++) cycle(a, INSTRUMENTS[n % 3]);
    await c.waitFor(() => c.messages.some((m) => m.type === 'missed'));
    const missed = c.messages.find((m): m is Extract<ServerMessage, { type: 'missed' }> => m.type === 'missed')!;
    expect(missed.count).toBeGreaterThan(0);
    expect(a.hub.counters.missedEvents).toBe(missed.count);
    expect(c.violations).toEqual([]);
  });

  it('drops malformed client messages, keeps the connection, and sends periodic stats, feed and config messages', async () => {
    const { a, url } = await listening({ config: testConfig({ stream: { statsIntervalMs: 200 } }) });
    const c = await connect(url);
    for (const bad of ['not json', '{"type":"subscribe"}', '{"type":"subscribe","filter":{"exchanges":["ftx"]}}', '{"type":"launch"}', '[]']) c.send(bad);
    c.send({ type: 'ping', id: 'x' });
    await c.waitFor(() => c.messages.filter((m) => m.type === 'stats').length >= 2, 3000);
    expect(a.hub.counters.malformedClientMessages).toBe(5);
    expect(c.closed).toBeNull();
    const stats = c.messages.find((m) => m.type === 'stats');
    expect(stats?.type === 'stats' && stats.stats.wsClients).toBe(1);
    const r = await a.app.inject({ method: 'PUT', url: '/api/config', payload: { thresholds: { minSpreadBps: 7 } } });
    expect(r.statusCode).toBe(200);
    await c.waitFor(() => c.messages.some((m) => m.type === 'config' && m.version === 2));
    expect(c.violations).toEqual([]);
  });

  it('serves /ws under the base path', async () => {
    const { url } = await listening({ basePath: '/perpscan' });
    expect(url).toContain('/perpscan/ws');
    const c = await connect(url);
    expect(c.frames[0].messages[0].type).toBe('snapshot');
  });
});
