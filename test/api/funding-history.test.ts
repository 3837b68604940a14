/**
 * GET /api/funding/history (JSON, CSV, 400s naming the field), /status, the funding board's realised
 * averages from the store, and live settlements recorded from the board's tracker.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FundingHistoryRowSchema, type FundingHistoryResponse } from '../../shared/funding-history.js';
import { columnsOf } from '../../server/api/export/columns.js';
import { REPO_ROOT } from '../helpers/server.js';
import type { FundingResponse } from '../../shared/funding.js';
import { FundingBoard, type FundingLeg } from '../../server/funding/board.js';
import { FundingHistoryStore } from '../../server/funding/history-store.js';
import { parseCsvStrict } from '../helpers/csv.js';
import { trackApps } from './harness.js';

const { make, closeAll } = trackApps();
afterEach(closeAll);

const H = 3_600_000;
const NOW = Date.UTC(2026, 11, 1, 16, 0, 30); // 30 s after a settlement

async function appWithHistory() {
  const pa = await make({ now: () => NOW });
  pa.fundingHistory.add({ instrument: 'BTC-PERP', venue: 'okx', settle: 'USDT' }, [
    { timeMs: NOW - 30_000 - 8 * H, rate: 0.0002, intervalMs: 8 * H },
    { timeMs: NOW - 30_000, rate: -0.0001, intervalMs: 8 * H },
  ]);
  pa.fundingHistory.add({ instrument: 'BTC-PERP', venue: 'bybit', settle: 'USDT' }, [
    { timeMs: NOW - 30_000 - H, rate: 0.0001, intervalMs: H },
    { timeMs: NOW - 30_000, rate: 0.00005, intervalMs: null },
  ]);
  pa.fundingHistory.add({ instrument: 'ETH-PERP', venue: 'bybit', settle: 'USDT' }, [{ timeMs: NOW - 30_000, rate: 0.0003, intervalMs: 8 * H }]);
  return pa;
}

describe('GET /api/funding/history', () => {
  it('serves one series per venue leg of the instrument, oldest first, with bps per interval and per 8 h', async () => {
    const pa = await appWithHistory();
    const res = await pa.app.inject({ method: 'GET', url: `/api/funding/history?instrument=BTC-PERP&from=${NOW - 2 * H}&to=${NOW}` });
    expect(res.statusCode).toBe(200);
    const body = res.json<FundingHistoryResponse>();
    expect(body.from).toBe(NOW - 2 * H);
    expect(body.to).toBe(NOW);
    expect(body.retentionMs).toBe(35 * 24 * H);
    expect(body.series.map((s) => s.venue)).toEqual(['bybit', 'okx']);
    const bybit = body.series[0]!.points;
    expect(bybit).toHaveLength(2);
    expect(bybit[0]!.settledMs).toBe(NOW - 30_000 - H);
    expect(bybit[0]!.rateIntervalBps).toBeCloseTo(1, 12);
    expect(bybit[0]!.rate8hBps).toBeCloseTo(8, 12); // 1 bp per hour = 8 bp per 8 h
    expect(bybit[1]!.intervalMs).toBeNull();
    expect(bybit[1]!.rate8hBps).toBeNull();
    // The okx settlement 8 h before is outside the 2 h range.
    expect(body.series[1]!.points.map((p) => p.rateIntervalBps)).toEqual([-1]);
    const one = await pa.app.inject({ method: 'GET', url: '/api/funding/history?instrument=BTC-PERP&venue=okx' });
    expect(one.json<FundingHistoryResponse>().series.map((s) => [s.venue, s.points.length])).toEqual([['okx', 2]]);
  });

  it('answers 400 naming the field for bad parameters', async () => {
    const pa = await appWithHistory();
    const cases: Array<[string, string]> = [
      ['/api/funding/history', 'querystring.instrument'],
      ['/api/funding/history?instrument=btc', 'querystring.instrument'],
      ['/api/funding/history?instrument=BTC-PERP&from=yesterday', 'querystring.from'],
      ['/api/funding/history?instrument=BTC-PERP&to=-5', 'querystring.to'],
      ['/api/funding/history?instrument=BTC-PERP&venue=nowhere', 'querystring.venue'],
      ['/api/funding/history?instrument=BTC-PERP&format=xml', 'querystring.format'],
      [`/api/funding/history?instrument=BTC-PERP&from=${NOW}&to=${NOW - 1}`, 'querystring.from'],
    ];
    for (const [url, field] of cases) {
      const res = await pa.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json<{ field: string }>().field, url).toBe(field);
    }
  });

  it('?format=csv: a header row, ISO times, one row per settlement, parsed by a strict CSV reader', async () => {
    const pa = await appWithHistory();
    const res = await pa.app.inject({ method: 'GET', url: `/api/funding/history?instrument=BTC-PERP&from=${NOW - 9 * H}&to=${NOW}&format=csv` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="perpscan-funding-history-\d{8}T\d{6}Z\.csv"$/);
    const csv = parseCsvStrict(res.body);
    expect(csv.header).toEqual(['instrument', 'venue', 'settle', 'settledUtc', 'rateIntervalBps', 'intervalMs', 'rate8hBps']);
    // docs/exports.md lists the same columns as the schema derives.
    const documented = /<!-- columns:funding-history -->\s*\n```text\n([^`]*)```/.exec(readFileSync(`${REPO_ROOT}/docs/exports.md`, 'utf8'))![1]!.trim().split(/,\s*/);
    expect(documented).toEqual(csv.header);
    expect(columnsOf(FundingHistoryRowSchema).map((c) => c.name)).toEqual(csv.header);
    expect(csv.records.map((r) => [r.venue, r.settledUtc, r.intervalMs])).toEqual([
      ['bybit', new Date(NOW - 30_000 - H).toISOString(), String(H)],
      ['bybit', new Date(NOW - 30_000).toISOString(), ''],
      ['okx', new Date(NOW - 30_000 - 8 * H).toISOString(), String(8 * H)],
      ['okx', new Date(NOW - 30_000).toISOString(), String(8 * H)],
    ]);
    expect(Number(csv.records[2]!.rateIntervalBps)).toBeCloseTo(2, 12);
    expect(Number(csv.records[2]!.rate8hBps)).toBeCloseTo(2, 12);
    const json = await pa.app.inject({ method: 'GET', url: '/api/funding/history?instrument=BTC-PERP&format=json' });
    expect(json.headers['content-disposition']).toMatch(/\.json"$/);
    expect(json.json<FundingHistoryResponse>().series).toHaveLength(2);
  });

  it('/status is null without a backfill', async () => {
    const pa = await appWithHistory();
    const res = await pa.app.inject({ method: 'GET', url: '/api/funding/history/status' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toBeNull();
  });

  it('the funding board shows realised averages from the store (bps per 8 h)', async () => {
    const pa = await appWithHistory();
    pa.quote('BTC-PERP', 'okx', 100, 100.01);
    const res = await pa.app.inject({ method: 'GET', url: '/api/funding?instrument=BTC-PERP&venue=okx' });
    const body = res.json<FundingResponse>();
    expect(body.historySource).toBe('funding-history');
    // 24 h: (0.0002 − 0.0001) / 16 h × 8 h = 0.00005 = 0.5 bp
    expect(body.rows[0]!.realised.avg24h).toBeCloseTo(0.5, 10);
    expect(body.rows[0]!.realised.avg30d).toBeCloseTo(0.5, 10);
  });
});

describe('live settlements into the store', () => {
  it('every settlement the board tracker books is stored once', () => {
    let now = Date.UTC(2026, 11, 1, 7, 59, 0);
    const next = Date.UTC(2026, 11, 1, 8);
    const store = new FundingHistoryStore({ now: () => now });
    const leg: FundingLeg = { instrument: 'BTC-PERP', venue: 'bybit', settle: 'USDT', symbol: 'BTCUSDT', rate: 0.0001, intervalMs: 8 * H, nextFundingMs: next, predicted: false, receivedMs: now, feedDown: false };
    const board = new FundingBoard({ legs: () => [leg], now: () => now, onSettled: (l, s) => store.add(l, [s]) });
    board.sample();
    leg.rate = 0.00012; // the last figure before the settlement
    now = next - 40;
    board.sample();
    now = next + 1000;
    leg.nextFundingMs = next + 8 * H;
    board.sample();
    board.sample();
    expect(store.settlements(leg, 0, now)).toEqual([{ timeMs: next, rate: 0.00012, intervalMs: 8 * H }]);
  });
});
