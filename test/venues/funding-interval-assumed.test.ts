/**
 * An interval the venue did NOT give is only assumed (the 8 h fallback): the leg reports it unknown (0), so
 * the pair is "funding unknown" (issue 13 §6.2), never scored as a known 8 h. With the field present, or a
 * venue-documented default (Binance fundingInfo lists only adjusted symbols), the interval is known; the
 * venue's own later data (a wire field, the spacing of its settlement times, a REST seed) makes it known.
 *
 * Metadata and frames are the venues' real-format fixtures (test/fixtures/<venue>/, sources in SOURCES.md
 * there); "omits the field" = the fixture's entry with that one field deleted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import type { FetchJson, MetadataTable, VenueAdapter } from '../../server/feeds/adapter.js';
import { VENUES } from '../../server/venues/index.js';
import { CollectingSink, fixture, fixtureLines } from '../feeds/helpers.js';

const H = 3_600_000;
const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const load = (venue: string, file: string): unknown => JSON.parse(readFileSync(join(FIXTURES, venue, file), 'utf8'));
/** 2026-12-01T20:00:00Z, the "now" the KuCoin and Gate fixtures were written for. */
const NOW = 1_796_155_200_000;

type Json = Record<string, unknown>;
/** The entries of a venue's list body (`data`, `result.list`, or the body itself). */
const entries = (body: unknown): Json[] => {
  const b = body as Json;
  if (Array.isArray(b)) return b as Json[];
  if (Array.isArray(b.data)) return b.data as Json[];
  return (b.result as { list: Json[] }).list;
};
/** `body` with `fields` deleted from the entry whose `key` is `symbol`. */
function omit(body: unknown, key: string, symbol: string, ...fields: string[]): unknown {
  const entry = entries(body).find((e) => e[key] === symbol);
  if (!entry) throw new Error(`fixture has no ${symbol}`);
  for (const f of fields) delete entry[f];
  return body;
}

/** Serves `routes(path, query)` as the venue's REST API. */
function rest(routes: (u: URL) => unknown): FetchJson {
  return async (raw) => {
    const body = routes(new URL(raw));
    if (body === undefined) throw new Error(`no fixture for ${raw}`);
    return body;
  };
}

/** The intervals the venue's parser reports for `frames`, over `meta`. */
function intervals(adapter: VenueAdapter, meta: MetadataTable, frames: string[]): number[] {
  const parser = adapter.createParser(meta);
  const sink = new CollectingSink();
  for (const f of frames) parser.parse(f, sink);
  return sink.take().flatMap((u) => (u.kind === 'funding' ? [u.intervalMs] : []));
}

interface Case {
  venue: Exchange;
  symbol: string;
  /** The venue's instruments REST, with the interval field(s) deleted for `symbol` when `omitted`. */
  routes: (omitted: boolean) => (u: URL) => unknown;
  /** Funding frames of `symbol` in the venue's wire format (none carrying an interval of its own). */
  frames: () => string[];
  /** The interval the metadata gives when present. */
  knownMs: number;
}

