/**
 * The opportunities table's funding and depth columns (issues 13 §3 and 14 §2) in a real Chromium, against
 * the scripted server (stage.ts): per-leg funding rate with its interval badge, per-leg countdowns, APR,
 * break-even, realised delta, capacity and the slippage source, with units in the headers; "–" (never NaN)
 * for figures a record does not carry; the stability filter; the phone cards; no sideways page scroll.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import type { Opportunity } from '../../shared/opportunity.js';
import { describeWith } from '../helpers/services.js';
import { opportunity } from './make.js';
import { ARTIFACTS, screen, useStageBrowser } from './stage-browser.js';

const H = 3_600_000;

/** BTC: a 1 h leg against an 8 h leg, settling at different times, with every Wave 2 figure. ETH: an older record without them. */
function rows(t: number): Opportunity[] {
  const btc = opportunity('BTC-PERP', 'hyperliquid', 'binance', 42.5, {
    longFundingRate8h: 0.00008, // 0.8 bps/8h = 0.1 bps per 1 h
    longFundingIntervalMs: H,
    longNextFundingMs: t + 20 * 60_000,
    shortFundingRate8h: 0.00036, // 3.6 bps per 8 h
    shortFundingIntervalMs: 8 * H,
    shortNextFundingMs: t + 5 * H + 30 * 60_000,
    shortFundingPredicted: true,
    fundingDelta8h: 0.00028,
    fundingAprPct: 30.66,
    breakEvenHours: 12.25,
    fundingBasis: 'avg24h',
    expectedFundingCurrentBps: 2.8,
    expectedFundingRealisedBps: 2.1,
    realisedFundingDelta8h: 0.00021,
    carryEarnedShare: 0.8,
    carryStdevBps: 0.45,
    carrySettlements: 20,
    netAprPct: 155.1,
    slippageSource: 'depth',
    entrySlippageBps: 0.6,
    exitSlippageBps: 0.6,
    slippageBps: 1.2,
    capacityUsd: 48_500,
    firstSeenMs: t - 60_000,
    updatedMs: t + 60_000,
  });
  const eth = opportunity('ETH-PERP', 'okx', 'bybit', 12, { longNextFundingMs: t + 2 * H, shortNextFundingMs: t + 2 * H, firstSeenMs: t - 30_000, updatedMs: t + 60_000 });
  const sol = opportunity('SOL-PERP', 'kucoin', 'okx', 8, { carryEarnedShare: 0.5, realisedFundingDelta8h: -0.00002, capacityUsd: 2_000_000, slippageSource: 'touch', longNextFundingMs: t + H, shortNextFundingMs: t + 4 * H, firstSeenMs: t - 10_000, updatedMs: t + 60_000 });
  // A leg without funding yet (interval and next settlement 0): unknown, not zero.
  const xrp = opportunity('XRP-PERP', 'bybit', 'kucoin', 3, { longFundingIntervalMs: 0, longNextFundingMs: 0, longFundingRate8h: 0, shortNextFundingMs: t + 3 * H, firstSeenMs: t - 5_000, updatedMs: t + 60_000 });
  return [btc, eth, sol, xrp];
}

