import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultSymbolOfKey as nativeSymbol } from '../../server/venues/index.js';
import { DEFAULT_INSTRUMENTS, startSimulator, type Simulator } from '../../server/simulator/index.js';
import { getJson, WsProbe } from './probe.js';

let sim: Simulator;
const probes: WsProbe[] = [];
const open = async (url: string) => {
  const p = await WsProbe.open(url);
  probes.push(p);
  return p;
};

beforeEach(async () => {
  sim = await startSimulator({ seed: 7, messagesPerSec: 2000 });
});
afterEach(async () => {
  for (const p of probes.splice(0)) p.close();
  await sim.close();
});

interface InstrumentsInfo {
  retCode: number;
  result: { category: string; list: Array<Record<string, unknown> & { lotSizeFilter: Record<string, string> }>; nextPageCursor: string };
}

describe('bybit simulator', () => {
  it('serves instruments-info for linear perpetuals with Bybit field types', async () => {
    const { status, body } = await getJson(`${sim.endpoints.bybit.rest}/v5/market/instruments-info?category=linear`);
    expect(status).toBe(200);
    const info = body as InstrumentsInfo;
    expect(info.retCode).toBe(0);
    expect(info.result.category).toBe('linear');
    expect(info.result.list.map((i) => i.symbol)).toEqual(DEFAULT_INSTRUMENTS.map((k) => nativeSymbol('bybit', k)));
    const btc = info.result.list[0];
    expect(btc).toMatchObject({ baseCoin: 'BTC', quoteCoin: 'USDT', settleCoin: 'USDT', contractType: 'LinearPerpetual', status: 'Trading' });
    expect(typeof btc.fundingInterval).toBe('number');
    expect([60, 240, 480]).toContain(btc.fundingInterval);
    expect(btc.lotSizeFilter.qtyStep).toBe('0.001');
    const bad = await getJson(`${sim.endpoints.bybit.rest}/v5/market/instruments-info?category=spot`);
    expect((bad.body as InstrumentsInfo).retCode).not.toBe(0);
  });

  it('pages instruments-info with limit and cursor', async () => {
    const first = (await getJson(`${sim.endpoints.bybit.rest}/v5/market/instruments-info?category=linear&limit=2`)).body as InstrumentsInfo;
    expect(first.result.list).toHaveLength(2);
    expect(first.result.nextPageCursor).not.toBe('');
    const second = (await getJson(`${sim.endpoints.bybit.rest}/v5/market/instruments-info?category=linear&limit=10&cursor=${first.result.nextPageCursor}`))
      .body as InstrumentsInfo;
    expect(second.result.list.map((i) => i.symbol)).toEqual(['SOLUSDT', 'XRPUSDT', 'DOGEUSDT']);
    expect(second.result.nextPageCursor).toBe('');
  });

  it('acks a subscription, then sends a full string snapshot followed by deltas of changed fields only', async () => {
    const ws = await open(`${sim.endpoints.bybit.ws}/v5/public/linear`);
    ws.send({ req_id: 'r1', op: 'subscribe', args: ['tickers.BTCUSDT', 'tickers.ETHUSDT'] });
    const ack = await ws.next((m) => m.op === 'subscribe');
    expect(ack).toMatchObject({ success: true, ret_msg: '', req_id: 'r1', op: 'subscribe' });
    expect(typeof ack.conn_id).toBe('string');

    await ws.until(() => ws.jsons((m) => m.topic === 'tickers.BTCUSDT').length >= 20, 8000, '20 BTC tickers');
    const frames = ws.jsons<{ type: string; data: Record<string, unknown>; ts: number; cs: number }>((m) => m.topic === 'tickers.BTCUSDT');
    expect(frames[0].type).toBe('snapshot');
    const snap = frames[0].data;
    for (const [k, v] of Object.entries(snap)) expect(typeof v, k).toBe('string');
    expect(snap).toMatchObject({ symbol: 'BTCUSDT', fundingCap: '0.005' });
    expect(snap.nextFundingTime).toMatch(/^\d{13}$/);
    expect(Number(snap.nextFundingTime)).toBeGreaterThan(Date.now());
    expect(['1', '4', '8']).toContain(snap.fundingIntervalHour);
    expect(Number(snap.nextFundingTime) % (Number(snap.fundingIntervalHour) * 3_600_000)).toBe(0);

    const state: Record<string, unknown> = { ...snap };
    let partial = 0;
    for (const f of frames.slice(1)) {
      expect(f.type).toBe('delta');
      expect(f.data.symbol).toBe('BTCUSDT');
      expect(typeof f.ts).toBe('number');
      for (const k of Object.keys(f.data)) expect(Object.keys(snap)).toContain(k);
      // every field in a delta differs from the merged state (unchanged fields are left out)
      for (const [k, v] of Object.entries(f.data)) if (k !== 'symbol') expect(v, k).not.toBe(state[k]);
      if (!('bid1Price' in f.data) || !('ask1Price' in f.data)) partial++;
      Object.assign(state, f.data);
      expect(Number(state.bid1Price)).toBeLessThan(Number(state.ask1Price));
      expect(f.cs).toBeGreaterThan(frames[0].cs);
    }
    expect(partial).toBeGreaterThan(0);
  });

  it('answers ping with pong and rejects unknown topics without closing', async () => {
    const ws = await open(`${sim.endpoints.bybit.ws}/v5/public/linear`);
    ws.send({ req_id: 'p1', op: 'ping' });
    expect(await ws.next((m) => m.op === 'ping')).toMatchObject({ success: true, ret_msg: 'pong', req_id: 'p1', op: 'ping' });
    ws.send({ op: 'subscribe', args: ['tickers.NOPEUSDT'] });
    const err = await ws.next((m) => m.op === 'subscribe');
    expect(err.success).toBe(false);
    expect(String(err.ret_msg)).toContain('tickers.NOPEUSDT');
    ws.send('not json');
    await ws.next((m) => m.success === false && String(m.ret_msg).includes('not json'));
    ws.send({ op: 'subscribe', args: ['tickers.SOLUSDT'] });
    await ws.next((m) => m.topic === 'tickers.SOLUSDT' && m.type === 'snapshot');
    expect(ws.closeInfo).toBeNull();
  });

  it('rejects a duplicate subscription and stops a topic after unsubscribe', async () => {
    const ws = await open(`${sim.endpoints.bybit.ws}/v5/public/linear`);
    ws.send({ op: 'subscribe', args: ['tickers.XRPUSDT'] });
    await ws.next((m) => m.op === 'subscribe' && m.success === true);
    ws.send({ req_id: 'dup', op: 'subscribe', args: ['tickers.XRPUSDT'] });
    expect((await ws.next((m) => m.req_id === 'dup')).success).toBe(false);
    ws.send({ req_id: 'u', op: 'unsubscribe', args: ['tickers.XRPUSDT'] });
    await ws.next((m) => m.req_id === 'u' && m.success === true);
    const count = ws.jsons((m) => m.topic === 'tickers.XRPUSDT').length;
    await new Promise((r) => setTimeout(r, 400));
    expect(ws.jsons((m) => m.topic === 'tickers.XRPUSDT').length).toBe(count);
  });

  it('serves REST tickers consistent with the WS snapshot fields', async () => {
    const { body } = await getJson(`${sim.endpoints.bybit.rest}/v5/market/tickers?category=linear&symbol=ETHUSDT`);
    const list = (body as { result: { list: Array<Record<string, string>> } }).result.list;
    expect(list).toHaveLength(1);
    expect(list[0].symbol).toBe('ETHUSDT');
    expect(Number(list[0].bid1Price)).toBeLessThan(Number(list[0].ask1Price));
  });
});