const CASES: Case[] = [
  {
    venue: 'bybit',
    symbol: 'BTCUSDT',
    routes: (omitted) => (u) => {
      if (u.searchParams.get('status') === 'PreLaunch') return load('bybit', 'instruments-prelaunch.json');
      const page = load('bybit', u.searchParams.get('cursor') ? 'instruments-page2.json' : 'instruments-page1.json');
      return omitted && !u.searchParams.get('cursor') ? omit(page, 'symbol', 'BTCUSDT', 'fundingInterval') : page;
    },
    frames: () => [fixture('bybit', 'snapshot.json')], // no fundingIntervalHour
    knownMs: 8 * H,
  },
  {
    venue: 'gate',
    symbol: 'BTC_USDT',
    routes: (omitted) => () => (omitted ? omit(load('gate', 'contracts.json'), 'name', 'BTC_USDT', 'funding_interval') : load('gate', 'contracts.json')),
    frames: () => [fixture('gate', 'tickers.json')], // no funding_interval on the ticker
    knownMs: 8 * H,
  },
  {
    venue: 'kucoin',
    symbol: 'XBTUSDTM',
    routes: (omitted) => () => (omitted ? omit(load('kucoin', 'instruments.json'), 'symbol', 'XBTUSDTM', 'fundingRateGranularity') : load('kucoin', 'instruments.json')),
    frames: () => [fixture('kucoin', 'funding-predicted.json')], // granularity 60000: the per-minute predicted rate
    knownMs: 8 * H,
  },
  {
    venue: 'bitget',
    symbol: 'BTCUSDT',
    routes: (omitted) => (u) => {
      const usdc = u.searchParams.get('category') === 'USDC-FUTURES' || u.searchParams.get('productType') === 'usdc-futures';
      if (u.pathname === '/api/v3/market/instruments') {
        const body = load('bitget', usdc ? 'rest-instruments-usdc.json' : 'rest-instruments-usdt.json');
        return omitted && !usdc ? omit(body, 'symbol', 'BTCUSDT', 'fundInterval') : body;
      }
      if (u.pathname === '/api/v2/mix/market/current-fund-rate') {
        const body = load('bitget', usdc ? 'rest-current-fund-rate-usdc.json' : 'rest-current-fund-rate-usdt.json');
        return omitted && !usdc ? omit(body, 'symbol', 'BTCUSDT', 'fundingRateInterval') : body;
      }
      return undefined;
    },
    frames: () => [fixture('bitget', 'ticker-snapshot.json')],
    knownMs: 8 * H,
  },
];

describe.each(CASES)('$venue: an interval the metadata omits is unknown, not 8 h', ({ venue, symbol, routes, frames, knownMs }) => {
  const discover = (omitted: boolean) => VENUES[venue].adapter.discover('http://venue.test', rest(routes(omitted)), NOW);

  it('field omitted: the meta says assumed, the REST seed and the parsed funding carry interval 0 (unknown)', async () => {
    const { table } = await discover(true);
    const meta = table.get(symbol)!;
    expect(meta).toMatchObject({ fundingIntervalMs: 8 * H, fundingIntervalAssumed: true });
    if (meta.seedFunding) expect(meta.seedFunding.intervalMs).toBe(0);
    expect(intervals(VENUES[venue].adapter, table, frames())).toEqual([0]);
  });

  it('field present: known, reported as the venue gives it', async () => {
    const { table } = await discover(false);
    const meta = table.get(symbol)!;
    expect(meta.fundingIntervalAssumed).toBeUndefined();
    if (meta.seedFunding) expect(meta.seedFunding.intervalMs).toBe(knownMs);
    expect(intervals(VENUES[venue].adapter, table, frames())).toEqual([knownMs]);
  });
});

describe('the venue\'s own later data makes an assumed interval known', () => {
  it('bybit: a ticker carrying fundingIntervalHour', async () => {
    const { table } = await VENUES.bybit.adapter.discover('http://venue.test', rest(CASES[0]!.routes(true)), NOW);
    const [switchFrame] = fixtureLines('bybit', 'delta-interval-1h.json');
    expect(intervals(VENUES.bybit.adapter, table, [fixture('bybit', 'snapshot.json'), switchFrame!])).toEqual([0, H]);
  });

  it('kucoin: the current-rate frame\'s granularity, kept for the predicted frames that follow', async () => {
    const { table } = await VENUES.kucoin.adapter.discover('http://venue.test', rest(CASES[2]!.routes(true)), NOW);
    const predicted = fixture('kucoin', 'funding-predicted.json');
    expect(intervals(VENUES.kucoin.adapter, table, [predicted, fixture('kucoin', 'funding.json'), predicted])).toEqual([0, 8 * H, 8 * H]);
  });

  it('gate: a ticker carrying funding_interval', async () => {
    const { table } = await VENUES.gate.adapter.discover('http://venue.test', rest(CASES[1]!.routes(true)), NOW);
    const frame = JSON.parse(fixture('gate', 'tickers.json')) as { result: Json[] };
    frame.result[0]!.funding_interval = 14400; // seconds, as contracts' funding_interval
    expect(intervals(VENUES.gate.adapter, table, [JSON.stringify(frame)])).toEqual([4 * H]);
  });

  it('bitget: the nextFundingTime jump across a settlement (4 h spacing)', async () => {
    const { table } = await VENUES.bitget.adapter.discover('http://venue.test', rest(CASES[3]!.routes(true)), NOW);
    const snap = JSON.parse(fixture('bitget', 'ticker-snapshot.json')) as { data: Json[]; ts: number };
    const settleMs = Number(snap.data[0]!.nextFundingTime);
    const after = structuredClone(snap);
    after.data[0]!.nextFundingTime = String(settleMs + 4 * H);
    after.ts = settleMs + 1000;
    expect(intervals(VENUES.bitget.adapter, table, [JSON.stringify(snap), JSON.stringify(after)])).toEqual([0, 4 * H]);
  });
});

