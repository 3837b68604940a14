/**
 * The Alerts tab in a real Chromium at 390 px against a real in-process server (built dashboard, real /ws)
 * and a local HTTP server standing in for a webhook: add a webhook sink, save, click "Send test alert";
 * the webhook receives the test alert and the panel shows it sent. The secret URL shows masked after the
 * save, and the page never scrolls sideways.
 */
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeWith } from '../helpers/services.js';
import { startSinkServer, type SinkServer } from '../alerts/sink-server.js';
import { useAppBrowser } from './app-browser.js';
import { ARTIFACTS } from './browser.js';


describeWith(['chromium'], 'alerts panel (Chromium, 390 px)', () => {
  let hook: SinkServer | null = null;
  // Registered first so it runs last (after-hooks run in reverse): the browser and the app close before the webhook.
  afterEach(async () => {
    await hook?.close();
    hook = null;
  });
  const { serve, open } = useAppBrowser();

  it('"Send test alert" reaches the local webhook and the panel shows it sent; no sideways scroll', async () => {
    hook = await startSinkServer();
    const { port } = await serve();
    const page = await open(port, { viewport: { width: 390, height: 844 } });
    await page.getByTestId('tab-alerts').click();
    const panel = page.getByTestId('alerts-panel');
    await panel.getByTestId('alerts-add-sink').waitFor();

    await panel.getByTestId('alerts-new-sink-kind').selectOption('webhook');
    await panel.getByTestId('alerts-add-sink').click();
    const secretUrl = `${hook.base}/hooks/browser/secretTailW9k2`;
    await panel.getByTestId('alerts-sink-0-id').fill('local-hook');
    await panel.getByTestId('alerts-sink-0-url').fill(secretUrl);
    await panel.getByTestId('alerts-add-rule').click();
    await panel.getByTestId('alerts-save').click();
    await expect.poll(() => panel.getByTestId('alerts-status').innerText()).toBe('Saved.');
    // Shown masked once saved.
    expect(await panel.getByTestId('alerts-sink-0-url').inputValue()).toBe(`${hook.base}/****W9k2`);

    await panel.getByTestId('alerts-test').click();
    const [got] = await hook.waitFor(1);
    expect(got.path).toBe('/hooks/browser/secretTailW9k2');
    expect(got.body).toMatchObject({ source: 'perpscan', kind: 'test' });
    const result = panel.getByTestId('alerts-test-result-local-hook');
    await result.waitFor();
    expect(await result.getAttribute('data-ok')).toBe('true');
    expect(await result.innerText()).toMatch(/sent[\s\S]*local-hook[\s\S]*HTTP 200/i);

    // Saving again with the masked URL keeps the stored one.
    await panel.getByTestId('alerts-save').click();
    await panel.getByTestId('alerts-test').click();
    await hook.waitFor(2);
    expect(hook.received[1].path).toBe('/hooks/browser/secretTailW9k2');

    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    const box = (await panel.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(ARTIFACTS, 'alerts-390.png'), fullPage: true });
  }, 90_000);
});
