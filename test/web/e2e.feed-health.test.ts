/**
 * Feed health as the user sees it, in a real Chromium against the real server process with FEEDS=live:
 * the venues' endpoints point at local ports where nothing listens (then, for two venues, at a simulator
 * this test starts and later stops). The header must not say LIVE while the venues are down, a banner names
 * each venue down with its cause and since when, positions on a down venue are marked, and a config change
 * that would scan nothing asks for confirmation.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { VersionedConfig } from '../../shared/config.js';
import { EXCHANGES, venueDisplayName, type Exchange } from '../../shared/exchanges.js';
import type { Position } from '../../shared/position.js';
import { startSimulator, type Simulator } from '../../server/simulator/index.js';
import { freePortRange } from '../helpers/ports.js';
import { REPO_ROOT, startServerProcess, type ServerProcess } from '../helpers/server.js';
import { describeWith } from '../helpers/services.js';
import { bearerApi, ensureDashboardBuilt, openDashboard, type ChromiumSession } from './browser.js';

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
const TOKEN = 'e2e-feed-health-token-0123456789abcdef';

const api = bearerApi(TOKEN);
/** The venues a simulator serves in the second step; the others stay unreachable. */
const SIMULATED: readonly Exchange[] = ['bybit', 'okx'];

describeWith(['chromium'], 'feed health in the dashboard (Chromium, FEEDS=live)', () => {
  let server: ServerProcess;
  let browser: ChromiumSession;
  let page: Page;
  /** bybit and okx point here (a simulator is started on it later); every other venue at `neverBase`. */
  let simBase: number;
  let sim: Simulator | null = null;

  beforeAll(async () => {
    ensureDashboardBuilt();
    const n = EXCHANGES.length;
    simBase = await freePortRange(n);
    let neverBase = await freePortRange(n);
    while (Math.abs(neverBase - simBase) < n) neverBase = await freePortRange(n);
    const at = (port: number) => ({ ws: `ws://127.0.0.1:${port}`, rest: `http://127.0.0.1:${port}` });
    // The simulator serves venue i on portBase + i.
    const endpoints = Object.fromEntries(EXCHANGES.map((ex, i) => [ex, at((SIMULATED.includes(ex) ? simBase : neverBase) + i)]));
    server = await startServerProcess({ env: { API_TOKEN: TOKEN, FEEDS: 'live', FEED_ENDPOINTS: JSON.stringify(endpoints) } });
    browser = await openDashboard(server, { apiToken: TOKEN });
    page = browser.page;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await sim?.close();
  });

  it('every venue down: the header says DOWN (not LIVE), the banner names each venue, ECONNREFUSED and since when', async () => {
    await page.locator('[data-testid="conn-status"][data-status="live"]').waitFor();
    const pill = page.getByTestId('feed-status');
    await page.locator('[data-testid="feed-status"][data-level="down"]').waitFor();
    expect(await pill.innerText()).toBe('DOWN');
    const header = await page.locator('header.bar').innerText();
    expect(header).not.toMatch(/\blive\b/i);
    // The dashboard's own connection is shown apart, and says what it is.
    expect(await page.getByTestId('conn-status').innerText()).toMatch(/server/i);

    const banner = page.getByTestId('feed-banner');
    await banner.waitFor();
    expect(await banner.isVisible()).toBe(true);
    await expect.poll(async () => (await banner.getByTestId('feed-error-code').allInnerTexts()).join(' '), { timeout: 15_000 }).toMatch(new RegExp(`^(ECONNREFUSED ?){${EXCHANGES.length}}$`));
    const text = await banner.innerText();
    expect(text).toMatch(/No venue is live/);
    for (const ex of EXCHANGES) {
      const item = banner.locator(`[data-testid="feed-down"][data-venue="${ex}"]`);
      const line = await item.innerText();
      expect(line).toContain(venueDisplayName(ex));
      expect(line).toContain('ECONNREFUSED');
      expect(line).toMatch(/down since \d\d:\d\d:\d\d \(/);
      expect(await item.getByTestId('feed-down-since').innerText()).toMatch(/^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/); // 24-hour clock
    }
    // Nothing claims the detector is watching quotes.
    const empty = await page.locator('td.empty').first().innerText();
    expect(empty).not.toMatch(/watching every quote/);
    expect(empty).toMatch(/No venue is live/);
    // The banner fits the page.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'feed-health-down.png') });
  });

  it('two venues come up (metadata retried, no restart): DEGRADED naming the two still down', async () => {
    sim = await startSimulator({ seed: 21, messagesPerSec: 400, dislocationsPerMin: 120, portBase: simBase, exchanges: [...SIMULATED] });
    const stillDown = EXCHANGES.filter((ex) => !SIMULATED.includes(ex)).sort();
    await page.locator(`[data-testid="feed-status"][data-level="degraded"][data-down="${stillDown.join(' ')}"]`).waitFor({ timeout: 20_000 });
    const pill = await page.getByTestId('feed-status').innerText();
    expect(pill.toLowerCase()).toBe((stillDown.length <= 2 ? `DEGRADED · ${stillDown.map(venueDisplayName).join(', ')} down` : `DEGRADED · ${stillDown.length} of ${EXCHANGES.length} venues down`).toLowerCase()); // the pill is upper-cased by CSS
    expect(await page.locator('header.bar').innerText()).not.toMatch(/\blive\b/i);
    const down = await page.getByTestId('feed-down').evaluateAll((items) => items.map((i) => i.getAttribute('data-venue')));
    expect(down.sort()).toEqual(stillDown);
    expect(await page.getByTestId('feed-banner').innerText()).toMatch(new RegExp(`${stillDown.length} of ${EXCHANGES.length} venues down`));
    await page.screenshot({ path: join(ARTIFACTS, 'feed-health-degraded.png') });

    // Restart one venue from the banner (the token is in the browser): the server restarts that feed.
    await page.locator('[data-testid="feed-down"][data-venue="kucoin"] [data-testid="feed-restart"]').click();
    await page.getByTestId('toast').filter({ hasText: 'Restarting the kucoin feed' }).waitFor();
    await expect.poll(() => server.logs.some((l) => l.includes('kucoin: restarting on request')), { timeout: 10_000 }).toBe(true);
  });

  it('a position whose venue goes down is marked on its legs', async () => {
    const cfg = await api<VersionedConfig>(server, 'config');
    await api(server, 'config', { method: 'PUT', body: { exits: { onFeedDown: 'hold' }, thresholds: { minSpreadBps: Math.min(cfg.config.thresholds.minSpreadBps, 3) } } });
    await expect
      .poll(async () => (await api<{ positions: Position[] }>(server, 'positions?state=open')).positions.length, { timeout: 60_000, interval: 500 })
      .toBeGreaterThan(0);
    const row = page.locator('[data-testid="position-row"]').first();
    await row.waitFor();
    expect(await row.getAttribute('data-venue-down')).toBeNull();
    await sim!.close();
    sim = null;
    await page.locator('[data-testid="feed-status"][data-level="down"]').waitFor({ timeout: 15_000 });
    const marked = page.locator('[data-testid="position-row"][data-venue-down]').first();
    await marked.waitFor({ timeout: 10_000 });
    expect(await marked.getAttribute('data-venue-down')).toMatch(/bybit|okx/);
    expect(await marked.getByTestId('leg-feed-down').count()).toBe(2);
    expect(await marked.innerText()).toMatch(/feed down/i);
    await page.screenshot({ path: join(ARTIFACTS, 'feed-health-position-marked.png') });
  }, 90_000);

  it('unchecking every venue in Config asks first; dismissed, nothing changes; confirmed, it applies', async () => {
    const before = await api<VersionedConfig>(server, 'config');
    await page.getByTestId('tab-config').click();
    const boxes = page.locator('[data-testid="config-field-market.exchanges"] input[type="checkbox"]');
    await boxes.first().waitFor();
    for (const box of await boxes.all()) if (await box.isChecked()) await box.uncheck();
    let dialogText = '';
    page.once('dialog', (d) => {
      dialogText = d.message();
      void d.dismiss();
    });
    await page.getByTestId('config-apply').click();
    await page.getByTestId('config-status').filter({ hasText: 'Not applied' }).waitFor();
    expect(dialogText).toMatch(/no venue would be scanned/i);
    expect((await api<VersionedConfig>(server, 'config')).version).toBe(before.version);

    page.once('dialog', (d) => void d.accept());
    await page.getByTestId('config-apply').click();
    await page.getByTestId('config-status').filter({ hasText: 'Saved' }).waitFor();
    const after = await api<VersionedConfig>(server, 'config');
    expect(after.version).toBe(before.version + 1);
    expect(after.config.market.exchanges).toEqual([]);
  });
});
