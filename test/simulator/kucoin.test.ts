import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../server/simulator/index.js';
import { getJson, sleep, WsProbe } from './probe.js';

let sim: Simulator | undefined;
const probes: WsProbe[] = [];
const open = async (url: string) => {
  const p = await WsProbe.open(url);
  probes.push(p);
  return p;
};
const start = async (opts: SimulatorOptions = {}) => (sim = await startSimulator({ seed: 5, messagesPerSec: 2000, ...opts }));

afterEach(async () => {
  for (const p of probes.splice(0)) p.close();
  await sim?.close();
  sim = undefined;
});

interface Bullet {
  code: string;
  data: { token: string; instanceServers: Array<{ endpoint: string; pingInterval: number; pingTimeout: number; protocol: string }> };
}

async function bullet(s: Simulator): Promise<{ url: string; server: Bullet['data']['instanceServers'][0] }> {
  const { body } = await getJson(`${s.endpoints.kucoin.rest}/api/v1/bullet-public`, { method: 'POST' });
  const b = body as Bullet;
  expect(b.code).toBe('200000');
  const server = b.data.instanceServers[0];
  return { url: `${server.endpoint}?token=${b.data.token}&connectId=c-${Date.now()}`, server };
}

describe('kucoin simulator', () => {
  it('hands out a bullet token and endpoint, welcomes the connection and acks subscriptions', async () => {
    const s = await start();
    const { url, server } = await bullet(s);
    expect(server.endpoint.startsWith(s.endpoints.kucoin.ws)).toBe(true);
    expect(server).toMatchObject({ pingInterval: 18000, pingTimeout: 10000, protocol: 'websocket' });
    const ws = await open(url);
    const welcome = await ws.next((m) => m.type === 'welcome');
    expect(welcome.id).toBe(new URL(url).searchParams.get('connectId'));
    ws.send({ id: 'sub1', type: 'subscribe', topic: '/contractMarket/tickerV2:XBTUSDTM,ETHUSDTM', privateChannel: false, response: true });
    expect(await ws.next((m) => m.type === 'ack')).toEqual({ id: 'sub1', type: 'ack' });
    ws.send({ id: 'pg', type: 'ping' });
    expect(await ws.next((m) => m.type === 'pong')).toMatchObject({ id: 'pg', type: 'pong' });
  });

  it('streams tickerV2 with string prices, integer contract sizes and nanosecond ts', async () => {
    const s = await start();
    const ws = await open((await bullet(s)).url);
    await ws.next((m) => m.type === 'welcome');
    ws.send({ id: '1', type: 'subscribe', topic: '/contractMarket/tickerV2:XBTUSDTM', response: true });
    await ws.until(() => ws.frames.filter((f) => f.text.includes('"subject":"tickerV2"')).length >= 10, 8000, 'tickers');
    let lastSeq = 0;
    for (const f of ws.frames.filter((x) => x.text.includes('"subject":"tickerV2"'))) {
      const m = f.json as { topic: string; sn: number; data: Record<string, unknown> };
      expect(m.topic).toBe('/contractMarket/tickerV2:XBTUSDTM');
      const d = m.data;
      expect(typeof d.bestBidPrice).toBe('string');
      expect(typeof d.bestAskPrice).toBe('string');
      expect(Number.isInteger(d.bestBidSize)).toBe(true);
      expect(Number.isInteger(d.bestAskSize)).toBe(true);
      expect(Number(d.bestBidPrice)).toBeLessThan(Number(d.bestAskPrice));
      expect(d.sequence as number).toBeGreaterThan(lastSeq);
      lastSeq = d.sequence as number;
      const ts = /"ts":(\d+)/.exec(f.text)?.[1] ?? '';
      expect(ts).toHaveLength(19); // nanoseconds, written exactly
      expect(Math.abs(Number(ts.slice(0, 13)) - Date.now())).toBeLessThan(5000);
    }
  });

  it('serves contracts/active with multiplier, XBT base and next funding times', async () => {
    const s = await start();
    const { body } = await getJson(`${s.endpoints.kucoin.rest}/api/v1/contracts/active`);
    const list = (body as { code: string; data: Array<Record<string, unknown>> }).data;
    const xbt = list.find((c) => c.symbol === 'XBTUSDTM') as Record<string, number | string>;
    expect(xbt).toMatchObject({ baseCurrency: 'XBT', quoteCurrency: 'USDT', settleCurrency: 'USDT', multiplier: 0.001, isInverse: false, takerFeeRate: 0.0006 });
    const granularity = xbt.fundingRateGranularity as number;
    expect([3_600_000, 4 * 3_600_000, 8 * 3_600_000]).toContain(granularity);
    const next = xbt.nextFundingRateDateTime as number;
    expect(next % granularity).toBe(0);
    expect(Math.abs(next - Date.now() - (xbt.nextFundingRateTime as number))).toBeLessThan(2000);
    expect(typeof xbt.fundingFeeRate).toBe('number');
    const one = await getJson(`${s.endpoints.kucoin.rest}/api/v1/contracts/SOLUSDTM`);
    expect((one.body as { data: { multiplier: number } }).data.multiplier).toBe(0.1);
  });

  it('pushes mark/index price and predicted funding on the instrument channel', async () => {
    const s = await start({ timings: { fundingPushMs: 300 } });
    const ws = await open((await bullet(s)).url);
    await ws.next((m) => m.type === 'welcome');
    ws.send({ id: '2', type: 'subscribe', topic: '/contract/instrument:XBTUSDTM', response: true });
    const mark = (await ws.next((m) => m.subject === 'mark.index.price', 4000)).data as Record<string, number>;
    expect(typeof mark.markPrice).toBe('number');
    expect(typeof mark.indexPrice).toBe('number');
    expect(mark.granularity).toBe(1000);
    const funding = (await ws.next((m) => m.subject === 'funding.rate', 4000)).data as Record<string, number>;
    expect(funding.granularity).toBe(60000);
    expect(typeof funding.fundingRate).toBe('number');
  });

  it('rejects a missing token at the handshake and an unknown or expired token with an error message', async () => {
    const s = await start({ timings: { kucoinTokenTtlMs: 200 } });
    await expect(WsProbe.open(`${s.endpoints.kucoin.ws}/endpoint?connectId=x`)).rejects.toThrow('HTTP 401');
    const bad = await open(`${s.endpoints.kucoin.ws}/endpoint?token=forged&connectId=y`);
    expect(await bad.next((m) => m.type === 'error')).toMatchObject({ code: 401, data: 'token is invalid' });
    await bad.closed();
    const { url } = await bullet(s);
    await sleep(300);
    const late = await open(url);
    expect(await late.next((m) => m.type === 'error')).toMatchObject({ code: 401, data: 'token is expired' });
    expect(late.jsons((m) => m.type === 'welcome')).toHaveLength(0);
  });

  it('closes a connection that stops pinging, keeps one that pings', async () => {
    const s = await start({ timings: { kucoinPingIntervalMs: 600, kucoinPingTimeoutMs: 400 } });
    const quiet = await open((await bullet(s)).url);
    const pinger = await open((await bullet(s)).url);
    const timer = setInterval(() => pinger.send({ id: String(Date.now()), type: 'ping' }), 150);
    try {
      await quiet.closed(5000);
      expect(pinger.closeInfo).toBeNull();
    } finally {
      clearInterval(timer);
    }
  });

  it('rejects unknown topics and more than 100 symbols in one request', async () => {
    const s = await start({ instruments: Array.from({ length: 101 }, (_, i) => `C${i}-PERP`) });
    const ws = await open((await bullet(s)).url);
    await ws.next((m) => m.type === 'welcome');
    ws.send({ id: 'u', type: 'subscribe', topic: '/contractMarket/nope:XBTUSDTM', response: true });
    expect(await ws.next((m) => m.id === 'u')).toMatchObject({ type: 'error' });
    const all = Array.from({ length: 101 }, (_, i) => `C${i}USDTM`).join(',');
    ws.send({ id: 'big', type: 'subscribe', topic: `/contractMarket/tickerV2:${all}`, response: true });
    expect(await ws.next((m) => m.id === 'big')).toMatchObject({ type: 'error' });
  });
});