describe('okx: public/instruments never lists the interval — the funding-rate push\'s spacing gives it', () => {
  const instruments = () => load('okx', 'instruments.json');
  const discover = () => VENUES.okx.adapter.discover('http://venue.test', rest(instruments), NOW);
  /** The old-format push (no nextFundingTime, funding-rate-old.json) re-addressed to BTC-USDT-SWAP. */
  const oldPush = () => fixture('okx', 'funding-rate-old.json').replaceAll('WNCG-USDT-SWAP', 'BTC-USDT-SWAP');

  it('a push without nextFundingTime reports the interval unknown; one with it, the spacing', async () => {
    const { table } = await discover();
    expect(table.get('BTC-USDT-SWAP')).toMatchObject({ fundingIntervalAssumed: true });
    expect(intervals(VENUES.okx.adapter, table, [oldPush(), fixture('okx', 'funding-rate.json')])).toEqual([0, 8 * H]);
  });

  it('a REST funding-rate seed with nextFundingTime makes the metadata known; without it, the seed is unknown', async () => {
    const entry = (JSON.parse(fixture('okx', 'funding-rate.json')) as { data: Json[] }).data[0]!;
    const seeded = (e: Json) =>
      VENUES.okx.adapter.loadMetadata('http://venue.test', ['BTC-USDT-SWAP'], rest((u) => (u.pathname === '/api/v5/public/funding-rate' ? { code: '0', msg: '', data: [e] } : instruments())), NOW);
    const withNext = (await seeded(entry)).get('BTC-USDT-SWAP')!;
    expect(withNext.fundingIntervalAssumed).toBeUndefined();
    expect(withNext).toMatchObject({ fundingIntervalMs: 8 * H, seedFunding: { intervalMs: 8 * H } });
    expect(intervals(VENUES.okx.adapter, new Map([['BTC-USDT-SWAP', withNext]]), [oldPush()])).toEqual([8 * H]);
    const { nextFundingTime: _, ...noNext } = entry;
    const without = (await seeded(noNext)).get('BTC-USDT-SWAP')!;
    expect(without).toMatchObject({ fundingIntervalAssumed: true, seedFunding: { intervalMs: 0 } });
  });
});

describe('binance: a symbol fundingInfo does not list has the DOCUMENTED default 8 h — known', () => {
  const routes = (u: URL) =>
    u.pathname === '/fapi/v1/exchangeInfo' ? load('binance', 'instruments-exchangeInfo.json') : u.pathname === '/fapi/v1/fundingInfo' ? load('binance', 'instruments-fundingInfo.json') : undefined;

  it('BTCUSDT (not in fundingInfo) is a known 8 h, SOLUSDT (listed at 4 h) a known 4 h', async () => {
    const { table } = await VENUES.binance.adapter.discover('http://venue.test', rest(routes), NOW);
    expect(table.get('BTCUSDT')!.fundingIntervalAssumed).toBeUndefined();
    expect(intervals(VENUES.binance.adapter, table, [fixture('binance', 'markPrice.json')])).toEqual([8 * H]);
    expect(table.get('SOLUSDT')).toMatchObject({ fundingIntervalMs: 4 * H });
    expect(table.get('SOLUSDT')!.fundingIntervalAssumed).toBeUndefined();
  });
});
