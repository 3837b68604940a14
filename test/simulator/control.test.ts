import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../server/simulator/index.js';
import { sleep, WsProbe } from './probe.js';

const sims: Simulator[] = [];
const probes: WsProbe[] = [];
const open = async (url: string) => {
  const p = await WsProbe.open(url);
  probes.push(p);
  return p;
};
const start = async (opts: SimulatorOptions = {}) => {
  const s = await startSimulator({ seed: 2, messagesPerSec: 2000, ...opts });
  sims.push(s);
  return s;
};

afterEach(async () => {
  for (const p of probes.splice(0)) p.close();
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function bybitClient(s: Simulator, symbol = 'BTCUSDT'): Promise<WsProbe> {
  const ws = await open(`${s.endpoints.bybit.ws}/v5/public/linear`);
  ws.send({ op: 'subscribe', args: [`tickers.${symbol}`] });
  await ws.next((m) => m.type === 'snapshot');
  return ws;
}

async function binanceClient(s: Simulator, streams: string[]): Promise<WsProbe> {
  const ws = await open(`${s.endpoints.binance.ws}/public/stream`);
  ws.send({ method: 'SUBSCRIBE', params: streams, id: 1 });
  await ws.next((m) => m.id === 1);
  return ws;
}

const ALL_BOOKS = ['btcusdt', 'ethusdt', 'solusdt', 'xrpusdt', 'dogeusdt'].map((s) => `${s}@bookTicker`);

describe('simulator controls', () => {
  it('dropConnections(ex) cuts only that venue abruptly; dropConnections() cuts all', async () => {
    const s = await start();
    const bybit = await bybitClient(s);
    const binance = await binanceClient(s, ['btcusdt@bookTicker']);
    s.dropConnections('bybit');
    expect((await bybit.closed()).code).toBe(1006); // no close frame
    await sleep(200);
    expect(binance.closeInfo).toBeNull();
    expect(s.stats().connections.binance).toBe(1);
    s.dropConnections();
    expect((await binance.closed()).code).toBe(1006);
    // the venue accepts new connections afterwards
    const again = await bybitClient(s);
    expect(again.closeInfo).toBeNull();
  });

  it('silence(ex, ms) keeps sockets open but sends nothing, then resumes (Bybit with a fresh snapshot)', async () => {
    const s = await start();
    const bybit = await bybitClient(s);
    const binance = await binanceClient(s, ALL_BOOKS);
    // 3 s of silence, checked 1.5 s in: a stall of the test process cannot carry the check past its end.
    const SILENCE_MS = 3000;
    s.silence('bybit', SILENCE_MS);
    const silencedAt = Date.now();
    const sentAt = s.stats().sent.bybit;
    bybit.send({ op: 'ping' }); // not even heartbeats are answered
    await sleep(SILENCE_MS / 2);
    expect(s.stats().sent.bybit).toBe(sentAt); // the venue sent nothing at all (counted where it sends)
    const during = bybit.frames.filter((f) => f.at > silencedAt + 500); // frames already on the wire may arrive just after
    expect(during).toHaveLength(0);
    expect(bybit.closeInfo).toBeNull();
    expect(binance.frames.filter((f) => f.at > silencedAt + 50).length).toBeGreaterThan(20); // other venues unaffected
    const resumed = await bybit.until(() => bybit.frames.find((f) => f.at > silencedAt + SILENCE_MS / 2), 5000, 'resume');
    expect(resumed.at).toBeGreaterThanOrEqual(silencedAt + SILENCE_MS - 20); // not before the silence ends
    expect((resumed.json as { type: string }).type).toBe('snapshot');
    expect(bybit.jsons((m) => m.op === 'ping')).toHaveLength(0); // the ping sent during the silence is never answered
    // a connection opened during or after the silence is not silenced
    s.silence('binance', 2000);
    const fresh = await binanceClient(s, ['btcusdt@bookTicker']);
    await fresh.next((m) => m.stream === 'btcusdt@bookTicker', 2000);
  });

  it('setRate changes the message rate and clamps it to 1..100000', async () => {
    const s = await start({ messagesPerSec: 40 });
    const ws = await binanceClient(s, ALL_BOOKS);
    const count = async (ms: number) => {
      const before = ws.frames.length;
      await sleep(ms);
      return ws.frames.length - before;
    };
    const slow = await count(1500); // Binance gets about a quarter of 40/s
    s.setRate(8000);
    const fast = await count(1500);
    expect(slow).toBeLessThan(60);
    expect(fast).toBeGreaterThan(slow * 20);
    s.setRate(0);
    expect(s.stats().messagesPerSec).toBe(1);
    s.setRate(1e9);
    expect(s.stats().messagesPerSec).toBe(100_000);
  });

  it('closes Binance and KuCoin connections when they reach their maximum age', async () => {
    const s = await start({ timings: { connectionMaxAgeMs: 300 } });
    const b = await binanceClient(s, ['btcusdt@bookTicker']);
    await b.closed(3000);
    const bullet = (await (await fetch(`${s.endpoints.kucoin.rest}/api/v1/bullet-public`, { method: 'POST' })).json()) as {
      data: { token: string; instanceServers: Array<{ endpoint: string }> };
    };
    const k = await open(`${bullet.data.instanceServers[0].endpoint}?token=${bullet.data.token}&connectId=a`);
    await k.next((m) => m.type === 'welcome');
    await k.closed(3000);
  });

  it('the same seed gives the same prices for the same update sequence numbers; another seed differs', async () => {
    const [a, b, c] = await Promise.all([start({ seed: 42 }), start({ seed: 42 }), start({ seed: 43 })]);
    const [wa, wb, wc] = await Promise.all([a, b, c].map((s) => binanceClient(s, ['btcusdt@bookTicker'])));
    await sleep(1500);
    const prices = (ws: WsProbe) =>
      new Map(ws.jsons<{ data: { u: number; b: string; a: string; B: string } }>((m) => m.stream === 'btcusdt@bookTicker').map((m) => [m.data.u, `${m.data.b}/${m.data.a}/${m.data.B}`]));
    const [pa, pb, pc] = [prices(wa), prices(wb), prices(wc)];
    const common = [...pa.keys()].filter((u) => pb.has(u));
    expect(common.length).toBeGreaterThan(20);
    for (const u of common) expect(pb.get(u)).toBe(pa.get(u));
    const other = [...pa.keys()].filter((u) => pc.has(u));
    expect(other.length).toBeGreaterThan(0);
    expect(other.filter((u) => pc.get(u) !== pa.get(u)).length).toBeGreaterThan(other.length / 2);
  });

  it('accepts any instrument keys, e.g. 200 synthetic ones', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `SYN${i}-PERP`);
    const s = await start({ instruments: keys, messagesPerSec: 20_000 });
    const info = (await (await fetch(`${s.endpoints.bybit.rest}/v5/market/instruments-info?category=linear&limit=1000`)).json()) as {
      result: { list: Array<{ symbol: string }> };
    };
    expect(info.result.list).toHaveLength(200);
    const ws = await binanceClient(s, ['syn199usdt@bookTicker']);
    const book = (await ws.next((m) => m.stream === 'syn199usdt@bookTicker')).data as { b: string; a: string };
    expect(Number(book.b)).toBeGreaterThan(0);
    expect(Number(book.b)).toBeLessThan(Number(book.a));
  });
});

describe('simulator venue selection', () => {
  it('publishes market data only for the selected exchanges while every endpoint still answers', async () => {
    const s = await start({ exchanges: ['okx'] });
    const binance = await binanceClient(s, ALL_BOOKS);
    const okx = await open(`${s.endpoints.okx.ws}/ws/v5/public`);
    okx.send({ op: 'subscribe', args: [{ channel: 'bbo-tbt', instId: 'BTC-USDT-SWAP' }] });
    await okx.until(() => okx.jsons((m) => 'data' in m).length >= 5, 5000, 'okx data');
    expect(binance.frames.filter((f) => f.text.includes('bookTicker'))).toHaveLength(0);
    const info = await fetch(`${s.endpoints.binance.rest}/fapi/v1/exchangeInfo`);
    expect(info.status).toBe(200);
  });
});
