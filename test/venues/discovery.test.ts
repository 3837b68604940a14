/**
 * Discovery over each venue's real-format instruments response (test/fixtures/<venue>/instruments*.json,
 * see SOURCES.md there): what is listed per status, what is skipped and why, the multiplied, numeric-leading,
 * renamed and USDC-settled rows, and the same PEPE through every venue's real parser.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import type { Discovery, FetchJson, InstrumentMeta, InstrumentStatus, UpdateSink } from '../../server/feeds/adapter.js';
import { VENUES } from '../../server/venues/index.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const load = (venue: string, file: string): unknown => JSON.parse(readFileSync(join(FIXTURES, venue, file), 'utf8'));
/** 2026-12-01T20:00:00Z, the "now" the KuCoin fixture was written for. */
const NOW = 1_796_155_200_000;
const REST = 'http://venue.test';
const H = 3_600_000;

/** Serves the fixtures by path (and query, for Bybit's pages); records the URLs asked for. */
function server(routes: (url: URL) => unknown): { fetchJson: FetchJson; urls: string[] } {
  const urls: string[] = [];
  return {
    urls,
    fetchJson: async (raw) => {
      urls.push(raw);
      const body = routes(new URL(raw));
      if (body === undefined) throw new Error(`no fixture for ${raw}`);
      return structuredClone(body);
    },
  };
}

const ROUTES: Record<'bybit' | 'okx' | 'kucoin' | 'binance', (url: URL) => unknown> = {
  bybit: (u) => {
    if (u.pathname !== '/v5/market/instruments-info' || u.searchParams.get('category') !== 'linear') return undefined;
    if (u.searchParams.get('status') === 'PreLaunch') return load('bybit', 'instruments-prelaunch.json');
    return load('bybit', u.searchParams.get('cursor') ? 'instruments-page2.json' : 'instruments-page1.json');
  },
  okx: (u) => (u.pathname === '/api/v5/public/instruments' && u.searchParams.get('instType') === 'SWAP' ? load('okx', 'instruments.json') : undefined),
  kucoin: (u) => (u.pathname === '/api/v1/contracts/active' ? load('kucoin', 'instruments.json') : undefined),
  binance: (u) =>
    u.pathname === '/fapi/v1/exchangeInfo' ? load('binance', 'instruments-exchangeInfo.json') : u.pathname === '/fapi/v1/fundingInfo' ? load('binance', 'instruments-fundingInfo.json') : undefined,
};

async function discover(venue: keyof typeof ROUTES): Promise<Discovery> {
  return VENUES[venue].adapter.discover(REST, server(ROUTES[venue]).fetchJson, NOW);
}

function statusCounts(d: Discovery): Record<InstrumentStatus, number> {
  const out: Record<InstrumentStatus, number> = { trading: 0, prelaunch: 0, delisting: 0 };
  for (const m of d.table.values()) out[m.status!]++;
  return out;
}

/**
 * Per venue, what the fixture was written to contain (see instruments-gen.mjs and SOURCES.md): the counts
 * follow from the listing, e.g. Bybit = 61 plain USDT perps + 11 multiplied + LUNA2 + 6 USDC = 79 trading.
 */
const CASES: Array<{ venue: keyof typeof ROUTES; status: Record<InstrumentStatus, number>; skipped: Record<string, number> }> = [
  { venue: 'bybit', status: { trading: 79, prelaunch: 1, delisting: 2 }, skipped: { closed: 1, not_perpetual: 2, malformed: 1, unknown_status: 1, bad_base: 1 } },
  { venue: 'okx', status: { trading: 70, prelaunch: 1, delisting: 2 }, skipped: { not_linear: 2, bad_contract_value: 2, malformed: 1 } },
  { venue: 'kucoin', status: { trading: 68, prelaunch: 1, delisting: 2 }, skipped: { not_linear: 2, not_perpetual: 1, closed: 1, bad_contract_value: 1, malformed: 1 } },
  { venue: 'binance', status: { trading: 77, prelaunch: 1, delisting: 2 }, skipped: { closed: 2, not_perpetual: 2, malformed: 1, unknown_status: 1 } },
];

