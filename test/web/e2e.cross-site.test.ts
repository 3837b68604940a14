/**
 * Attacks through a real Chromium against the real server process (default settings: loopback, no token):
 *
 * - DNS rebinding: `attacker.example` resolves to 127.0.0.1 (Chromium's --host-resolver-rules stands in for
 *   the attacker's DNS), so a script on http://attacker.example:PORT/ is same-origin with the server.
 *   Before the Host guard it could read positions, change the config and halt trading, closing every position.
 * - A page on another site (http://evil.example:OTHER/, a server of the test's own) opening /ws: before the
 *   Origin check it received the full snapshot, positions and portfolio included.
 *
 * The real dashboard at http://127.0.0.1:PORT/ keeps working (its stream and its same-origin writes).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT, startServerProcess, type ServerProcess } from '../helpers/server.js';
import { CHROMIUM_PATH, describeWith } from '../helpers/services.js';

describeWith(['chromium'], 'cross-site and DNS-rebinding attacks in Chromium', () => {
  let server: ServerProcess;
  let evilSite: http.Server;
  let evilPort = 0;
  let context: BrowserContext;
  let profileDir: string;

  const tradingState = async (): Promise<string> => ((await (await fetch(`${server.baseUrl}/api/trading-state`)).json()) as { state: string }).state;
  const configVersion = async (): Promise<number> => ((await (await fetch(`${server.baseUrl}/api/config`)).json()) as { version: number }).version;

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, 'dist/web/index.html'))) {
      const b = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit' });
      if (b.status !== 0) throw new Error('dashboard build failed');
    }
    server = await startServerProcess();
    evilSite = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>cute cats</title><p>nothing to see</p>'));
    await new Promise<void>((r) => evilSite.listen(0, '127.0.0.1', r));
    evilPort = (evilSite.address() as AddressInfo).port;
    profileDir = mkdtempSync(join(tmpdir(), 'perpscan-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--host-resolver-rules=MAP attacker.example 127.0.0.1, MAP evil.example 127.0.0.1',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await server?.stop();
    await new Promise((r) => evilSite?.close(r));
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  it('a rebound name can neither read nor change anything', async () => {
    const page = await context.newPage();
    const nav = await page.goto(`http://attacker.example:${server.port}/`);
    expect(nav?.status()).toBe(421); // not even the dashboard
    const attack = await page.evaluate(async () => {
      const positions = await fetch('/api/positions');
      const config = await fetch('/api/config', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ thresholds: { minSpreadBps: 999 } }) });
      const halt = await fetch('/api/trading-state', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state: 'halted', closeAll: true }) });
      const ws = await new Promise<string>((resolve) => {
        const s = new WebSocket(`ws://${location.host}/ws`);
        s.onmessage = (e) => resolve(`message ${String(e.data).slice(0, 40)}`);
        s.onerror = () => resolve('error');
      });
      return { positions: positions.status, positionsBody: await positions.text(), config: config.status, halt: halt.status, ws };
    });
    expect(attack).toMatchObject({ positions: 421, config: 421, halt: 421, ws: 'error' });
    expect(attack.positionsBody).toContain('ALLOWED_HOSTS');
    expect(await tradingState()).toBe('active');
    expect(await configVersion()).toBe(1);
    await page.close();
  });

  it('a page on another site cannot open /ws', async () => {
    const page = await context.newPage();
    await page.goto(`http://evil.example:${evilPort}/`);
    const result = await page.evaluate(async (port) => {
      return new Promise<string>((resolve) => {
        const s = new WebSocket(`ws://127.0.0.1:${port}/ws`);
        s.onmessage = (e) => resolve(`message ${String(e.data).slice(0, 60)}`);
        s.onerror = () => resolve('error');
        setTimeout(() => resolve('timeout'), 5000);
      });
    }, server.port);
    expect(result).toBe('error');
    expect(server.logs.some((l) => l.includes('cross-site request refused') && l.includes(`http://evil.example:${evilPort}`))).toBe(true);
    await page.close();
  });

  it('the dashboard itself still streams and can write (same origin)', async () => {
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/`);
    await page.locator('[data-testid="conn-status"][data-status="live"]').waitFor({ timeout: 20_000 });
    const status = await page.evaluate(async () => {
      const r = await fetch('./api/trading-state', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state: 'reducing' }) });
      return r.status;
    });
    expect(status).toBe(200);
    expect(await tradingState()).toBe('reducing');
    await page.close();
  });
});