describeWith(['chromium'], 'opportunities table: funding and depth columns (Chromium, scripted server)', () => {
  const sb = useStageBrowser();

  async function open(width: number, list: Opportunity[]): Promise<Page> {
    const page = await sb.open({
      context: screen(width),
      script: (stage) => {
        for (const o of list) stage.opportunities.set(o.id, o);
      },
      live: false,
    });
    await page.locator('[data-testid="opportunity-row"], [data-testid="opportunity-card"]').first().waitFor();
    await page.mouse.move(1, 1);
    return page;
  }

  const noPageScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

  it('at 1440 px: per-leg funding with interval badges and countdowns, APR, break-even, realised Δ, capacity, units in the headers', async () => {
    const list = rows(Date.now());
    const page = await open(1440, list);
    await expect.poll(() => page.getByTestId('opportunity-row').count()).toBe(4);

    const heads = await page.locator('[data-testid="opportunities-table"] thead th').evaluateAll((ths) => ths.map((th) => (th as HTMLElement).innerText.replace(/\s+/g, ' ').replace(/[▲▼]/g, '').trim()));
    for (const h of ['Funding bps/int', 'Next h:mm:ss', 'Fund Δ bps/8h', 'Real. Δ bps/8h', 'APR %', 'Break-even h', 'Slip. bps', 'Capacity USD', 'Net APR %']) expect(heads).toContain(h);

    const btc = page.locator(`[data-testid="opportunity-row"][data-id="${list[0].id}"]`);
    const cell = (row: typeof btc, col: string) => row.locator(`td[data-col="${col}"]`);
    const leg = (row: typeof btc, what: string, side: 'long' | 'short') => row.locator(`[data-testid="${what}"][data-leg="${side}"]`);
    // Long leg 0.8 bps/8h on a 1 h interval = +0.10 bps per hour; short leg 3.6 bps per 8 h, predicted.
    const rate = async (side: 'long' | 'short') => {
      const l = leg(btc, 'leg-funding', side);
      return [await l.getByTestId('leg-rate').innerText(), await l.getByTestId('leg-interval').innerText(), await l.getByTestId('leg-predicted').count()];
    };
    expect(await rate('long')).toEqual(['+0.10', '1h', 0]);
    expect(await rate('short')).toEqual(['+3.60', '8h', 1]);
    // Each leg its own countdown: ~20 min against ~5 h 30 min.
    const longNext = await leg(btc, 'leg-next', 'long').innerText();
    const shortNext = await leg(btc, 'leg-next', 'short').innerText();
    expect(longNext).toMatch(/^(19|20):[0-5]\d$/);
    expect(shortNext).toMatch(/^5:(29|30):[0-5]\d$/);
    expect(await cell(btc, 'fundingDelta8h').innerText()).toBe('+2.80');
    expect(await cell(btc, 'realisedDelta8h').innerText()).toBe('+2.10');
    expect(await cell(btc, 'realisedDelta8h').getAttribute('title')).toMatch(/20 settlements: earned in 80 %/);
    expect(await cell(btc, 'fundingDelta8h').getAttribute('title')).toMatch(/\+2\.80 bps from current rates, \+2\.10 bps from realised averages \(profit uses avg24h\)/);
    expect(await cell(btc, 'fundingAprPct').innerText()).toBe('+30.7');
    expect(await cell(btc, 'breakEvenHours').innerText()).toBe('12.3');
    expect(await cell(btc, 'capacityUsd').innerText()).toBe('$48.5k');
    expect(await cell(btc, 'netAprPct').innerText()).toBe('+155.1');
    expect(await btc.getByTestId('slippage-source').innerText()).toBe('D');

    // An older record without the new figures: dashes, never NaN.
    const eth = page.locator(`[data-testid="opportunity-row"][data-id="${list[1].id}"]`);
    for (const col of ['realisedDelta8h', 'capacityUsd', 'netAprPct', 'breakEvenHours']) expect(await cell(eth, col).innerText(), col).toBe('–');
    expect(await eth.getByTestId('slippage-source').count()).toBe(0);
    expect(await page.locator('[data-testid="opportunities-table"]').innerText()).not.toMatch(/NaN|undefined/);

    // Funding unknown on a leg: its rate is a dash with a "?" badge, no countdown, the pair marked.
    const xrp = page.locator(`[data-testid="opportunity-row"][data-id="${list[3].id}"]`);
    expect(await leg(xrp, 'leg-funding', 'long').getByTestId('leg-rate').innerText()).toBe('–');
    expect(await leg(xrp, 'leg-funding', 'long').getByTestId('leg-interval').innerText()).toBe('?');
    expect(await leg(xrp, 'leg-next', 'long').innerText()).toBe('–');
    expect(await leg(xrp, 'leg-next', 'short').innerText()).toMatch(/^(2:59:[0-5]\d|3:00:00)$/);
    expect(await xrp.getByTestId('funding-unknown').innerText()).toBe('?');
    expect(await xrp.getByTestId('funding-unknown').getAttribute('title')).toMatch(/^funding unknown on Bybit: no funding counted$/);
    expect(await cell(xrp, 'fundingAprPct').innerText()).toBe('–');

    // Capacity sorts, missing last either way (ties by id).
    const ids = () => page.getByTestId('opportunity-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    const missing = [list[1].id, list[3].id].sort();
    await page.getByTestId('sort-capacityUsd').click();
    await expect.poll(ids).toEqual([list[2].id, list[0].id, ...missing]);
    await page.getByTestId('sort-capacityUsd').click();
    await expect.poll(ids).toEqual([list[0].id, list[2].id, ...missing]);
    await page.getByTestId('sort-netAprPct').click();
    await expect.poll(async () => (await ids())[0]).toBe(list[0].id);

    // Stability filter: earned in ≥ 70 % of settlements keeps BTC only; the count says so; clearing restores.
    await page.getByTestId('filter-min-earned').fill('70');
    await expect.poll(ids).toEqual([list[0].id]);
    expect(await page.getByTestId('opportunity-filter-count').innerText()).toBe('1 of 4');
    await page.getByTestId('filter-min-earned').fill('50');
    await expect.poll(async () => (await ids()).length).toBe(2);
    await page.getByTestId('filter-min-earned').fill('150');
    await expect.poll(() => page.getByTestId('filter-min-earned-error').innerText()).toBe('0–100 %');
    await expect.poll(async () => (await ids()).length).toBe(4); // invalid: marked, not applied
    await page.getByTestId('filter-min-earned').fill('');

    expect(await noPageScroll(page)).toBe(true);
    const fit = await page.evaluate(() => {
      const table = document.querySelector('[data-testid="opportunities-table"]')!;
      const scroller = table.parentElement!;
      const clipped = Array.from(table.querySelectorAll<HTMLElement>('th .label, th .unit, tbody td, tbody .line')).filter((el) => el.scrollWidth > el.clientWidth + 0.5).map((el) => `${el.getAttribute('data-col') ?? el.className}: ${el.innerText}`);
      return { table: scroller.scrollWidth <= scroller.clientWidth, clipped };
    });
    expect(fit).toEqual({ table: true, clipped: [] });
    await page.screenshot({ path: join(ARTIFACTS, 'opportunity-columns-1440.png') });
  }, 60_000);

  it('at 390 px: cards show each leg’s rate, interval and countdown; no sideways scroll', async () => {
    const list = rows(Date.now());
    const page = await open(390, list);
    await expect.poll(() => page.getByTestId('opportunity-card').count()).toBe(4);
    const card = page.locator(`[data-testid="opportunity-card"][data-id="${list[0].id}"]`);
    const legs = (await card.getByTestId('card-leg-funding').innerText()).split('\n').map((l) => l.replace(/\s+/g, ' ').trim());
    expect(legs[0]).toMatch(/^L \+0\.10 1h (19|20):[0-5]\d$/);
    expect(legs[1]).toMatch(/^S \+3\.60 8h 5:(29|30):[0-5]\d$/);
    expect(await card.innerText()).not.toMatch(/NaN|undefined/);
    expect(await noPageScroll(page)).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'opportunity-columns-390.png') });
  }, 60_000);
});
