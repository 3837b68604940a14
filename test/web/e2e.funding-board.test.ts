/**
 * The Funding tab in a real Chromium at 390 px and at 1440 px, against a real in-process server (built
 * dashboard, GET /api/funding polled): BTC-PERP has funding on three venues with 1 h, 4 h and 8 h intervals
 * and three different next settlements. Each row shows its own countdown, its interval badge; the best carry
 * pair (short the 1 h venue, long the 8 h venue) is highlighted; the realised averages say "—" with the
 * "no history yet" tooltip; the page never scrolls sideways. A leg whose interval is unknown shows its rate and a "?".
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import { nowUs } from '../../server/engine/index.js';
import { testConfig, type TestApp } from '../api/harness.js';
import { describeWith } from '../helpers/services.js';
import { useAppBrowser } from './app-browser.js';
import { ARTIFACTS } from './browser.js';

const H = 3_600_000;

function push(a: TestApp, key: string, ex: Exchange, rate: number, intervalMs: number, nextMs: number, predicted = false): void {
  a.engine.pushFunding(a.engine.instruments.idFor(key, ex), rate, intervalMs, nextMs, predicted, Date.now(), nowUs());
  a.engine.drain();
}

describeWith(['chromium'], 'funding board (Chromium, 390 px and 1440 px)', () => {
  const { serve, open } = useAppBrowser();

  for (const width of [390, 1440]) {
    it(`per-venue countdowns, interval badges, the best pair highlighted, no sideways scroll at ${width} px`, async () => {
        const { a, port } = await serve();
      const t = Date.now();
      push(a, 'BTC-PERP', 'bybit', 0.0001, H, t + 20 * 60_000); // 8 bps/8h, settles in 20 min
      push(a, 'BTC-PERP', 'okx', 0.0002, 4 * H, t + 3 * H); // 4 bps/8h, in 3 h
      push(a, 'BTC-PERP', 'kucoin', -0.0003, 8 * H, t + 7 * H, true); // −3 bps/8h, in 7 h, predicted

      const page = await open(port, { viewport: { width, height: 900 } });
      await page.getByTestId('tab-funding').click();
      const board = page.getByTestId('funding-board');
      await board.locator('[data-testid="funding-row"]').first().waitFor();
      expect(await board.locator('[data-testid="funding-row"]').count()).toBe(3);
      const rowFor = (ex: Exchange) => board.locator(`[data-testid="funding-row"][data-venue="${ex}"]`);

      // Each venue its own countdown (visible text), in the h:mm:ss / m:ss format.
      const next = async (ex: Exchange) => (await rowFor(ex).getByTestId('funding-next').innerText()).trim();
      const [by, ok, ku] = [await next('bybit'), await next('okx'), await next('kucoin')];
      expect(by).toMatch(/^(19|20):[0-5]\d$/);
      expect(ok).toMatch(/^(2:59:[0-5]\d|3:00:00)$/);
      expect(ku).toMatch(/^(6:59:[0-5]\d|7:00:00)$/);
      expect(new Set([by, ok, ku]).size).toBe(3);

      // Interval badges.
      expect((await rowFor('bybit').getByTestId('funding-interval').innerText()).trim()).toBe('1h');
      expect((await rowFor('okx').getByTestId('funding-interval').innerText()).trim()).toBe('4h');
      expect((await rowFor('kucoin').getByTestId('funding-interval').innerText()).trim()).toBe('8h');

      // The best pair: short bybit, long kucoin, highlighted; okx not.
      expect(await rowFor('bybit').getAttribute('data-best')).toBe('short');
      expect(await rowFor('kucoin').getAttribute('data-best')).toBe('long');
      expect(await rowFor('okx').getAttribute('data-best')).toBe('');
      expect((await rowFor('bybit').getByTestId('funding-best').innerText()).trim()).toBe('S');
      expect((await rowFor('kucoin').getByTestId('funding-best').innerText()).trim()).toBe('L');
      const bg = async (ex: Exchange) => rowFor(ex).evaluate((tr) => getComputedStyle(tr.querySelector('td')!).backgroundColor);
      expect(await bg('bybit')).not.toBe(await bg('okx'));
      expect(await bg('okx')).toBe('rgba(0, 0, 0, 0)');

      // Rate per 8 h in bps (visible at every width).
      expect(await rowFor('bybit').innerText()).toContain('8.00');
      expect(await rowFor('kucoin').innerText()).toContain('-3.00');

      if (width >= 1440) {
        // Wide: APR, the predicted mark, realised averages as "—" titled "no history yet", units in headers.
        expect(await rowFor('bybit').innerText()).toContain('87.60');
        expect((await rowFor('kucoin').getByTestId('funding-predicted').innerText()).trim()).toBe('P');
        const avg = rowFor('okx').getByTestId('funding-avg7d');
        expect((await avg.innerText()).trim()).toBe('—');
        expect(await avg.getAttribute('title')).toBe('no history yet');
        const head = await board.locator('thead').innerText();
        for (const unit of ['bps/8h', 'bps/int', '%', 'h:mm:ss']) expect(head).toContain(unit);
      }
      // OI / volume filters present but disabled, with the note.
      expect(await board.getByTestId('funding-filter-oi').isDisabled()).toBe(true);
      expect(await board.getByTestId('funding-liquidity-note').innerText()).toMatch(/no venue data carries them yet/);

      // Sort by next settlement: soonest first.
      await board.getByTestId('funding-sort-next').click();
      await expect.poll(() => board.locator('[data-testid="funding-row"]').first().getAttribute('data-venue')).toBe('bybit');

      await board.scrollIntoViewIfNeeded();
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      const box = (await board.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(width);
      await page.screenshot({ path: join(ARTIFACTS, `funding-board-${width}.png`), fullPage: false });
    }, 90_000);
  }

  it('a leg whose interval the venue never stated: its row shows the rate and a visible "?" interval, no 8 h rate or APR, and sorts last by 8 h rate', async () => {
    const { a, port } = await serve();
    const t = Date.now();
    push(a, 'BTC-PERP', 'bybit', 0.0001, H, t + 20 * 60_000); // 8 bps/8h
    push(a, 'BTC-PERP', 'okx', -0.0002, 4 * H, t + 3 * H); // −4 bps/8h
    push(a, 'BTC-PERP', 'binance', 0.0025, 0, t + 2 * H); // 25 bps per an unknown interval
    const page = await open(port, { viewport: { width: 1440, height: 900 } });
    await page.getByTestId('tab-funding').click();
    const board = page.getByTestId('funding-board');
    await expect.poll(() => board.locator('[data-testid="funding-row"]').count()).toBe(3);
    const row = board.locator('[data-testid="funding-row"][data-venue="binance"]');
    const badge = row.getByTestId('funding-interval');
    expect((await badge.innerText()).trim()).toBe('?');
    expect(await badge.isVisible()).toBe(true);
    expect(await badge.getAttribute('title')).toMatch(/interval unknown/i);
    expect((await row.getByTestId('funding-rate8h').innerText()).trim()).toBe('–');
    expect(await row.innerText()).toContain('25.00'); // its rate per its own interval, in bps
    expect(await row.getAttribute('data-best')).toBe(''); // never part of the best pair
    expect((await row.getByTestId('funding-next').innerText()).trim()).toMatch(/^(1:59:[0-5]\d|2:00:00)$/);
    // By 8 h rate, either way, the unknown row comes after the known ones.
    for (let k = 0; k < 2; k++) {
      await board.getByTestId('funding-sort-rate8hBps').click();
      await expect.poll(() => board.locator('[data-testid="funding-row"]').last().getAttribute('data-venue')).toBe('binance');
    }
    await page.screenshot({ path: join(ARTIFACTS, 'funding-board-unknown-interval.png'), fullPage: false });
  }, 90_000);

  it('1,200 rows (300 instruments × 4 venues): 50 a page, a sort click re-orders and paints within 500 ms', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `C${String(i).padStart(3, '0')}-PERP`);
    const { a, port } = await serve({ config: testConfig({ market: { instruments: keys } }) });
    const t = Date.now();
    const venues: Exchange[] = ['bybit', 'okx', 'kucoin', 'binance'];
    keys.forEach((key, i) => venues.forEach((ex, j) => push(a, key, ex, (((i * 7 + j * 3) % 17) - 8) * 1e-5, [H, 4 * H, 8 * H][(i + j) % 3], t + ((i + j) % 8) * H + 60_000)));
    const page = await open(port, { viewport: { width: 1440, height: 900 } });
    await page.getByTestId('tab-funding').click();
    const board = page.getByTestId('funding-board');
    await expect.poll(() => board.getByTestId('funding-count').innerText()).toMatch(/^1200 rows/);
    expect(await board.locator('[data-testid="funding-row"]').count()).toBe(50);
    expect(await board.getByTestId('funding-page').innerText()).toBe('1/24');
    // Measured in the page (click → the re-ordered rows painted), not through the automation round trips.
    const sortOnce = () =>
      page.evaluate(async () => {
        const t0 = performance.now();
        (document.querySelector('[data-testid="funding-sort-instrument"]') as HTMLButtonElement).click();
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        return { ms: performance.now() - t0, first: document.querySelector('[data-testid="funding-row"]')!.getAttribute('data-instrument') };
      });
    // Each click flips the order; every click must re-order, and the best of three per direction must paint
    // within 500 ms (one sample alone can land on a GC pause or a stalled core of the shared machine).
    const best = { asc: Number.POSITIVE_INFINITY, desc: Number.POSITIVE_INFINITY };
    for (let k = 0; k < 3; k++) {
      const asc = await sortOnce();
      expect(asc.first).toBe('C000-PERP');
      best.asc = Math.min(best.asc, asc.ms);
      const desc = await sortOnce();
      expect(desc.first).toBe('C299-PERP');
      best.desc = Math.min(best.desc, desc.ms);
    }
    expect(best.asc).toBeLessThan(500);
    expect(best.desc).toBeLessThan(500);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
  }, 90_000);
});
