/**
 * The System panel's "Funding history" section in a real Chromium at 390 px, against a real in-process
 * server with the simulator's feeds and the backfill on: each venue's progress shows and reaches done; the
 * page never scrolls sideways.
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWith } from '../helpers/services.js';
import { useAppBrowser } from './app-browser.js';
import { ARTIFACTS } from './browser.js';

describeWith(['chromium'], 'funding history on the System panel (Chromium, 390 px)', () => {
  const { serve, open } = useAppBrowser();

  it('shows the backfill per venue, then done', async () => {
    const { a, port } = await serve({ feeds: { simulator: { seed: 5, messagesPerSec: 50 } }, start: true, fundingBackfill: { idleMs: 200 } });
    const page = await open(port, { viewport: { width: 390, height: 844 }, timeoutMs: 30_000 });
    await page.getByTestId('tab-system').click();
    const section = page.getByTestId('funding-history-status');
    await section.waitFor();
    await section.locator('[data-testid="funding-history-venue"][data-venue="bybit"][data-state="done"]').waitFor();
    expect(await section.locator('[data-testid="funding-history-venue"]').count()).toBe(a.config.config.market.exchanges.length); // one line per enabled venue
    await expect.poll(async () => section.textContent(), { timeout: 10_000 }).toMatch(/settlements of \d+ legs/);
    expect(await section.locator('[data-venue="bybit"]').textContent()).toMatch(/(\d+)\/\1 legs ✓/);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await section.screenshot({ path: join(ARTIFACTS, 'funding-history-390.png') });
  }, 120_000);
});
