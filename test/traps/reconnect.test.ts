/**
 * Trap: "feeds that go silently stale after a reconnect". A real Bybit adapter (FeedManager) against a
 * small real WebSocket server on 127.0.0.1, the real Engine, the OKX leg pushed as a feed does. After
 * a drop and a reconnect whose new snapshot differs, the detector must only ever use post-reconnect
 * data: a quote from before the drop is never used again, even when it is younger than staleAfterMs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { DEFAULT_CONFIG, applyConfigPatch } from '../../shared/config.js';
import { perVenue } from '../../shared/exchanges.js';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import { Engine } from '../../server/engine/engine.js';
import { FeedManager } from '../../server/feeds/manager.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as AddressInfo).port;
}

const snapshot = (symbol: string, bid: number, ask: number, ts: number) =>
  JSON.stringify({
    topic: `tickers.${symbol}`,
    type: 'snapshot',
    data: { symbol, bid1Price: String(bid), bid1Size: '50', ask1Price: String(ask), ask1Size: '50', fundingRate: '0.0001', nextFundingTime: String(ts + 3_600_000) },
    cs: 1,
    ts,
  });

describe('trap: stale feed after a reconnect', () => {
  it('a new snapshot that differs wins; a pre-drop quote is never used (no ghost opportunity)', async () => {
    // Long OKX ETH at 2000, short Bybit ETH: before the drop Bybit bids 2010 (50 bps), afterwards 2000.2.
    const sockets: WebSocket[] = [];
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    wss.on('connection', (ws) => {
      const n = sockets.push(ws) - 1;
      ws.on('message', (m) => {
        if (!m.toString().includes('subscribe')) return;
        const t = Date.now();
        ws.send(snapshot('BTCUSDT', 100, 100.1, t));
        if (n === 0) ws.send(snapshot('ETHUSDT', 2010, 2010.5, t)); // the second connection sends ETH only when the test says so
      });
    });
    const wsPort = await listen(http);
    const rest = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      const item = (symbol: string, baseCoin: string) => ({ symbol, contractType: 'LinearPerpetual', baseCoin, quoteCoin: 'USDT', fundingInterval: 480 });
      res.end(JSON.stringify({ retCode: 0, result: { list: [item('BTCUSDT', 'BTC'), item('ETHUSDT', 'ETH')], nextPageCursor: '' } }));
    });
    const restPort = await listen(rest);

    // requireFunding off: this trap is about ghost quotes; the scripted venue sends no funding.
    const config = applyConfigPatch(DEFAULT_CONFIG, { detector: { staleAfterMs: 60_000, requireFunding: false }, thresholds: { minSpreadBps: 5, minProfitBps: 0 } });
    if (!config.ok) throw new Error('config');
    const engine = new Engine({ config: config.config });
    const events: OpportunityEvent[] = [];
    const sub = engine.bus.subscribe('test', () => events.push(...sub.popBatch(1000)));
    const okxEth = engine.registerInstrument('okx', 'ETH-USDT-SWAP', { base: 'ETH', quote: 'USDT' });
    const pushOkx = () => {
      engine.pushQuote(okxEth, 1999.5, 2000, 50, 50, Date.now(), 0);
      engine.drain();
    };
    const none = { ws: '', rest: '' };
    const fm = new FeedManager({
      engine,
      exchanges: ['bybit'],
      instruments: ['BTC-PERP', 'ETH-PERP'],
      endpoints: { ...perVenue(() => none), bybit: { ws: `ws://127.0.0.1:${wsPort}`, rest: `http://127.0.0.1:${restPort}` } },
      backoff: { initialMs: 20, maxMs: 100, factor: 2 },
    });
    cleanups.push(() => fm.stop());
    await fm.start();

    await waitFor('pre-drop ETH quote', () => engine.quote('ETH-PERP', 'bybit')?.bid === 2010);
    pushOkx();
    await waitFor('opened', () => events.some((e) => e.kind === 'opened'));
    const before = events.find((e) => e.kind === 'opened')!.opportunity;
    expect(before).toMatchObject({ longExchange: 'okx', shortExchange: 'bybit', shortBid: 2010 });

    // Drop; the reconnect's snapshot carries BTC only for now. The old ETH quote is well inside staleAfterMs.
    sockets[0].terminate();
    await waitFor('feed_down close', () => events.some((e) => e.kind === 'closed' && e.reason === 'feed_down'));
    await waitFor('reconnected and live', () => sockets.length === 2 && fm.states()[0].status === 'live');
    await waitFor('venue back up', () => engine.stats().exchangesDown.length === 0);
    const mark = events.length;
    pushOkx(); // the OKX leg updates: the pair is re-scored against whatever Bybit ETH the engine holds
    pushOkx();
    expect(engine.quote('ETH-PERP', 'bybit')!.usable).toBe(false); // the pre-drop quote is not usable
    expect(events.slice(mark).filter((e) => e.kind === 'opened')).toEqual([]); // no ghost opportunity
    expect(engine.opportunities()).toEqual([]);

    // The new snapshot differs (no spread): still nothing; then a real post-reconnect dislocation opens with ITS price.
    sockets[1].send(snapshot('ETHUSDT', 2000.2, 2000.7, Date.now()));
    await waitFor('new ETH quote', () => engine.quote('ETH-PERP', 'bybit')?.bid === 2000.2);
    pushOkx();
    expect(events.slice(mark).filter((e) => e.kind === 'opened')).toEqual([]);
    sockets[1].send(snapshot('ETHUSDT', 2012, 2012.5, Date.now()));
    await waitFor('post-reconnect open', () => events.slice(mark).some((e) => e.kind === 'opened'));
    const after = events.slice(mark).filter((e) => e.kind !== 'closed');
    expect(after.length).toBeGreaterThan(0);
    for (const e of after) expect(e.opportunity.shortBid).toBe(2012); // only post-reconnect Bybit data
    expect(fm.states()[0].reconnects).toBeGreaterThanOrEqual(1);
  });
});
