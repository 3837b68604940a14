/**
 * The System panel's "Funding cross-check" section in a real Chromium at 390 px, against a real in-process
 * server (built dashboard, real /ws): the first registry venue is given a fake `fundingReferences`, our own
 * funding is pushed into the real engine, one round is run. The section names the source venue, the time of
 * the check and the counts; a flagged row is marked and shows its difference; the page never scrolls
 * sideways. A server where no venue publishes references says so instead of showing an empty box.
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { EXCHANGES, venueDisplayName, type Exchange } from '../../shared/exchanges.js';
import type { FundingReference, VenueAdapter, VenueEndpoints } from '../../server/feeds/adapter.js';
import { ADAPTERS } from '../../server/feeds/endpoints.js';
import { nowUs } from '../../server/engine/index.js';
import { describeWith } from '../helpers/services.js';
import { useAppBrowser } from './app-browser.js';
import { ARTIFACTS } from './browser.js';

const [SOURCE, A] = EXCHANGES as readonly Exchange[];
const H = 3_600_000;
const closed = Object.fromEntries(EXCHANGES.map((ex, i) => [ex, { ws: `ws://127.0.0.1:${9 + i}`, rest: `http://127.0.0.1:${9 + i}` }])) as Record<Exchange, VenueEndpoints>;

describeWith(['chromium'], 'funding cross-check on the System panel (Chromium, 390 px)', () => {
  const { serve, open } = useAppBrowser();

  async function openSystem(port: number) {
    const page = await open(port, { viewport: { width: 390, height: 844 } });
    await page.getByTestId('tab-system').click();
    const section = page.getByTestId('funding-check');
    await section.waitFor();
    return { page, section };
  }

  it('a flagged row shows its difference in red, with the source, the check time and the counts; no sideways scroll', async () => {
    const next = Date.now() + H;
    const refs: FundingReference[] = [
      { venue: A, key: 'BTC-PERP', settle: 'USDT', rate: 0.0001, intervalMs: 8 * H, nextFundingMs: next },
      { venue: A, key: 'ETH-PERP', settle: 'USDT', rate: 0.000375, intervalMs: 8 * H, nextFundingMs: next },
      { venue: A, key: 'SOL-PERP', settle: 'USDT', rate: 0.0001, intervalMs: null, nextFundingMs: null },
    ];
    const adapter = Object.assign(Object.create(ADAPTERS[SOURCE]) as VenueAdapter, { fundingReferences: async () => refs });
    const { a, port } = await serve({ feeds: { endpoints: closed }, adapters: { [SOURCE]: adapter } });
    for (const [key, rate] of [
      ['BTC-PERP', 0.0001],
      ['ETH-PERP', 0.0001],
    ] as const) {
      a.engine.pushFunding(a.engine.instruments.idFor(key, A), rate, 8 * H, next, false, Date.now(), nowUs());
    }
    a.engine.drain();
    await a.fundingCheck!.runOnce();

    const { page, section } = await openSystem(port);
    const head = section.locator(`[data-testid="funding-check-source"][data-source="${SOURCE}"]`);
    await head.waitFor();
    const headText = await head.innerText();
    expect(headText).toContain(venueDisplayName(SOURCE));
    expect(headText).toMatch(/checked ([01]\d|2[0-3]):[0-5]\d:[0-5]\d/);
    expect(headText).toMatch(/2 compared/);
    expect(headText).toMatch(/1 unmatched/);
    expect(await section.getByTestId('funding-check-flagged').innerText()).toBe('1 flagged');

    const flagged = section.locator('[data-testid="funding-check-row"][data-flagged="true"]');
    expect(await flagged.count()).toBe(1);
    expect(await flagged.getAttribute('data-instrument')).toBe('ETH-PERP');
    const rowText = await flagged.innerText();
    expect(rowText).toContain('ETH-PERP');
    expect(rowText).toContain(venueDisplayName(A));
    expect(await flagged.getByTestId('funding-check-diff').innerText()).toBe('+2.75'); // 3.75 − 1 bps per 8 h
    // Marked red: the difference in the negative colour, the row on the negative background.
    const colours = await flagged.evaluate((tr) => {
      const diff = tr.querySelector('[data-testid="funding-check-diff"]')!;
      return { diff: getComputedStyle(diff).color, row: getComputedStyle(tr.querySelector('td')!).backgroundColor, plain: getComputedStyle(document.body).color };
    });
    expect(colours.diff).not.toBe(colours.plain);
    expect(colours.row).not.toBe('rgba(0, 0, 0, 0)');
    const calm = section.locator('[data-testid="funding-check-row"][data-flagged="false"]');
    expect(await calm.count()).toBe(1);
    expect(await calm.getByTestId('funding-check-diff').innerText()).toBe('0.00');

    await section.scrollIntoViewIfNeeded();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    const box = (await section.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(ARTIFACTS, 'funding-check-390.png'), fullPage: false });

    // A new round arrives on the stream: the counts follow without a reload.
    refs[1] = { ...refs[1], rate: 0.0001 };
    await a.fundingCheck!.runOnce();
    await expect.poll(() => section.getByTestId('funding-check-flagged').innerText()).toBe('0 flagged');
  }, 60_000);

  it('no venue publishes references: the section says so (not a blank box)', async () => {
    const { port } = await serve({ feeds: { endpoints: closed } });
    const { page, section } = await openSystem(port);
    expect(await section.getByTestId('funding-check-empty').innerText()).toMatch(/No enabled venue publishes other venues' funding/);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
  }, 60_000);
});
