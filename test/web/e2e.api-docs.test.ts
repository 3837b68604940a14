/**
 * Swagger UI in a real Chromium against the real server process under BASE_PATH: the page loads every asset
 * and the OpenAPI document through the sub-path, lists every operation, and "Try it out" reaches the API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server.js';
import { CHROMIUM_PATH, describeWith } from '../helpers/services.js';

describeWith(['chromium'], 'Swagger UI at /api/docs', () => {
  let server: ServerProcess;
  let context: BrowserContext;
  let profileDir: string;

  beforeAll(async () => {
    server = await startServerProcess({ env: { BASE_PATH: '/perpscan', FEEDS: 'none' } });
    profileDir = mkdtempSync(join(tmpdir(), 'perpscan-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await server?.stop();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  it('lists every operation of the document and runs one through the base path', async () => {
    const doc = (await (await fetch(`${server.baseUrl}/api/docs/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));

    for (const entry of ['/api/docs', '/api/docs/']) {
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      const failed: string[] = [];
      page.on('response', (r) => {
        if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
      });
      page.on('requestfailed', (r) => failed.push(`failed ${r.url()}`));
      await page.goto(`${server.baseUrl}${entry}`);
      await page.locator('.opblock').first().waitFor();
      const shown = await page.locator('.opblock-summary').evaluateAll((els) =>
        els.map((e) => `${e.querySelector('.opblock-summary-method')?.textContent?.trim()} ${e.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`),
      );
      expect(shown.sort()).toEqual(operations.sort());
      expect(failed).toEqual([]);

      if (entry === '/api/docs') {
        // "Try it out" on GET /api/health: the request goes to /perpscan/api/health and answers 200.
        const health = page.locator('.opblock-get').filter({ has: page.locator('[data-path="/api/health"]') });
        await health.locator('.opblock-summary').click();
        await health.getByRole('button', { name: 'Try it out' }).click();
        const request = page.waitForRequest((r) => r.url().endsWith('/api/health'));
        await health.getByRole('button', { name: 'Execute' }).click();
        expect(new URL((await request).url()).pathname).toBe('/perpscan/api/health');
        await expect.poll(async () => health.locator('.live-responses-table tr.response .response-col_status').first().innerText()).toContain('200');
        expect(await health.locator('.live-responses-table tr.response .highlight-code').first().innerText()).toContain('"status": "ok"');
      }
      await page.close();
    }
  }, 90_000);
});
