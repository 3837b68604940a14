/**
 * market.exclude and the funding threshold edited in the Config tab of a real Chromium against a real
 * in-process server (PUT /api/config): an entry that is neither KEY nor venue:KEY is named under the field and
 * nothing is sent; both forms are saved; the funding threshold is typed in bps per 8 h and stored as a fraction.
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { EXCHANGES } from '../../shared/exchanges.js';
import { describeWith } from '../helpers/services.js';
import { useAppBrowser } from './app-browser.js';
import { ARTIFACTS } from './browser.js';


describeWith(['chromium'], 'config panel: market.exclude and bps thresholds (Chromium, real server)', () => {
  const { serve, open } = useAppBrowser();

  it('names a bad exclusion and sends nothing; saves KEY and venue:KEY; edits the funding threshold in bps/8h', async () => {
    const { a, port } = await serve();
    const puts: string[] = [];
    const page = await open(port, {
      viewport: { width: 1440, height: 900 },
      beforeLoad: (p) =>
        p.on('request', (r) => {
          if (r.method() === 'PUT' && r.url().includes('/api/config')) puts.push(r.postData() ?? '');
        }),
    });
    await page.getByTestId('tab-config').click();
    const exclude = page.getByTestId('config-field-market.exclude');
    await exclude.waitFor();
    const venue = EXCHANGES[0];

    // Not a key, and an unknown venue prefix: named under the field as typed; Apply stays off.
    await exclude.fill(`doge-perp, BTCUSDT, nowhere:PEPE-PERP`);
    const err = page.getByTestId('config-error-market.exclude');
    await expect.poll(() => err.innerText()).toBe('not KEY or venue:KEY (e.g. DOGE-PERP, or <venue id>:PEPE-PERP): BTCUSDT, nowhere:PEPE-PERP');
    expect(await exclude.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('config-apply').isDisabled()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'config-exclude-error-1440.png') });

    // Both forms: saved, normalised (keys upper case, the venue id lower case).
    await exclude.fill(`doge-perp, ${venue.toUpperCase()}:pepe-perp`);
    await expect.poll(() => err.count()).toBe(0);
    // The funding threshold in bps per 8 h: 1.5 bps is stored as 0.00015.
    const fundingField = page.getByTestId('config-field-thresholds.minFundingDelta8h');
    expect(await page.locator('label[for="cfg-thresholds.minFundingDelta8h"]').innerText()).toMatch(/bps\/8h/);
    await fundingField.fill('1.5');
    await page.getByTestId('config-apply').click();
    await page.getByTestId('config-status').filter({ hasText: 'Saved' }).waitFor();
    expect(puts).toHaveLength(1);
    expect(JSON.parse(puts[0])).toEqual({ thresholds: { minFundingDelta8h: 0.00015 }, market: { exclude: ['DOGE-PERP', `${venue}:PEPE-PERP`] } });
    const saved = a.config.config;
    expect(saved.market.exclude).toEqual(['DOGE-PERP', `${venue}:PEPE-PERP`]);
    expect(saved.thresholds.minFundingDelta8h).toBe(0.00015);
    // Shown back in bps.
    expect(await fundingField.inputValue()).toBe('1.5');
    expect(await exclude.inputValue()).toBe(`DOGE-PERP, ${venue}:PEPE-PERP`);
  }, 60_000);
});
