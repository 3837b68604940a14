/**
 * Quarantined quotes are visible in the System panel, in a real Chromium against the real server process.
 * The server's feeds (FEEDS=live) connect to a simulator started here; Bybit goes through a relay on
 * 127.0.0.1 that multiplies every BTCUSDT price by 10 (a shifted decimal that still parses). The engine
 * must hold those quotes out (no BTC opportunity with a Bybit leg) and the panel must say so; held off
 * the consensus for longer than detector.reviewAfterMs (2 s here), Bybit's BTCUSDT is flagged for review.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { StatsResponse } from '../../shared/api.js';
import type { Opportunity } from '../../shared/opportunity.js';
import { startSimulator, type Simulator, type VenueEndpoints } from '../../server/simulator/index.js';
import { REPO_ROOT, startServerProcess, type ServerProcess } from '../helpers/server.js';
import { describeWith } from '../helpers/services.js';
import { ensureDashboardBuilt, openDashboard, type ChromiumSession } from './browser.js';

/** Bybit ticker frames for BTCUSDT with both prices ×10; everything else passes unchanged. */
function shiftBtcDecimal(frame: string): string {
  if (!frame.includes('"tickers.BTCUSDT"')) return frame;
  const msg = JSON.parse(frame) as { data?: Record<string, unknown> };
  const data = msg.data;
  if (!data) return frame;
  for (const k of ['bid1Price', 'ask1Price']) if (typeof data[k] === 'string' && data[k] !== '') data[k] = String(Number(data[k]) * 10);
  return JSON.stringify(msg);
}

/** An HTTP + WebSocket relay in front of one simulated venue, rewriting what the venue sends. */
async function relay(upstream: VenueEndpoints, rewrite: (frame: string) => string): Promise<{ endpoints: VenueEndpoints; close: () => Promise<void> }> {
  const http: Server = createServer((req, res) => {
    fetch(`${upstream.rest}${req.url ?? '/'}`, { method: req.method })
      .then(async (r) => {
        res.statusCode = r.status;
        res.setHeader('content-type', r.headers.get('content-type') ?? 'application/json');
        res.end(Buffer.from(await r.arrayBuffer()));
      })
      .catch(() => {
        res.statusCode = 502;
        res.end();
      });
  });
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (client, req) => {
    const up = new WebSocket(`${upstream.ws}${req.url ?? '/'}`);
    const early: string[] = [];
    up.on('open', () => {
      for (const m of early.splice(0)) up.send(m);
    });
    client.on('message', (m) => {
      const text = m.toString();
      if (up.readyState === WebSocket.OPEN) up.send(text);
      else early.push(text);
    });
    up.on('message', (m) => {
      if (client.readyState === WebSocket.OPEN) client.send(rewrite(m.toString()));
    });
    up.on('close', () => client.close());
    client.on('close', () => up.close());
    up.on('error', () => client.terminate());
    client.on('error', () => up.terminate());
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  return {
    endpoints: { ws: `ws://127.0.0.1:${port}`, rest: `http://127.0.0.1:${port}` },
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

describeWith(['chromium'], 'quarantined quotes in the System panel (Chromium, real server)', () => {
  let sim: Simulator;
  let bybit: Awaited<ReturnType<typeof relay>>;
  let server: ServerProcess;
  let browser: ChromiumSession;
  let page: Page;
  const configDir = mkdtempSync(join(tmpdir(), 'perpscan-quarantine-'));

  beforeAll(async () => {
    ensureDashboardBuilt();
    sim = await startSimulator({ seed: 7, messagesPerSec: 400 });
    bybit = await relay(sim.endpoints.bybit, shiftBtcDecimal);
    const configPath = join(configDir, 'perpscan.config.json');
    writeFileSync(configPath, JSON.stringify({ detector: { reviewAfterMs: 2000 } }));
    server = await startServerProcess({
      env: { FEEDS: 'live', FEED_ENDPOINTS: JSON.stringify({ ...sim.endpoints, bybit: bybit.endpoints }), PERPSCAN_CONFIG: configPath },
    });
    browser = await openDashboard(server);
    page = browser.page;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await bybit?.close();
    await sim?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('lists the venue and reason of the held quotes, and no opportunity uses them', async () => {
    await page.getByTestId('tab-system').click();
    const row = page.locator('[data-testid="quarantine-row"][data-exchange="bybit"]');
    await row.waitFor({ timeout: 30_000 });
    const offConsensus = row.locator('td[data-reason="off_consensus"]');
    await expect.poll(async () => Number((await offConsensus.innerText()).replace(/,/g, '')), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await row.locator('td').first().innerText()).toMatch(/bybit/i);
    // BTCUSDT is held right now.
    expect(Number(await row.getByTestId('quarantine-active').innerText())).toBeGreaterThanOrEqual(1);
    expect(Number((await page.getByTestId('stat-quarantined').innerText()).replace(/,/g, ''))).toBeGreaterThan(0);
    // The other venues send honest prices: nothing of theirs is held.
    // The other venues send honest prices: nothing of theirs is held now. (Each may have been held for a
    // moment at start-up, when the shifted Bybit price was the only one and the consensus not yet formed.)
    const heldNow = async () =>
      page.getByTestId('quarantine-row').evaluateAll((rows) =>
        rows.filter((r) => Number(r.querySelector('[data-testid="quarantine-active"]')?.textContent ?? '0') > 0).map((r) => r.getAttribute('data-exchange')),
      );
    await expect.poll(heldNow, { timeout: 10_000 }).toEqual(['bybit']);
    // The shifted price never became an opportunity (it would be a ~90,000 % spread).
    const res = await fetch(`${server.baseUrl}/api/opportunities`);
    const { opportunities } = (await res.json()) as { opportunities: Opportunity[] };
    expect(opportunities.filter((o) => o.instrument === 'BTC-PERP' && (o.longExchange === 'bybit' || o.shortExchange === 'bybit'))).toEqual([]);
    expect(opportunities.every((o) => Math.abs(o.spreadBps) <= 500)).toBe(true);
    // Held off the consensus for longer than reviewAfterMs: flagged for review (same ticker, another token?).
    const review = page.locator('[data-testid="review-row"][data-exchange="bybit"][data-instrument="BTC-PERP"]');
    await review.waitFor({ timeout: 15_000 });
    expect(await review.innerText()).toMatch(/BTCUSDT/);
    // The same list through the API, with the price off by ~×10 against the consensus.
    const { stats } = (await (await fetch(`${server.baseUrl}/api/stats`)).json()) as StatsResponse;
    const flag = stats.quarantine.review.find((f) => f.exchange === 'bybit' && f.instrument === 'BTC-PERP');
    expect(flag).toMatchObject({ symbol: 'BTCUSDT', settle: 'USDT' });
    expect(flag!.deviationPct!).toBeGreaterThan(500);
    await page.screenshot({ path: join(REPO_ROOT, 'test-artifacts', 'system-quarantine.png'), fullPage: true });
  }, 90_000);
});
