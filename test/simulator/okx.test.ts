import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../server/simulator/index.js';
import { getJson, WsProbe } from './probe.js';

let sim: Simulator;
const probes: WsProbe[] = [];
const open = async (url: string) => {
  const p = await WsProbe.open(url);
  probes.push(p);
  return p;
};

beforeEach(async () => {
  sim = await startSimulator({ seed: 3, messagesPerSec: 2000, timings: { fundingPushMs: 300 } });
});
afterEach(async () => {
  for (const p of probes.splice(0)) p.close();
  await sim.close();
});

type Row = Record<string, string>;

describe('okx simulator', () => {
  it('lists SWAP instruments with contract values and funding over REST', async () => {
    const { body } = await getJson(`${sim.endpoints.okx.rest}/api/v5/public/instruments?instType=SWAP`);
    const { code, data } = body as { code: string; data: Row[] };
    expect(code).toBe('0');
    const btc = data.find((d) => d.instId === 'BTC-USDT-SWAP') as Row;
    expect(btc).toMatchObject({ instType: 'SWAP', ctVal: '0.01', ctValCcy: 'BTC', ctType: 'linear', settleCcy: 'USDT', uly: 'BTC-USDT', state: 'live' });
    expect(data.find((d) => d.instId === 'DOGE-USDT-SWAP')?.ctVal).toBe('1000');
    const missing = await getJson(`${sim.endpoints.okx.rest}/api/v5/public/instruments`);
    expect(missing.status).toBe(400);
    expect((missing.body as { code: string }).code).not.toBe('0');

    const fr = await getJson(`${sim.endpoints.okx.rest}/api/v5/public/funding-rate?instId=ETH-USDT-SWAP`);
    const f = (fr.body as { data: Row[] }).data[0];
    expect(f.instId).toBe('ETH-USDT-SWAP');
    expect(typeof f.fundingRate).toBe('string');
    const interval = Number(f.nextFundingTime) - Number(f.fundingTime);
    expect([3_600_000, 4 * 3_600_000, 8 * 3_600_000]).toContain(interval);
    expect(Number(f.fundingTime)).toBeGreaterThan(Date.now());
    expect(Number(f.fundingTime) % interval).toBe(0);
    const unknown = await getJson(`${sim.endpoints.okx.rest}/api/v5/public/funding-rate?instId=NOPE-USDT-SWAP`);
    expect((unknown.body as { code: string }).code).toBe('51001');
  });

  it('acks each subscribe arg and pushes tickers, bbo-tbt (contracts) and funding-rate', async () => {
    const ws = await open(`${sim.endpoints.okx.ws}/ws/v5/public`);
    ws.send({
      id: '7',
      op: 'subscribe',
      args: [
        { channel: 'tickers', instId: 'BTC-USDT-SWAP' },
        { channel: 'bbo-tbt', instId: 'BTC-USDT-SWAP' },
        { channel: 'funding-rate', instId: 'BTC-USDT-SWAP' },
      ],
    });
    await ws.until(() => ws.jsons((m) => m.event === 'subscribe').length === 3, 3000, '3 acks');
    for (const ack of ws.jsons((m) => m.event === 'subscribe')) {
      expect(ack.id).toBe('7');
      expect(typeof ack.connId).toBe('string');
      expect((ack.arg as Row).instId).toBe('BTC-USDT-SWAP');
    }
    await ws.until(() => ws.jsons((m) => (m.arg as Row | undefined)?.channel === 'bbo-tbt').length >= 10, 8000, 'bbo-tbt');
    const ticker = (await ws.next((m) => (m.arg as Row | undefined)?.channel === 'tickers' && 'data' in m)).data as Row[];
    expect(ticker[0]).toMatchObject({ instType: 'SWAP', instId: 'BTC-USDT-SWAP' });
    for (const k of ['last', 'askPx', 'askSz', 'bidPx', 'bidSz', 'ts']) expect(typeof ticker[0][k]).toBe('string');
    expect(Number.isInteger(Number(ticker[0].bidSz))).toBe(true);
    const bbo = ws.jsons<{ data: Array<{ asks: string[][]; bids: string[][]; ts: string }> }>((m) => (m.arg as Row | undefined)?.channel === 'bbo-tbt' && 'data' in m);
    for (const b of bbo) {
      const [ask, bid] = [b.data[0].asks[0], b.data[0].bids[0]];
      expect(ask).toHaveLength(4);
      expect(Number(bid[0])).toBeLessThan(Number(ask[0]));
      expect(Number.isInteger(Number(ask[1]))).toBe(true); // contracts
      expect(Math.abs(Number(b.data[0].ts) - Date.now())).toBeLessThan(5000);
    }
    // funding pushes: one right after subscribing, then on the cadence
    await ws.until(() => ws.jsons((m) => (m.arg as Row | undefined)?.channel === 'funding-rate' && 'data' in m).length >= 2, 3000, 'funding');
    const fr = (ws.jsons((m) => (m.arg as Row | undefined)?.channel === 'funding-rate' && 'data' in m)[0].data as Row[])[0];
    expect(Number(fr.nextFundingTime)).toBeGreaterThan(Number(fr.fundingTime));
    expect(typeof fr.fundingRate).toBe('string');
  });

  it('answers text ping with text pong and reports bad requests as error events', async () => {
    const ws = await open(`${sim.endpoints.okx.ws}/ws/v5/public`);
    ws.send('ping');
    await ws.until(() => ws.frames.some((f) => f.text === 'pong'), 3000, 'pong');
    ws.send('{"op":"subscribe"');
    expect(await ws.next((m) => m.event === 'error')).toMatchObject({ code: '60012' });
    ws.send({ op: 'subscribe', args: [{ channel: 'tickers', instId: 'NOPE-USDT-SWAP' }] });
    expect(await ws.next((m) => m.event === 'error' && m.code === '60018')).toHaveProperty('msg');
    ws.send({ op: 'subscribe', args: [{ channel: 'tickers', instId: 'SOL-USDT-SWAP' }] });
    await ws.next((m) => m.event === 'subscribe');
    ws.send({ op: 'unsubscribe', args: [{ channel: 'tickers', instId: 'SOL-USDT-SWAP' }] });
    await ws.next((m) => m.event === 'unsubscribe');
    expect(ws.closeInfo).toBeNull();
  });

  it('closes a connection that subscribes to nothing within the idle time', async () => {
    await sim.close();
    sim = await startSimulator({ seed: 3, timings: { okxIdleMs: 300 } });
    const ws = await open(`${sim.endpoints.okx.ws}/ws/v5/public`);
    expect((await ws.closed(3000)).code).toBe(4004);
  });
});
