import { chromium } from 'playwright-core';
import { it } from 'vitest';
import { startServerProcess } from '/work/main/test/helpers/server.js';
it('probe', async () => {
  const server = await startServerProcess({});
  const ctx = await chromium.launchPersistentContext('/tmp/web-probe-profile-' + Date.now(), { executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  const page = ctx.pages()[0];
  await page.goto(server.baseUrl + '/');
  await page.locator('[data-testid="opportunity-row"]').first().waitFor({ timeout: 30000 });
  let bad = 0;
  for (let i = 0; i < 150; i++) {
    const rows = await page.getByTestId('opportunity-row').evaluateAll((rs) => rs.map((r) => [r.getAttribute('data-id'), r.getAttribute('data-state'), Number((r.children[9] as HTMLElement).innerText)]));
    const p = rows.map((r) => r[2] as number);
    if (JSON.stringify(p) !== JSON.stringify([...p].sort((a, b) => b - a))) { bad++; if (bad < 5) console.log('ROWS', JSON.stringify(rows)); }
    await page.waitForTimeout(50);
  }
  console.log('bad', bad);
  await ctx.close(); await server.stop();
}, 120000);