describe.each(CASES)('$venue discovery over its instruments fixture', ({ venue, status, skipped }) => {
  it('lists every linear perpetual by status and counts every skipped entry by reason', async () => {
    const d = await discover(venue);
    expect(statusCounts(d)).toEqual(status);
    expect(d.skipped).toEqual(skipped);
    expect(d.table.size).toBeGreaterThanOrEqual(50);
  });

  it('fills every field of every row, consistently with the venue symbol rules', async () => {
    const d = await discover(venue);
    const { symbols } = VENUES[venue];
    for (const [symbol, m] of d.table) {
      expect(m.symbol).toBe(symbol);
      expect(m.exchange).toBe(venue);
      expect(m.key).toBe(`${m.base}-PERP`);
      // The spelling rule in symbols.ts and discovery must agree on the underlying.
      expect(symbols.keyOf(symbol), symbol).toBe(m.key);
      expect(['USDT', 'USDC']).toContain(m.quote);
      expect(m.contractValue).toBeGreaterThan(0);
      expect(m.priceMultiplier).toBeGreaterThanOrEqual(1);
      expect(typeof m.listedBase).toBe('string');
      expect(m.tickSize, symbol).toBeGreaterThan(0);
      if (m.status !== 'prelaunch') expect(m.minSize, symbol).toBeGreaterThan(0);
      expect(m.fundingIntervalMs).toBeGreaterThan(0);
      expect(m.id).toBe(-1);
    }
  });

  it('loadMetadata is discovery filtered to the symbols asked for', async () => {
    const d = await discover(venue);
    const some = [...d.table.keys()].slice(0, 3);
    const t = await VENUES[venue].adapter.loadMetadata(REST, [...some, 'NOPE'], server(ROUTES[venue]).fetchJson, NOW);
    expect([...t.keys()]).toEqual(some);
  });

  it('an unreadable body fails the venue (never a guess)', async () => {
    await expect(VENUES[venue].adapter.discover(REST, async () => ({ unexpected: true }), NOW)).rejects.toThrow(new RegExp(venue));
  });
});

/** Rows picked out of each venue's discovery. */
async function row(venue: keyof typeof ROUTES, symbol: string): Promise<InstrumentMeta> {
  const m = (await discover(venue)).table.get(symbol);
  if (!m) throw new Error(`${venue} ${symbol} not discovered`);
  return m;
}

