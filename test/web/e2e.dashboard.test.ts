/**
 * The dashboard in a real Chromium (playwright-core, headless) against the real server process with its
 * built-in simulator. Needs the built dashboard (dist/web): built here when missing.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { VersionedConfig } from '../../shared/config.js';
import { EXCHANGES } from '../../shared/exchanges.js';
import { OPPORTUNITY_CLOSE_REASONS } from '../../shared/opportunity.js';
import type { Position } from '../../shared/position.js';
import { REPO_ROOT, startServerProcess, type ServerProcess } from '../helpers/server.js';
import { describeWith } from '../helpers/services.js';
import { bearerApi, ensureDashboardBuilt, launchChromium, openDashboard, type ChromiumSession } from './browser.js';

const TOKEN = 'e2e-dashboard-token';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

const api = bearerApi(TOKEN);

describeWith(['chromium'], 'dashboard in Chromium against the real server', () => {
  let server: ServerProcess;
  let browser: ChromiumSession;
  let page: Page;

  beforeAll(async () => {
    ensureDashboardBuilt();
    server = await startServerProcess({ env: { API_TOKEN: TOKEN } });
    browser = await openDashboard(server);
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('fills the opportunities table with live rows, sorted by projected profit, and charts a clicked row', async () => {
    await page.locator('[data-testid="conn-status"][data-status="live"]').waitFor();
    await page.locator('[data-testid="opportunity-row"][data-state="open"]').first().waitFor({ timeout: 30_000 });

    const ids = await page.getByTestId('opportunity-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id') ?? ''));
    expect(ids.length).toBeGreaterThan(0);
    const venue = `(${EXCHANGES.join('|')})(:USD[TC])?`;
    for (const id of ids) expect(id).toMatch(new RegExp(`^[A-Z0-9]+-PERP\\|${venue}\\|${venue}$`));
    // Every row shown is (or was a moment ago) an opportunity of the server.
    const current = await api<{ opportunities: { id: string }[] }>(server, 'opportunities');
    const history = await api<unknown>(server, 'opportunities/history?limit=500');
    const known = new Set([...current.opportunities.map((o) => o.id), ...(JSON.stringify(history).match(/[A-Z0-9]+-PERP\|[a-z]+\|[a-z]+/g) ?? [])]);
    expect(ids.some((id) => known.has(id))).toBe(true);

    // Default order: projected profit, best first. The table re-sorts at most once a second while values move
    // continuously, so wait for a moment the shown values are in order (read in one evaluation). Closing rows
    // keep their slot while they fade, so only open rows count.
    const profitsSorted = async () => {
      const profits = await page.locator('[data-testid="opportunity-row"][data-state="open"]').evaluateAll((rows) => rows.map((r) => Number((r.querySelector('[data-testid="profit-bps"]') as HTMLElement).innerText)));
      return profits.every((p, i) => i === 0 || p <= profits[i - 1]);
    };
    await expect.poll(profitsSorted, { timeout: 10_000, interval: 50 }).toBe(true);

    // Sort by instrument from the keyboard.
    await page.getByTestId('sort-instrument').focus();
    await page.keyboard.press('Enter');
    // (Rows opened since the last reorder wait at the bottom until the next one, at most a second later.)
    const instrumentsSorted = async () => {
      const instruments = await page.locator('[data-testid="opportunity-row"][data-state="open"]').evaluateAll((rows) => rows.map((r) => (r.children[0] as HTMLElement).innerText.split(/\s/)[0]));
      return instruments.every((x, i) => i === 0 || instruments[i - 1].localeCompare(x) <= 0);
    };
    await expect.poll(instrumentsSorted, { timeout: 10_000, interval: 50 }).toBe(true);
    await page.getByTestId('sort-projectedProfitBps').click();

    // Click a row: the chart shows its spread and profit history. The pointer over the rows pauses the order.
    await page.locator('[data-testid="opportunities-table"] tbody').hover();
    await page.getByTestId('order-paused').waitFor();
    // Under load a row can close (and be dropped) between reading its id and the click landing: pick an
    // open row again until the click selects it.
    let id: string | null = null;
    await expect
      .poll(async () => {
        id = await page.locator('[data-testid="opportunity-row"][data-state="open"]').first().getAttribute('data-id');
        await page.locator(`[data-testid="opportunity-row"][data-id="${id}"]`).click({ timeout: 3000 }).catch(() => {});
        return (await page.getByTestId('spread-chart').getAttribute('data-id')) === id;
      }, { timeout: 30_000, interval: 500 })
      .toBe(true);
    await expect.poll(async () => Number(await page.getByTestId('spread-chart').getAttribute('data-points')), { timeout: 15_000 }).toBeGreaterThan(1);

    await page.mouse.move(5, 5); // leave the rows: live order again
    // Give the market a few seconds so the screenshot shows a working day, not a cold start.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="opportunity-row"]').length >= 6, null, { timeout: 10_000 }).catch(() => {});
    await page.waitForTimeout(1500);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-main.png'), fullPage: true });
  }, 90_000);

  it('filters rows by instrument, exchange and minimum profit, and lists closed opportunities with their reason', async () => {
    const first = page.locator('[data-testid="opportunity-row"][data-state="open"]').first();
    await first.waitFor();
    const instrument = (await first.getAttribute('data-id'))!.split('|')[0];
    const base = instrument.split('-')[0];
    await page.getByTestId('filter-instrument').fill(base.toLowerCase());
    await expect
      .poll(async () => (await page.getByTestId('opportunity-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')!.split('|')[0]))).every((i) => i === instrument))
      .toBe(true);
    await page.getByTestId('filter-instrument').fill('');
    await page.getByTestId('filter-exchange').selectOption('okx');
    const routes = await page.getByTestId('opportunity-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')!.split('|').slice(1)));
    for (const legs of routes) expect(legs).toContain('okx');
    await page.getByTestId('filter-exchange').selectOption('');
    await page.getByTestId('filter-min-profit').fill('100000');
    await expect.poll(() => page.getByTestId('opportunity-row').count()).toBe(0);
    await expect.poll(() => page.getByTestId('opportunities-empty').innerText()).toMatch(/filter hides all \d+ open opportunit|a filter is active/);
    await page.getByTestId('filter-min-profit').fill('');

    // The simulator's dislocations come and go: wait for one to close.
    const closed = page.getByTestId('closed-row').first();
    await closed.waitFor({ timeout: 45_000 });
    const reason = await closed.locator('.tag').innerText();
    expect(OPPORTUNITY_CLOSE_REASONS.map((r) => r.replace(/_/g, ' '))).toContain(reason.toLowerCase());
  }, 90_000);

  it('sends the instrument and minimum-profit filters to the server: the frames then carry only matching opportunities', async () => {
    // Watch the page's own socket from its start: reload with the listener in place.
    type Opp = { id: string; instrument: string; projectedProfitBps: number };
    type Msg = { type: string; event?: string; opportunity?: Opp; opportunities?: Opp[] };
    const log: ({ dir: 'in'; frame: number; messages: Msg[] } | { dir: 'out'; message: { type: string; filter?: Record<string, unknown> } })[] = [];
    const onSocket = (ws: import('playwright-core').WebSocket) => {
      if (!ws.url().endsWith('/ws')) return;
      ws.on('framereceived', ({ payload }) => {
        const f = JSON.parse(String(payload)) as { frame: number; messages: Msg[] };
        log.push({ dir: 'in', frame: f.frame, messages: f.messages });
      });
      ws.on('framesent', ({ payload }) => log.push({ dir: 'out', message: JSON.parse(String(payload)) }));
    };
    page.on('websocket', onSocket);
    try {
      await page.reload();
      await page.locator('[data-testid="conn-status"][data-status="live"]').waitFor();
      const first = page.locator('[data-testid="opportunity-row"][data-state="open"]').first();
      await first.waitFor({ timeout: 30_000 });
      const instrument = (await first.getAttribute('data-id'))!.split('|')[0];

      /** Opportunity messages received after the server's answer (a snapshot) to the last subscribe sent. */
      const afterSubscribe = (match: (f: Record<string, unknown>) => boolean) => {
        const sent = log.findLastIndex((e) => e.dir === 'out' && e.message.type === 'subscribe' && match(e.message.filter ?? {}));
        if (sent < 0) return null;
        const answer = log.findIndex((e, i) => i > sent && e.dir === 'in' && e.messages.some((m) => m.type === 'snapshot'));
        if (answer < 0) return null;
        return log.slice(answer).flatMap((e) => (e.dir === 'in' ? e.messages : []));
      };
      const oppsOf = (messages: Msg[]) => messages.flatMap((m) => (m.type === 'snapshot' ? (m.opportunities ?? []) : m.type === 'opportunity' && m.opportunity ? [m.opportunity] : []));

      // An exact instrument key goes to the server; the stream then holds that instrument only.
      await page.getByTestId('filter-instrument').fill(instrument.toLowerCase());
      await expect.poll(() => afterSubscribe((f) => JSON.stringify(f.instruments) === JSON.stringify([instrument])) !== null, { timeout: 15_000 }).toBe(true);
      await page.waitForTimeout(2500); // let the market stream for a while under the filter
      const filtered = oppsOf(afterSubscribe((f) => JSON.stringify(f.instruments) === JSON.stringify([instrument]))!);
      expect(filtered.every((o) => o.instrument === instrument)).toBe(true);
      const rowInstruments = await page.getByTestId('opportunity-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')!.split('|')[0]));
      expect(rowInstruments.every((i) => i === instrument)).toBe(true);

      // A substring is the browser's business only: the server filter is cleared again.
      await page.getByTestId('filter-instrument').fill(instrument.split('-')[0].slice(0, 2).toLowerCase());
      await expect.poll(() => afterSubscribe((f) => Object.keys(f).length === 0) !== null, { timeout: 15_000 }).toBe(true);
      await page.getByTestId('filter-instrument').fill('');

      // Minimum profit: the filtered snapshot and every opportunity first seen after it pass the minimum
      // (one that passed it keeps streaming, so its later updates may be lower).
      const profits = await page
        .locator('[data-testid="opportunity-row"][data-state="open"]')
        .evaluateAll((rows) => rows.map((r) => Number((r.querySelector('[data-testid="profit-bps"]') as HTMLElement).innerText)));
      const sortedProfits = profits.filter(Number.isFinite).sort((x, y) => x - y);
      const min = Math.floor(sortedProfits[Math.floor(sortedProfits.length / 4)] ?? 0); // most open rows pass, the lowest not
      await page.getByTestId('filter-min-profit').fill(String(min));
      /** Opportunities by first appearance after the filtered snapshot. */
      const firstSeen = () => {
        const seen = new Map<string, Opp>();
        for (const o of oppsOf(afterSubscribe((f) => f.minProfitBps === min) ?? [])) if (!seen.has(o.id)) seen.set(o.id, o);
        return [...seen.values()];
      };
      await expect.poll(() => firstSeen().length, { timeout: 30_000 }).toBeGreaterThan(0);
      await page.waitForTimeout(2000); // let the market stream for a while under the filter
      const shown = firstSeen();
      for (const o of shown) expect(o.projectedProfitBps, o.id).toBeGreaterThanOrEqual(min);

      // The exchange filter stays in the browser (the server's keeps both legs in the set, the table either leg).
      await page.getByTestId('filter-exchange').selectOption('okx');
      await page.waitForTimeout(800);
      for (const e of log) if (e.dir === 'out' && e.message.type === 'subscribe') expect(e.message.filter).not.toHaveProperty('exchanges');
      const routes = await page.getByTestId('opportunity-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')!.split('|').slice(1)));
      for (const legs of routes) expect(legs).toContain('okx');
    } finally {
      page.off('websocket', onSocket);
      await page.getByTestId('filter-instrument').fill('');
      await page.getByTestId('filter-exchange').selectOption('');
      await page.getByTestId('filter-min-profit').fill('');
    }
  }, 90_000);

  it('applies a config change made in the panel (with the API token kept in the browser)', async () => {
    await page.getByTestId('tab-config').click();
    await page.getByTestId('api-token').fill(TOKEN);
    await page.getByTestId('api-token-save').click();
    await page.getByTestId('api-token-status').filter({ hasText: 'token set' }).waitFor();
    expect(await page.evaluate(() => localStorage.getItem('perpscan.apiToken'))).toBe(TOKEN);

    const before = await api<VersionedConfig>(server, 'config');
    const next = before.config.thresholds.minSpreadBps + 1.5;
    await page.getByTestId('config-field-thresholds.minSpreadBps').fill(String(next));
    await page.getByTestId('config-apply').click();
    await page.getByTestId('config-status').filter({ hasText: 'Saved' }).waitFor();

    const after = await api<VersionedConfig>(server, 'config');
    expect(after.config.thresholds.minSpreadBps).toBe(next);
    expect(after.version).toBeGreaterThan(before.version);
  }, 60_000);

  it('shows the server’s field error next to the field for a bad value, and changes nothing', async () => {
    const before = await api<VersionedConfig>(server, 'config');
    await page.getByTestId('config-field-detector.notionalUsd').fill('-5');
    await page.getByTestId('config-apply').click();
    const err = page.getByTestId('config-error-detector.notionalUsd');
    await err.waitFor();
    expect((await err.innerText()).length).toBeGreaterThan(0);
    expect(await page.getByTestId('config-field-detector.notionalUsd').getAttribute('aria-invalid')).toBe('true');
    const after = await api<VersionedConfig>(server, 'config');
    expect(after).toEqual(before);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-config-error.png'), fullPage: true });
    await page.getByTestId('config-reset').click();
    await expect.poll(() => err.count()).toBe(0);
  }, 60_000);

  it('closes a position through its Exit button', async () => {
    // Keep the strategy's own exits out of the way so the position is still open when we click.
    await api(server, 'config', {
      method: 'PUT',
      body: {
        strategy: { enabled: true, minProfitBps: -10_000, minConfidence: 0, minOpportunityAgeMs: 0, minOpportunityUpdates: 0, cooldownMs: 0 },
        exits: { exitSpreadBps: -10_000, takeProfitUsd: 0, stopLossUsd: 0, maxHoldingMs: 0, exitOnFundingFlip: false, onFeedDown: 'hold', minLiquidationDistancePct: 0 },
      },
    });
    await page.getByTestId('tab-positions').click();
    const row = page.locator('[data-testid="position-row"][data-state="open"]').first();
    await row.waitFor({ timeout: 45_000 });
    const id = (await row.getAttribute('data-id'))!;
    // Pin the row by id: positions list newest first and the strategy keeps opening new ones, so `.first()` moves on.
    const exit = page.locator(`[data-testid="position-row"][data-id="${id}"]`).getByTestId('position-close');

    // Without the token the server refuses (API_TOKEN is set): the dashboard says so and the position stays.
    await page.evaluate(() => localStorage.removeItem('perpscan.apiToken'));
    await exit.click();
    await page.locator('[data-testid="toast"][data-kind="error"]').filter({ hasText: 'token' }).first().waitFor();
    expect((await api<Position>(server, `positions/${encodeURIComponent(id)}`)).state).toBe('open');

    await page.evaluate((t) => localStorage.setItem('perpscan.apiToken', t), TOKEN);
    await exit.click();
    await page.locator(`[data-testid="position-row"][data-id="${id}"]`).waitFor({ state: 'detached' });

    const closed = await api<Position>(server, `positions/${encodeURIComponent(id)}`);
    expect(closed.state).toBe('closed');
    expect(closed.exitReason).toBe('manual');
    await page.getByTestId('tab-trades').click();
    await page.locator(`[data-testid="trade-row"][data-id="${id}"]`).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-trades.png'), fullPage: true });
  }, 90_000);

  it('the system panel shows feeds, engine rate and per-stage latency against the budget', async () => {
    await page.getByTestId('tab-system').click();
    await page.locator('[data-testid="feed-row"][data-status="live"]').first().waitFor();
    const exchanges = await page.getByTestId('feed-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-exchange')));
    expect(exchanges.sort()).toEqual([...EXCHANGES].sort());
    await expect.poll(async () => Number((await page.getByTestId('stat-updates-per-sec').innerText()).replace(/,/g, '')), { timeout: 10_000 }).toBeGreaterThan(0);
    const e2e = page.locator('[data-testid="latency-row"][data-stage="end_to_end"]');
    await expect.poll(async () => e2e.getAttribute('data-verdict'), { timeout: 10_000 }).toMatch(/^(ok|warn|over)$/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-system.png'), fullPage: true });
  }, 60_000);

  it('the kill switch changes the trading state', async () => {
    await page.evaluate((t) => localStorage.setItem('perpscan.apiToken', t), TOKEN);
    await page.getByTestId('kill-halted').click();
    await page.locator('[data-testid="trading-state"][data-state="halted"]').waitFor();
    expect((await api<{ state: string }>(server, 'trading-state')).state).toBe('halted');
    await page.getByTestId('kill-active').click();
    await page.locator('[data-testid="trading-state"][data-state="active"]').waitFor();
    expect((await api<{ state: string }>(server, 'trading-state')).state).toBe('active');
  }, 60_000);

  it('shows the disconnected banner when the server dies and recovers without a reload when it returns', async () => {
    await page.evaluate(() => ((window as unknown as { __noReload: number }).__noReload = 42));
    await page.locator('[data-testid="conn-status"][data-status="live"]').waitFor();
    const port = server.port;

    await server.kill9();
    await page.getByTestId('disconnected-banner').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('conn-status').getAttribute('data-status')).toBe('reconnecting');
    await page.locator('main.top.frozen').waitFor(); // the last picture stays, dimmed as frozen
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-disconnected.png') });

    server = await startServerProcess({ env: { API_TOKEN: TOKEN, PORT: String(port) } });
    await page.locator('[data-testid="conn-status"][data-status="live"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('disconnected-banner').waitFor({ state: 'detached' });
    await page.locator('[data-testid="opportunity-row"][data-state="open"]').first().waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => (window as unknown as { __noReload?: number }).__noReload)).toBe(42);
  }, 120_000);
});

describeWith(['chromium'], 'dashboard under a sub-path (BASE_PATH)', () => {
  let server: ServerProcess;
  let browser: ChromiumSession;

  beforeAll(async () => {
    server = await startServerProcess({ env: { BASE_PATH: '/perpscan' } });
    browser = await launchChromium({ viewport: { width: 1280, height: 800 } });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('reaches /perpscan/ws and /perpscan/api with its relative URLs', async () => {
    const page = browser.page;
    page.setDefaultTimeout(20_000);
    const requests: string[] = [];
    const sockets: string[] = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    page.on('websocket', (ws) => sockets.push(new URL(ws.url()).pathname));
    await page.goto(`${server.baseUrl}/`);
    await page.locator('[data-testid="conn-status"][data-status="live"]').waitFor();
    await page.locator('[data-testid="opportunity-row"]').first().waitFor({ timeout: 30_000 });
    await page.getByTestId('tab-config').click();
    await page.getByTestId('config-version').waitFor();
    expect(requests.filter((p) => p.includes('/api/')).every((p) => p.startsWith('/perpscan/api/'))).toBe(true);
    expect(requests).toContain('/perpscan/api/config');
    expect(sockets).toEqual(['/perpscan/ws']);
  }, 90_000);
});
