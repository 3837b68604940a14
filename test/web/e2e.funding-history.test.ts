/**
 * The Funding tab's history charts in a real Chromium at 1440 px and 390 px, against the scripted server
 * (stage.ts) answering GET /api/funding and GET /api/funding/history with a known week: three venues settling
 * every 8 h, 1 h and 4 h. The rates chart has every settlement as a point, the cumulative carry of the default
 * pair (short the highest rate, long the lowest) ends at the hand-computed sum, the range buttons ask for the
 * right window, the downloads point at the same query with ?format=, and the page never scrolls sideways.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import type { FundingResponse, FundingRow } from '../../shared/funding.js';
import type { FundingHistoryResponse, FundingHistorySeries } from '../../shared/funding-history.js';
import { describeWith } from '../helpers/services.js';
import { ARTIFACTS, screen, useStageBrowser } from './stage-browser.js';

const H = 3_600_000;
const WEEK = 7 * 24 * H;

/** Legs of BTC-PERP: interval and the rate per interval (bps) they settle at, every time. */
const LEGS: { venue: Exchange; intervalMs: number; rateIntervalBps: number }[] = [
  { venue: 'okx', intervalMs: 8 * H, rateIntervalBps: 1 }, // 1 bps / 8 h
  { venue: 'bybit', intervalMs: H, rateIntervalBps: 0.25 }, // 2 bps / 8 h: the highest (short it)
  { venue: 'kucoin', intervalMs: 4 * H, rateIntervalBps: -0.5 }, // −1 bps / 8 h: the lowest (long it)
];

function history(query: URLSearchParams, anchorMs: number): FundingHistoryResponse {
  const from = Number(query.get('from'));
  const to = Number(query.get('to'));
  const series: FundingHistorySeries[] = LEGS.filter((l) => !query.get('venue') || query.get('venue') === l.venue).map((l) => {
    const points = [];
    // Settlements on the interval grid, over the week before the anchor.
    for (let t = anchorMs - WEEK + l.intervalMs; t <= anchorMs; t += l.intervalMs) {
      if (t >= from && t <= to) points.push({ settledMs: t, rateIntervalBps: l.rateIntervalBps, intervalMs: l.intervalMs, rate8hBps: (l.rateIntervalBps * 8 * H) / l.intervalMs });
    }
    return { instrument: query.get('instrument') ?? '', venue: l.venue, settle: 'USDT', points };
  });
  return { from, to, retentionMs: 30 * 24 * H, series };
}

function board(now: number): FundingResponse {
  const rows: FundingRow[] = LEGS.map((l, i) => ({
    instrument: 'BTC-PERP', venue: l.venue, settle: 'USDT', symbol: 'BTCUSDT',
    rateIntervalBps: l.rateIntervalBps, rate8hBps: (l.rateIntervalBps * 8 * H) / l.intervalMs, aprPct: (l.rateIntervalBps * 365 * 24 * H) / l.intervalMs / 100,
    intervalMs: l.intervalMs, intervalHours: l.intervalMs / H, nextFundingMs: now + (i + 1) * 15 * 60_000, predicted: false, updatedMs: now, feedDown: false,
    lastSettled: null, realised: { avg24h: null, avg3d: null, avg7d: null, avg30d: null },
    openInterestUsd: [5e8, 2e7, 1e6][i], volume24hUsd: [1e9, 5e7, 2e6][i],
    bestCarry: l.venue === 'bybit' ? 'short' : l.venue === 'kucoin' ? 'long' : null, bestCarry8hBps: 3, bestCarryCrossQuote: false,
  }));
  return { nowMs: now, count: rows.length, historySource: 'test', liquidity: true, rows };
}