describe('specific rows', () => {
  it.each([
    // venue, symbol, key, listedBase, priceMultiplier, contractValue, quote
    ['bybit', '1000PEPEUSDT', 'PEPE-PERP', '1000PEPE', 1000, 1, 'USDT'],
    ['bybit', 'SHIB1000USDT', 'SHIB-PERP', 'SHIB1000', 1000, 1, 'USDT'],
    ['bybit', '10000SATSUSDT', 'SATS-PERP', '10000SATS', 10_000, 1, 'USDT'],
    ['bybit', '1000000MOGUSDT', 'MOG-PERP', '1000000MOG', 1_000_000, 1, 'USDT'],
    ['bybit', 'LUNA2USDT', 'LUNA-PERP', 'LUNA2', 1, 1, 'USDT'],
    ['bybit', '1INCHUSDT', '1INCH-PERP', '1INCH', 1, 1, 'USDT'],
    ['bybit', '0GUSDT', '0G-PERP', '0G', 1, 1, 'USDT'],
    ['bybit', 'BTCPERP', 'BTC-PERP', 'BTC', 1, 1, 'USDC'],
    ['bybit', '1000PEPEPERP', 'PEPE-PERP', '1000PEPE', 1000, 1, 'USDC'],
    ['okx', 'PEPE-USDT-SWAP', 'PEPE-PERP', 'PEPE', 1, 10_000_000, 'USDT'],
    ['okx', 'BTC-USDT-SWAP', 'BTC-PERP', 'BTC', 1, 0.01, 'USDT'],
    ['okx', 'BTC-USDC-SWAP', 'BTC-PERP', 'BTC', 1, 0.0001, 'USDC'],
    ['okx', '1INCH-USDT-SWAP', '1INCH-PERP', '1INCH', 1, 10, 'USDT'],
    ['okx', 'LUNA-USDT-SWAP', 'LUNA-PERP', 'LUNA', 1, 10, 'USDT'],
    ['kucoin', 'XBTUSDTM', 'BTC-PERP', 'XBT', 1, 0.001, 'USDT'],
    ['kucoin', 'XBTUSDCM', 'BTC-PERP', 'XBT', 1, 0.001, 'USDC'],
    ['kucoin', 'PEPEUSDTM', 'PEPE-PERP', 'PEPE', 1, 1_000_000, 'USDT'],
    ['kucoin', '1000BONKUSDTM', 'BONK-PERP', '1000BONK', 1000, 1, 'USDT'],
    ['kucoin', '1000000MOGUSDTM', 'MOG-PERP', '1000000MOG', 1_000_000, 1, 'USDT'],
    ['binance', '1000PEPEUSDT', 'PEPE-PERP', '1000PEPE', 1000, 1, 'USDT'],
    ['binance', '1000SHIBUSDT', 'SHIB-PERP', '1000SHIB', 1000, 1, 'USDT'],
    ['binance', '1MBABYDOGEUSDT', 'BABYDOGE-PERP', '1MBABYDOGE', 1_000_000, 1, 'USDT'],
    ['binance', '1000SATSUSDT', 'SATS-PERP', '1000SATS', 1000, 1, 'USDT'],
    ['binance', 'LUNA2USDT', 'LUNA-PERP', 'LUNA2', 1, 1, 'USDT'],
    ['binance', '2ZUSDT', '2Z-PERP', '2Z', 1, 1, 'USDT'],
    ['binance', '1000PEPEUSDC', 'PEPE-PERP', '1000PEPE', 1000, 1, 'USDC'],
  ] as const)('%s %s → %s (listed %s, ×%d, contract %d, %s)', async (venue, symbol, key, listedBase, pm, cv, quote) => {
    const m = await row(venue, symbol);
    expect(m).toMatchObject({ key, listedBase, priceMultiplier: pm, contractValue: cv, quote, status: 'trading' });
    expect(m.base).toBe(key.replace(/-PERP$/, ''));
  });

  it('minimum size is in units of the underlying (contracts and multiplier folded)', async () => {
    // Bybit 1000PEPEUSDT: minOrderQty "1000" (of 1000PEPE) = 1,000,000 PEPE.
    expect((await row('bybit', '1000PEPEUSDT')).minSize).toBe(1_000_000);
    // OKX PEPE-USDT-SWAP: minSz "1" contract of 10,000,000 PEPE.
    expect((await row('okx', 'PEPE-USDT-SWAP')).minSize).toBe(10_000_000);
    // KuCoin XBTUSDTM: lotSize 1 contract × 0.001 BTC.
    expect((await row('kucoin', 'XBTUSDTM')).minSize).toBe(0.001);
    // Binance BTCUSDT: LOT_SIZE minQty "0.001".
    expect((await row('binance', 'BTCUSDT')).minSize).toBe(0.001);
    // Tick stays in the venue's own price unit (per 1000 PEPE).
    expect((await row('binance', '1000PEPEUSDT')).tickSize).toBe(0.0000001);
  });

  it('funding interval and next funding time where the endpoint lists them', async () => {
    expect((await row('bybit', 'BTCUSDT')).fundingIntervalMs).toBe(8 * H); // fundingInterval 480 (minutes)
    expect((await row('bybit', 'SOLUSDT')).fundingIntervalMs).toBe(4 * H);
    expect((await row('binance', 'BTCUSDT')).fundingIntervalMs).toBe(8 * H); // not in fundingInfo: default
    expect((await row('binance', 'SOLUSDT')).fundingIntervalMs).toBe(4 * H);
    expect((await row('binance', '1000RATSUSDT')).fundingIntervalMs).toBe(1 * H);
    const xbt = await row('kucoin', 'XBTUSDTM');
    expect(xbt).toMatchObject({ fundingIntervalMs: 8 * H, nextFundingMs: NOW + 4 * H }); // next 8-h boundary after 20:00 is 00:00
    expect(xbt.seedFunding).toMatchObject({ rate: 0.0001, nextFundingMs: NOW + 4 * H, predicted: false });
    expect((await row('kucoin', 'SOLUSDTM')).nextFundingMs).toBe(NOW + 4 * H); // 4-h boundary
    // OKX instruments carry no funding: the WS funding-rate channel sets it; no per-instrument REST in discovery.
    expect(await row('okx', 'BTC-USDT-SWAP')).toMatchObject({ fundingIntervalMs: 8 * H, nextFundingMs: 0 });
    expect((await row('okx', 'BTC-USDT-SWAP')).seedFunding).toBeUndefined();
  });

  it.each([
    ['bybit', 'MEGAUSDT', 'prelaunch'],
    ['bybit', 'AGIXUSDT', 'delisting'],
    ['bybit', 'EOSUSDT', 'delisting'],
    ['okx', 'MEGA-USDT-SWAP', 'prelaunch'],
    ['okx', 'AGIX-USDT-SWAP', 'delisting'],
    ['okx', 'EOS-USDT-SWAP', 'delisting'],
    ['kucoin', 'MEGAUSDTM', 'prelaunch'],
    ['kucoin', 'AGIXUSDTM', 'delisting'],
    ['kucoin', 'EOSUSDTM', 'delisting'],
    ['binance', 'MEGAUSDT', 'prelaunch'],
    ['binance', 'AGIXUSDT', 'delisting'],
    ['binance', 'OMNIUSDT', 'delisting'],
  ] as const)('%s %s is %s', async (venue, symbol, status) => {
    expect((await row(venue, symbol)).status).toBe(status);
  });

  it('closed, inverse and dated contracts are not listed', async () => {
    expect((await discover('bybit')).table.has('MATICUSDT')).toBe(false);
    expect((await discover('bybit')).table.has('BTC-26DEC26')).toBe(false);
    expect((await discover('okx')).table.has('BTC-USD-SWAP')).toBe(false);
    expect((await discover('kucoin')).table.has('XBTUSDM')).toBe(false);
    expect((await discover('kucoin')).table.has('XBTMZ26')).toBe(false);
    expect((await discover('binance')).table.has('BTCUSDT_261225')).toBe(false);
    expect((await discover('binance')).table.has('EOSUSDT')).toBe(false); // SETTLING: delisted for good
    // A pre-launch KuCoin contract has no funding time yet: listed, without a seed.
    const mega = await row('kucoin', 'MEGAUSDTM');
    expect(mega.nextFundingMs).toBe(0);
    expect(mega.seedFunding).toBeUndefined();
  });

  it('Bybit keeps the tradable list when only the pre-launch query fails', async () => {
    const d = await VENUES.bybit.adapter.discover(
      REST,
      server((u) => (u.searchParams.get('status') === 'PreLaunch' ? { retCode: 10002, retMsg: 'busy' } : ROUTES.bybit(u))).fetchJson,
      NOW,
    );
    expect(statusCounts(d)).toEqual({ trading: 79, prelaunch: 0, delisting: 2 });
    expect(d.skipped.prelaunch_list_unavailable).toBe(1);
  });

  it('Bybit follows the cursor and asks for the pre-launch list separately', async () => {
    const s = server(ROUTES.bybit);
    await VENUES.bybit.adapter.discover(REST, s.fetchJson, NOW);
    expect(s.urls).toEqual([
      `${REST}/v5/market/instruments-info?category=linear&limit=1000`,
      `${REST}/v5/market/instruments-info?category=linear&limit=1000&cursor=${encodeURIComponent('first%3D1000CATUSDT%26last%3DAAVEUSDT')}`,
      `${REST}/v5/market/instruments-info?category=linear&limit=1000&status=PreLaunch`,
    ]);
  });
});

