/**
 * What `npm start` shows with the built-in simulator (issue 12, judged by): every registered venue live in
 * the System panel, and, within a minute of start, opportunities pairing a venue that settles only in USDC
 * (a decentralised venue such as the hourly-funding one) with a USDT-settled venue. Real server process,
 * real Chromium, the simulator's generated universe (smaller than npm start's 300 coins to spare CI).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXCHANGES, venueDisplayName, venueFacts, type Exchange } from '../../shared/exchanges.js';
import type { Opportunity } from '../../shared/opportunity.js';
import { startServerProcess, type ServerProcess } from '../helpers/server.js';
import { describeWith } from '../helpers/services.js';
import { ensureDashboardBuilt, launchChromium, type ChromiumSession } from './browser.js';

/** Venues whose perpetuals all settle in USDC (none of their legs is a USDT one). */
const USDC_ONLY: Exchange[] = EXCHANGES.filter((ex) => venueFacts(ex).listing.onlySettle === 'USDC');

describeWith(['chromium'], 'every registered venue in the dashboard (simulator, Chromium)', () => {
  let server: ServerProcess;
  let browser: ChromiumSession;
  let page: Page;
  let startedMs: number;

  beforeAll(async () => {
    ensureDashboardBuilt();
    startedMs = Date.now();
    server = await startServerProcess({ env: { SIM_UNIVERSE: '80' }, timeoutMs: 60_000 });
    browser = await launchChromium();
    page = browser.page;
    page.setDefaultTimeout(30_000);
    await page.goto(`${server.baseUrl}/`);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('the System panel lists every registered venue, each live, with its name, and nothing overflows', async () => {
    expect(EXCHANGES.length).toBeGreaterThanOrEqual(7);
    await page.getByTestId('tab-system').click();
    const rows = page.getByTestId('feed-row');
    await expect.poll(async () => rows.count(), { timeout: 30_000 }).toBe(EXCHANGES.length);
    await expect
      .poll(async () => (await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))).filter((s) => s === 'live').length, { timeout: 60_000 })
      .toBe(EXCHANGES.length);
    for (const ex of EXCHANGES) {
      const row = page.locator(`[data-testid="feed-row"][data-exchange="${ex}"]`);
      const cells = await row.locator('td').allInnerTexts();
      expect(cells[0]).toBe(venueDisplayName(ex));
      expect(cells[1].toLowerCase()).toBe('live'); // upper-cased by CSS
      expect(Number(cells[6].replace(/,/g, '')), `${ex} subscriptions`).toBeGreaterThan(0);
    }
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  }, 120_000);

  it('within a minute of start, an opportunity pairs a USDC-only venue with a USDT venue, and the table shows it', async () => {
    expect(USDC_ONLY.length).toBeGreaterThan(0);
    let found: Opportunity | undefined;
    const deadline = startedMs + 60_000;
    while (found === undefined && Date.now() < deadline) {
      const body = (await (await fetch(`${server.baseUrl}/api/opportunities?limit=500`)).json()) as { opportunities: Opportunity[] };
      found = body.opportunities.find((o) => USDC_ONLY.includes(o.longExchange) !== USDC_ONLY.includes(o.shortExchange));
      if (found === undefined) await new Promise((r) => setTimeout(r, 500));
    }
    expect(found, 'no opportunity paired a USDC-only venue with another venue within 60 s of start').toBeDefined();
    const o = found!;
    expect(o.crossQuote).toBe(true);
    expect([o.longSettle, o.shortSettle].sort()).toEqual(['USDC', 'USDT']);

    // The dashboard shows such a row with both venues' names.
    const venueName = venueDisplayName(USDC_ONLY.includes(o.longExchange) ? o.longExchange : o.shortExchange);
    await expect
      .poll(async () => (await page.locator('[data-testid="opportunity-row"], [data-testid="opportunity-card"]').allInnerTexts()).some((t) => t.includes(venueName)), { timeout: 30_000 })
      .toBe(true);

    // At 1440 px the whole name is visible, not cut by an ellipsis (innerText would still hold it), with
    // the ⇄ mark and the USDC badge beside it.
    const routes = await page.locator('[data-testid="opportunity-row"] td.route[data-cross-quote]').evaluateAll((tds, name) =>
      tds
        .flatMap((td) => Array.from(td.querySelectorAll<HTMLElement>('.ex')).filter((ex) => ex.textContent === name))
        .map((ex) => ({ clipped: ex.scrollWidth > ex.clientWidth, badge: ex.parentElement?.querySelector('[data-testid="leg-settle"]')?.textContent ?? null })),
    venueName);
    expect(routes.length, `no cross-quote row naming ${venueName} in the table`).toBeGreaterThan(0);
    for (const r of routes) expect(r).toEqual({ clipped: false, badge: 'USDC' });
  }, 120_000);
});