describeWith(['chromium'], 'funding history charts (Chromium, scripted server)', () => {
  const sb = useStageBrowser();

  async function open(width: number): Promise<Page> {
    const anchor = Math.floor(Date.now() / H) * H;
    const page = await sb.open({
      context: screen(width),
      script: (stage) => {
        stage.routes.set('/api/funding', () => board(Date.now()));
        stage.routes.set('/api/funding/history', (q) => history(q, anchor));
      },
    });
    await page.getByTestId('tab-funding').click();
    return page;
  }

  for (const width of [1440, 390]) {
    it(`charts settled rates across venues and the cumulative carry of a pair at ${width} px`, async () => {
      const page = await open(width);
      // The board's top row (best carry) is charted without a choice being made.
      await expect.poll(() => page.getByTestId('history-instrument').inputValue()).toBe('BTC-PERP');
      const rates = page.getByTestId('history-rates-chart');
      // One week: 21 settlements every 8 h + 168 every hour + 42 every 4 h, each a point.
      await expect.poll(async () => Number(await rates.getAttribute('data-points'))).toBe(21 + 168 + 42);
      expect(await rates.locator('canvas').count()).toBe(1);
      const legend = await rates.locator('.u-legend').innerText();
      for (const name of ['OKX', 'Bybit', 'KuCoin']) expect(legend).toContain(name);

      // Default pair: short the highest rate (Bybit, 0.25 bps per hour), long the lowest (KuCoin, −0.5 bps per 4 h).
      // Carry over the week = 168 × 0.25 received + 42 × 0.5 received on the long leg (negative rate: shorts pay longs) = 63 bps.
      expect(await page.getByTestId('history-short').inputValue()).toBe('bybit');
      expect(await page.getByTestId('history-long').inputValue()).toBe('kucoin');
      await expect.poll(() => page.getByTestId('history-carry-total').innerText()).toBe('= +63.00');
      expect(Number(await page.getByTestId('history-carry-chart').getAttribute('data-points'))).toBe(168); // every 4 h point coincides with an hourly one
      // Long OKX instead: 42 − 21 × 1 = +21 bps.
      await page.getByTestId('history-long').selectOption('okx');
      await expect.poll(() => page.getByTestId('history-carry-total').innerText()).toBe('= +21.00');

      // Downloads: the same query, as CSV and JSON.
      const csv = new URL((await page.getByTestId('download-funding-history-csv').getAttribute('href'))!, sb.stage.url);
      expect(csv.pathname).toBe('/api/funding/history');
      expect(csv.searchParams.get('format')).toBe('csv');
      expect(csv.searchParams.get('instrument')).toBe('BTC-PERP');
      expect(Number(csv.searchParams.get('to')) - Number(csv.searchParams.get('from'))).toBe(WEEK);
      expect(await page.getByTestId('download-funding-history-json').getAttribute('href')).toContain('format=json');

      // A shorter range asks the server for 24 h: 3 + 24 + 6 settlements.
      await page.getByTestId('history-range-24h').click();
      await expect.poll(async () => Number(await rates.getAttribute('data-points'))).toBe(3 + 24 + 6);
      const last = new URL(sb.stage.requests.filter((r) => r.startsWith('/api/funding/history')).at(-1)!, sb.stage.url);
      expect(Number(last.searchParams.get('to')) - Number(last.searchParams.get('from'))).toBe(24 * H);

      // The board's minimum open interest and 24 h volume filters apply to these rows.
      await page.getByTestId('funding-filter-oi').fill('10000000');
      await expect.poll(() => page.getByTestId('funding-row').count()).toBe(2);
      await page.getByTestId('funding-filter-vol').fill('100000000');
      await expect.poll(() => page.getByTestId('funding-row').count()).toBe(1);

      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await page.getByTestId('history-range-7d').click();
      await expect.poll(async () => Number(await rates.getAttribute('data-points'))).toBe(21 + 168 + 42);
      await page.getByTestId('funding-history').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(ARTIFACTS, `funding-history-${width}.png`), fullPage: width <= 480 });
    }, 60_000);
  }
});
