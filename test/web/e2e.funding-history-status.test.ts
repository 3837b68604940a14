/**
 * The System panel's "Funding history" section in a real Chromium at 390 px, against a real in-process
 * server with the simulator's feeds and the backfill on: each venue's progress shows and reaches done; the
 * page never scrolls sideways.
 */
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { trackApps } from '../api/harness.js';
import { REPO_ROOT } from '../helpers/server.js';
import { describeWith } from '../helpers/services.js';
import { ensureDashboardBuilt, launchChromium, type ChromiumSession } from './browser.js';

describeWith(['chromium'], 'funding history on the System panel (Chromium, 390 px)', () => {
  let session: ChromiumSession | null = null;
  const { serve, closeAll } = trackApps();
  afterEach(async () => {
    await session?.close();
    session = null;
    await closeAll();
  });

  it('shows the backfill per venue, then done', async () => {
    ensureDashboardBuilt();
    const { a, port } = await serve({ feeds: { simulator: { seed: 5, messagesPerSec: 50 } }, start: true, fundingBackfill: { idleMs: 200 }, staticDir: join(REPO_ROOT, 'dist/web') });
    session = await launchChromium({ viewport: { width: 390, height: 844 } });
    const page = session.page;
    page.setDefaultTimeout(30_000);
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.locator('[data-testid="conn-status"][data-status="live"]').waitFor();
    await page.getByTestId('tab-system').click();
    const section = page.getByTestId('funding-history-status');
    await section.waitFor();
    await section.locator('[data-testid="funding-history-venue"][data-venue="bybit"][data-state="done"]').waitFor();
    expect(await section.locator('[data-testid="funding-history-venue"]').count()).toBe(a.config.config.market.exchanges.length); // one line per enabled venue
    await expect.poll(async () => section.textContent(), { timeout: 10_000 }).toMatch(/settlements of \d+ legs/);
    expect(await section.locator('[data-venue="bybit"]').textContent()).toMatch(/(\d+)\/\1 legs ✓/);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await section.screenshot({ path: join(REPO_ROOT, 'test-artifacts', 'funding-history-390.png') });
  }, 120_000);
});
