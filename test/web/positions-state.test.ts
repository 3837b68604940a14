/**
 * `broken` has one meaning on the server and in the dashboard: a live position with a naked leg. It
 * stays in Positions, highlighted, saying what is being done about it — it is not a closed trade. And a
 * position restored after a restart shows its marks as stale until quotes re-mark it. Real Chromium
 * against a real server process restored from Redis (no feeds, so nothing moves).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Fill, Position } from '../../shared/position.js';
import { RedisPersistence } from '../../server/persistence/redis.js';
import { startServerProcess, type ServerProcess } from '../helpers/server.js';
import { REDIS_URL, describeWith } from '../helpers/services.js';
import { ensureDashboardBuilt, openDashboard, type ChromiumSession } from './browser.js';
import { deletePrefix, fill, position, uniquePrefix } from '../persistence/helpers.js';

/** A failed entry whose unwind failed too: the long leg on okx is naked. */
function brokenPosition(openedMs: number): { position: Position; fills: Fill[] } {
  const base = position('pos-1', openedMs);
  const entry: Fill = { ...fill('pos-1:entry:long', 'pos-1', openedMs), exchange: 'okx', symbol: 'BTC-USDT-SWAP' };
  return {
    position: {
      ...base,
      state: 'broken',
      exitReason: 'leg_failed',
      long: { ...base.long, exchange: 'okx', symbol: 'BTC-USDT-SWAP', quantity: entry.quantity, entryPrice: entry.price },
      short: { ...base.short, exchange: 'bybit', quantity: 0, entryPrice: 0, feesUsd: 0 },
      transitions: [
        { from: null, to: 'opening', reason: 'entry', tsMs: openedMs },
        { from: 'opening', to: 'closing', reason: 'leg_failed: short leg entry venue_rejected', tsMs: openedMs + 1 },
        { from: 'closing', to: 'broken', reason: 'unwind failed: long leg unwind venue_rejected; retrying every step', tsMs: openedMs + 2 },
      ],
    },
    fills: [entry],
  };
}

describeWith(['chromium', 'redis'], 'Positions: broken and stale marks, server and dashboard agree', () => {
  const prefix = uniquePrefix('positions-state');
  let server: ServerProcess;
  let browser: ChromiumSession;
  let page: Page;

  beforeAll(async () => {
    ensureDashboardBuilt();
    // What a previous run left in Redis: one broken position and one open position.
    const seed = new RedisPersistence({ url: REDIS_URL, prefix });
    await seed.open();
    const now = Date.now() - 60_000;
    const broken = brokenPosition(now);
    seed.savePosition(broken.position);
    for (const f of broken.fills) seed.saveFill(f);
    seed.savePosition(position('pos-2', now + 10));
    await seed.flush();
    await seed.close();

    server = await startServerProcess({ env: { REDIS_URL, REDIS_PREFIX: prefix, FEEDS: 'none' } });
    browser = await openDashboard(server);
    page = browser.page;
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await deletePrefix(REDIS_URL, prefix);
  });

  it('a broken position stays in Positions, highlighted, with the action being taken; the server lists it as open', async () => {
    const open = (await (await fetch(`${server.baseUrl}/api/positions?state=open`)).json()) as { positions: Position[] };
    const serverBroken = open.positions.find((p) => p.id === 'pos-1');
    expect(serverBroken?.state).toBe('broken');
    expect(serverBroken?.action).toBe('unwinding naked long leg (0.01 on okx): retrying every step');

    await page.getByTestId('tab-positions').click();
    const row = page.locator('[data-testid="position-row"][data-id="pos-1"]');
    await row.waitFor();
    expect(await row.getAttribute('data-state')).toBe('broken');
    const text = await row.innerText();
    expect(text).toContain('BROKEN: NAKED LEG'); // the tag is upper-cased by CSS
    expect(await row.getByTestId('position-action').innerText()).toBe('unwinding naked long leg (0.01 on okx): retrying every step');
    expect(await row.getByTestId('position-warning').innerText()).toMatch(/^naked long leg \(0\.01 on okx\): long leg unwind waiting: okx quote is/);
    // highlighted: the row's cells carry the loss colour's background
    // (the theme's --neg-bg, resolved through a probe element so the check holds in light and dark themes)
    const [bg, negBg] = await row.locator('td').first().evaluate((td) => {
      const probe = document.createElement('div');
      probe.style.background = 'var(--neg-bg)';
      document.body.append(probe);
      const expected = getComputedStyle(probe).backgroundColor;
      probe.remove();
      return [getComputedStyle(td).backgroundColor, expected];
    });
    expect(negBg).toMatch(/^rgba\(\d+, \d+, \d+, 0\.\d+\)$/);
    expect(bg).toBe(negBg);
    expect(await row.getByTestId('position-close').innerText()).toBe('Unwinding…');

    // Dashboard and server agree on what is open.
    const shown = await page.getByTestId('position-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')).sort());
    expect(shown).toEqual(open.positions.map((p) => p.id).sort());

    // …and it is not a closed trade.
    await page.getByTestId('tab-trades').click();
    await page.waitForTimeout(300);
    expect(await page.locator('[data-testid="trade-row"][data-id="pos-1"]').count()).toBe(0);
    await page.getByTestId('tab-positions').click();
  }, 60_000);

  it('a restored position shows its marks as stale (no feed has re-marked it)', async () => {
    const restored = (await (await fetch(`${server.baseUrl}/api/positions/pos-2`)).json()) as Position;
    expect(restored).toMatchObject({ state: 'open', markStale: true });
    const row = page.locator('[data-testid="position-row"][data-id="pos-2"]');
    await row.waitFor();
    expect(await row.getAttribute('data-mark-stale')).toBe('true');
    const stale = row.getByTestId('position-mark-stale');
    expect(await stale.isVisible()).toBe(true);
    expect((await stale.innerText()).toLowerCase()).toBe('stale');
    // No PnL colour is presented as current, for the position and the portfolio total
    expect(await row.getByTestId('position-upnl').getAttribute('class')).toContain('muted');
    const portfolio = (await (await fetch(`${server.baseUrl}/api/portfolio`)).json()) as { staleMarkPositions?: number };
    expect(portfolio.staleMarkPositions).toBe(2); // the open one and the broken one: no quotes at all
    const total = page.getByTestId('portfolio-upnl');
    await expect.poll(() => total.innerText()).toContain('2 STALE');
    expect(await total.getAttribute('class')).toContain('muted');
  }, 30_000);
});