describe('the same underlying across venues', () => {
  const pepe: Array<[Exchange, string]> = [
    ['bybit', '1000PEPEUSDT'],
    ['okx', 'PEPE-USDT-SWAP'],
    ['kucoin', 'PEPEUSDTM'],
    ['binance', '1000PEPEUSDT'],
  ];

  it('PEPE is one key on every venue, USDT and USDC legs alike', async () => {
    const keys = new Set<string>();
    for (const venue of ['bybit', 'okx', 'kucoin', 'binance'] as const) for (const m of (await discover(venue)).table.values()) if (m.base === 'PEPE') keys.add(`${m.key}|${m.quote}`);
    expect([...keys].sort()).toEqual(['PEPE-PERP|USDC', 'PEPE-PERP|USDT']);
    for (const [venue, symbol] of pepe) expect((await row(venue as keyof typeof ROUTES, symbol)).key).toBe('PEPE-PERP');
  });

  it('the real parsers hand the engine the price per PEPE and the size in PEPE', async () => {
    // One book on every venue: 0.0000123 / 0.0000124 per PEPE, 250,000,000 PEPE bid, 300,000,000 PEPE ask,
    // each spelled the venue's way (per 1000 PEPE, or in contracts of 10,000,000 / 1,000,000 PEPE).
    const frames: Record<string, string> = {
      bybit: JSON.stringify({ topic: 'tickers.1000PEPEUSDT', type: 'snapshot', data: { symbol: '1000PEPEUSDT', bid1Price: '0.0123000', bid1Size: '250000', ask1Price: '0.0124000', ask1Size: '300000', fundingRate: '0.0001', nextFundingTime: '1796169600000', fundingIntervalHour: '4' }, cs: 1, ts: NOW }),
      okx: JSON.stringify({ arg: { channel: 'tickers', instId: 'PEPE-USDT-SWAP' }, data: [{ instType: 'SWAP', instId: 'PEPE-USDT-SWAP', last: '0.0000123', lastSz: '1', askPx: '0.0000124', askSz: '30', bidPx: '0.0000123', bidSz: '25', ts: String(NOW) }] }),
      kucoin: JSON.stringify({ topic: '/contractMarket/tickerV2:PEPEUSDTM', type: 'message', subject: 'tickerV2', sn: 1, data: { symbol: 'PEPEUSDTM', sequence: 1, bestBidSize: 250, bestBidPrice: '0.0000123', bestAskPrice: '0.0000124', bestAskSize: 300, ts: NOW * 1_000_000 } }),
      binance: JSON.stringify({ stream: '1000pepeusdt@bookTicker', data: { e: 'bookTicker', u: 1, s: '1000PEPEUSDT', b: '0.0123000', B: '250000', a: '0.0124000', A: '300000', T: NOW, E: NOW } }),
    };
    for (const [venue, symbol] of pepe) {
      const table = (await discover(venue as keyof typeof ROUTES)).table;
      const quotes: Array<{ key: string; bid: number; ask: number; bidSize: number; askSize: number }> = [];
      const sink: UpdateSink = { quote: (m, bid, ask, bidSize, askSize) => quotes.push({ key: m.key, bid, ask, bidSize, askSize }), funding: () => {} };
      const parser = VENUES[venue].adapter.createParser(table);
      expect(parser.parse(frames[venue], sink), venue).toBe('data');
      expect(quotes, `${venue} ${symbol}`).toHaveLength(1);
      const q = quotes[0];
      expect(q.key).toBe('PEPE-PERP');
      expect(q.bid / 0.0000123, venue).toBeCloseTo(1, 12);
      expect(q.ask / 0.0000124, venue).toBeCloseTo(1, 12);
      expect(q.bidSize / 250_000_000, venue).toBeCloseTo(1, 12);
      expect(q.askSize / 300_000_000, venue).toBeCloseTo(1, 12);
    }
  });

  it('funding rates are not scaled by the multiplier', async () => {
    const table = (await discover('bybit')).table;
    const rates: number[] = [];
    const parser = VENUES.bybit.adapter.createParser(table);
    const frame = JSON.stringify({ topic: 'tickers.1000PEPEUSDT', type: 'snapshot', data: { symbol: '1000PEPEUSDT', bid1Price: '0.0123', bid1Size: '1', ask1Price: '0.0124', ask1Size: '1', fundingRate: '0.0001', nextFundingTime: '1796169600000', fundingIntervalHour: '4' }, cs: 1, ts: NOW });
    parser.parse(frame, { quote: () => {}, funding: (_m, rate) => rates.push(rate) });
    expect(rates).toEqual([0.0001]);
  });
});
