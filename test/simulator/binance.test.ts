import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../server/simulator/index.js';
import { getJson, sleep, WsProbe } from './probe.js';

let sim: Simulator | undefined;
const probes: WsProbe[] = [];
const open = async (url: string, opts?: { autoPong?: boolean }) => {
  const p = await WsProbe.open(url, opts);
  probes.push(p);
  return p;
};
const start = async (opts: SimulatorOptions = {}) => (sim = await startSimulator({ seed: 11, messagesPerSec: 2000, ...opts }));

afterEach(async () => {
  for (const p of probes.splice(0)) p.close();
  await sim?.close();
  sim = undefined;
});

type Row = Record<string, unknown>;

describe('binance simulator', () => {
  it('serves exchangeInfo, fundingInfo (only non-8h symbols) and premiumIndex', async () => {
    const s = await start();
    const info = (await getJson(`${s.endpoints.binance.rest}/fapi/v1/exchangeInfo`)).body as { symbols: Row[] };
    const btc = info.symbols.find((x) => x.symbol === 'BTCUSDT');
    expect(btc).toMatchObject({ baseAsset: 'BTC', quoteAsset: 'USDT', marginAsset: 'USDT', contractType: 'PERPETUAL', status: 'TRADING' });
    const funding = (await getJson(`${s.endpoints.binance.rest}/fapi/v1/fundingInfo`)).body as Row[];
    expect(funding.length).toBeGreaterThan(0);
    for (const f of funding) expect([1, 4]).toContain(f.fundingIntervalHours);
    const premium = (await getJson(`${s.endpoints.binance.rest}/fapi/v1/premiumIndex`)).body as Row[];
    expect(premium).toHaveLength(5);
    for (const p of premium) {
      const hours = (funding.find((f) => f.symbol === p.symbol)?.fundingIntervalHours as number | undefined) ?? 8;
      expect((p.nextFundingTime as number) % (hours * 3_600_000)).toBe(0);
      expect(typeof p.lastFundingRate).toBe('string');
    }
    const one = await getJson(`${s.endpoints.binance.rest}/fapi/v1/premiumIndex?symbol=ETHUSDT`);
    expect((one.body as Row).symbol).toBe('ETHUSDT');
    const bad = await getJson(`${s.endpoints.binance.rest}/fapi/v1/premiumIndex?symbol=NOPE`);
    expect(bad.status).toBe(400);
    expect((bad.body as Row).code).toBe(-1121);
  });

  it('delivers bookTicker only on /public, wrapped in combined-stream mode', async () => {
    const s = await start();
    const pub = await open(`${s.endpoints.binance.ws}/public/stream`);
    const mkt = await open(`${s.endpoints.binance.ws}/market/stream`);
    pub.send({ method: 'SUBSCRIBE', params: ['btcusdt@bookTicker', 'ethusdt@markPrice@1s'], id: 1 });
    mkt.send({ method: 'SUBSCRIBE', params: ['btcusdt@bookTicker', 'btcusdt@markPrice@1s'], id: 2 });
    expect(await pub.next((m) => m.id === 1)).toEqual({ result: null, id: 1 });
    expect(await mkt.next((m) => m.id === 2)).toEqual({ result: null, id: 2 });
    await pub.until(() => pub.jsons((m) => m.stream === 'btcusdt@bookTicker').length >= 10, 8000, 'bookTicker');
    const book = pub.jsons<{ data: Row }>((m) => m.stream === 'btcusdt@bookTicker')[0].data;
    expect(book).toMatchObject({ e: 'bookTicker', s: 'BTCUSDT' });
    for (const k of ['b', 'B', 'a', 'A']) expect(typeof book[k]).toBe('string');
    for (const k of ['u', 'T', 'E']) expect(typeof book[k]).toBe('number');
    expect(Number(book.b)).toBeLessThan(Number(book.a));

    const mark = (await mkt.next((m) => m.stream === 'btcusdt@markPrice@1s', 4000)).data as Row;
    expect(mark).toMatchObject({ e: 'markPriceUpdate', s: 'BTCUSDT' });
    expect(typeof mark.r).toBe('string');
    expect(mark.T as number).toBeGreaterThan(Date.now());
    await sleep(1300);
    expect(pub.jsons((m) => m.stream === 'ethusdt@markPrice@1s')).toHaveLength(0); // wrong base: no data
    expect(mkt.jsons((m) => m.stream === 'btcusdt@bookTicker')).toHaveLength(0);

    pub.send({ method: 'LIST_SUBSCRIPTIONS', id: 3 });
    expect((await pub.next((m) => m.id === 3)).result).toEqual(['btcusdt@bookTicker', 'ethusdt@markPrice@1s']);
  });

  it('serves raw mode on /public/ws/<stream> and streams named in the URL', async () => {
    const s = await start();
    const raw = await open(`${s.endpoints.binance.ws}/public/ws/solusdt@bookTicker`);
    const book = await raw.next((m) => m.e === 'bookTicker');
    expect(book.s).toBe('SOLUSDT');
    const combined = await open(`${s.endpoints.binance.ws}/public/stream?streams=xrpusdt@bookTicker/dogeusdt@bookTicker`);
    await combined.next((m) => m.stream === 'xrpusdt@bookTicker');
    await combined.next((m) => m.stream === 'dogeusdt@bookTicker');
  });

  it('rejects requests without an id and unknown methods with an error, keeping the connection', async () => {
    const s = await start();
    const ws = await open(`${s.endpoints.binance.ws}/public/stream`);
    ws.send({ method: 'SUBSCRIBE', params: ['btcusdt@bookTicker'] });
    expect((await ws.next((m) => 'error' in m)).error).toMatchObject({ code: 2 });
    ws.send({ method: 'SUBSCRIBE', params: ['not asdfads'], id: 8 });
    expect(await ws.next((m) => m.id === 8)).toEqual({ error: { code: 2, msg: 'Invalid request: invalid stream' }, id: 8 });
    ws.send({ method: 'SUBSCRIB', params: [], id: 9 });
    expect(await ws.next((m) => m.id === 9)).toHaveProperty('error');
    expect(ws.closeInfo).toBeNull();
  });

  it('disconnects a connection over its stream cap (lowered to 200 here; 1024 by default) or over 10 incoming messages per second', async () => {
    const s = await start({ limits: { binance: { topicsPerConnection: 200 } } });
    const many = await open(`${s.endpoints.binance.ws}/public/stream`);
    many.send({ method: 'SUBSCRIBE', params: Array.from({ length: 200 }, (_, i) => `s${i}usdt@bookTicker`), id: 1 });
    expect(await many.next((m) => m.id === 1)).toEqual({ result: null, id: 1 });
    many.send({ method: 'SUBSCRIBE', params: ['one@bookTicker'], id: 2 });
    expect(await many.next((m) => m.id === 2)).toHaveProperty('error');
    await many.closed();

    const chatty = await open(`${s.endpoints.binance.ws}/public/stream`);
    for (let i = 0; i < 11; i++) chatty.send({ method: 'LIST_SUBSCRIPTIONS', id: i });
    await chatty.closed();
    expect(chatty.jsons((m) => 'result' in m).length).toBeLessThanOrEqual(10);

    const polite = await open(`${s.endpoints.binance.ws}/public/stream`);
    for (let i = 0; i < 10; i++) polite.send({ method: 'LIST_SUBSCRIPTIONS', id: i });
    await polite.until(() => polite.jsons((m) => 'result' in m).length === 10, 3000, '10 replies');
    expect(polite.closeInfo).toBeNull();

    await expect(WsProbe.open(`${s.endpoints.binance.ws}/public/stream?streams=${Array.from({ length: 201 }, (_, i) => `a${i}@bookTicker`).join('/')}`)).rejects.toThrow(
      'HTTP 400',
    );
  });

  it('sends ping frames and cuts a connection that never answers with pong', async () => {
    const s = await start({ timings: { binancePingIntervalMs: 150, binancePongTimeoutMs: 1000 } });
    const good = await open(`${s.endpoints.binance.ws}/market/stream`);
    const mute = await open(`${s.endpoints.binance.ws}/market/stream`, { autoPong: false });
    await good.until(() => good.pings >= 3, 3000, 'pings');
    await mute.closed(6000);
    expect(mute.pings).toBeGreaterThan(0);
    expect(good.closeInfo).toBeNull();
  });

  it('does not serve the retired legacy paths', async () => {
    const s = await start();
    await expect(WsProbe.open(`${s.endpoints.binance.ws}/stream`)).rejects.toThrow('HTTP 404');
  });
});
