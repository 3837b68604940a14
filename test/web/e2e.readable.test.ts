/**
 * "The dashboard a trader can read" (issue 10 §5), checked in a real Chromium on what the reader sees:
 * widths, overflow, row positions, texts. The dashboard (dist/web, built when missing) talks to a scripted
 * stand-in server (stage.ts: real HTTP and WebSocket on 127.0.0.1) so every picture is exact.
 * `STAGE_DIST=<dir>` serves another build (e.g. the dashboard before a fix, to see these tests fail).
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { EXCHANGES, venueDisplayName, type Exchange } from '../../shared/exchanges.js';
import type { FeedState } from '../../shared/feeds.js';
import { opportunityId, type Opportunity } from '../../shared/opportunity.js';
import { describeWith } from '../helpers/services.js';
import { opportunity, position } from './make.js';
import { ARTIFACTS, screen, useStageBrowser } from './stage-browser.js';


const BASES = ['BTC', 'ETH', 'SOL', '1000PEPE', 'DOGE', 'XRP', '1000000MOG', 'WIF', 'SUI', 'AVAX', 'LINK', 'TON'];
const PRICES = [97_123.45, 3_456.78, 187.1234, 0.01234567, 0.3812, 2.3456, 0.00123456, 2.1, 4.5, 38.12, 22.3, 5.4];
/** The two venues with the longest display names come first: the route column must fit them (with settle badges and ⇄). */
const [LONGEST, SECOND] = [...EXCHANGES].sort((a, b) => venueDisplayName(b).length - venueDisplayName(a).length);
const ROUTES: [Exchange, Exchange][] = [
  [LONGEST, SECOND],
  [SECOND, LONGEST],
  ['okx', 'bybit'],
  ['bybit', 'okx'],
];

/** A row with the widest values a live market produces (big prices, negative profits, long countdowns). */
function wideRow(i: number, profitBps: number, over: Partial<Opportunity> = {}): Opportunity {
  const t = Date.now();
  const [longEx, shortEx] = ROUTES[i % ROUTES.length];
  const price = PRICES[i % PRICES.length];
  const spreadBps = profitBps + 22.5;
  // Funding consistent across the columns: the legs' rates, their delta and its APR.
  const fundingDelta8h = i % 2 === 0 ? -0.00123 : 0.00456;
  return opportunity(`${BASES[i % BASES.length]}-PERP`, longEx, shortEx, profitBps, {
    longFundingRate8h: 0.0001,
    shortFundingRate8h: 0.0001 + fundingDelta8h,
    fundingAprPct: fundingDelta8h * 3 * 365 * 100,
    longAsk: price,
    shortBid: price * (1 + spreadBps / 1e4),
    spreadBps,
    projectedProfitUsd: profitBps * 12.3456,
    fundingDelta8h,
    feesBps: 21.5,
    slippageBps: 12.34,
    confidence: 100,
    firstSeenMs: t - 3_599_000,
    updatedMs: t,
    longNextFundingMs: t + 7 * 3_600_000 + 59 * 60_000,
    shortNextFundingMs: t + 7 * 3_600_000 + 59 * 60_000,
    longQuoteAgeMs: 5,
    shortQuoteAgeMs: 5,
    ...over,
  });
}

/** Settle currencies of row i: a USDC long leg (cross-quote) every fourth row from 1, both legs USDC in row 2. */
function settles(i: number): Partial<Opportunity> {
  const [longEx, shortEx] = ROUTES[i % ROUTES.length];
  const instrument = `${BASES[i % BASES.length]}-PERP`;
  if (i % 4 === 1) return { longSettle: 'USDC', shortSettle: 'USDT', crossQuote: true, id: opportunityId(instrument, longEx, shortEx, 'USDC', 'USDT') };
  if (i === 2) return { longSettle: 'USDC', shortSettle: 'USDC', crossQuote: false, id: opportunityId(instrument, longEx, shortEx, 'USDC', 'USDC') };
  return {};
}

function feed(exchange: Exchange, over: Partial<FeedState> = {}): FeedState {
  return { exchange, status: 'live', connections: 1, subscriptions: 12, lastMessageAgeMs: 200, messages: 12_345, messagesPerSec: 48, errors: {}, reconnects: 0, metadata: 'loaded', lastError: null, downSinceMs: null, ...over };
}

/** Ids of the table rows (or cards), top to bottom. */
const rowIds = (page: Page) => page.locator('[data-testid="opportunity-row"], [data-testid="opportunity-card"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-id') ?? ''));

describeWith(['chromium'], 'a dashboard a trader can read (Chromium, scripted server)', () => {
  const sb = useStageBrowser();

  async function openPage(opts: { width: number; height?: number; colorScheme?: 'light' | 'dark'; timezoneId?: string; rows?: Opportunity[] } = { width: 1280 }): Promise<Page> {
    const page = await sb.open({
      context: { ...screen(opts.width, opts.height), colorScheme: opts.colorScheme ?? 'dark', timezoneId: opts.timezoneId },
      script: (stage) => {
        for (const o of opts.rows ?? []) stage.opportunities.set(o.id, o);
        stage.setFeeds([feed('okx'), feed('bybit'), feed('binance'), feed('kucoin')]);
      },
    });
    if ((opts.rows ?? []).length > 0) await page.locator('[data-testid="opportunity-row"], [data-testid="opportunity-card"]').first().waitFor();
    await page.mouse.move(1, 1);
    return page;
  }

  /** What the reader would see clipped or spilling: page-level and table-level overflow, clipped cells. */
  async function measureTable(page: Page) {
    return page.evaluate(() => {
      const table = document.querySelector<HTMLTableElement>('[data-testid="opportunities-table"]')!;
      const scroller = table.parentElement!;
      const clipped = Array.from(table.querySelectorAll<HTMLElement>('th .label, th .unit, tbody td:not(.empty), tbody td .name, tbody td .line'))
        .filter((el) => el.scrollWidth > el.clientWidth)
        .map((el) => `${el.className}: "${el.innerText}" ${el.scrollWidth} > ${el.clientWidth}`);
      return {
        pageScrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        tableScrollWidth: scroller.scrollWidth,
        tableClientWidth: scroller.clientWidth,
        columnWidths: Array.from(table.querySelectorAll('thead th')).map((th) => Math.round(th.getBoundingClientRect().width)),
        clipped,
      };
    });
  }

  for (const width of [1280, 1440, 1536, 1920]) {
    it(`fits the opportunities table at ${width} px: fixed columns, no horizontal overflow, no clipped value, units in the headers`, async () => {
      // Fresh quotes (no stale tag) for the whole test: a marked row may shorten its name with an ellipsis (full name in its title).
      // Every fourth row a cross-quote pair (USDT against USDC), one row with both legs in USDC: the route must still fit.
      const rows = BASES.map((_, i) => wideRow(i, i % 3 === 0 ? -123.45 : 1234.56 - i, { updatedMs: Date.now() + 60_000, ...settles(i) }));
      const page = await openPage({ width, rows });
      await expect.poll(async () => (await rowIds(page)).length).toBe(rows.length);
      const cross = rows.filter((o) => o.crossQuote);
      expect(await page.locator('[data-testid="opportunity-row"] [data-testid="cross-quote"]').count()).toBe(cross.length);
      expect(await page.locator('[data-testid="opportunity-row"] [data-testid="leg-settle"]').count()).toBe(rows.filter((o) => o.crossQuote || o.shortSettle !== 'USDT').length);
      expect(await page.locator('[data-testid="cross-quote"]').first().getAttribute('title')).toMatch(/different currencies/);
      await page.screenshot({ path: join(ARTIFACTS, `readable-table-${width}.png`) });
      const m = await measureTable(page);
      expect(m.pageScrollWidth).toBeLessThanOrEqual(m.innerWidth);
      expect(m.tableScrollWidth).toBeLessThanOrEqual(m.tableClientWidth);
      expect(m.clipped, JSON.stringify(m)).toEqual([]);
      expect(await page.evaluate(() => getComputedStyle(document.querySelector('[data-testid="opportunities-table"]')!).tableLayout)).toBe('fixed');

      // Column widths do not follow the values: rows with short values leave every column where it was.
      for (const o of rows) sb.stage.update({ ...o, longAsk: 1, shortBid: 1.01, projectedProfitUsd: 1, spreadBps: 1, projectedProfitBps: 1 });
      await expect.poll(() => page.getByTestId('opportunity-row').first().locator('td[data-col="prices"] .line').first().innerText()).toBe('1.0000');
      expect((await measureTable(page)).columnWidths).toEqual(m.columnWidths);

      const units = await page.locator('[data-testid^="unit-"]').evaluateAll((els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-testid')!.slice(5), (e as HTMLElement).innerText.trim()])));
      expect(units).toMatchObject({ spreadBps: 'bps', projectedProfitBps: 'bps · USD', prices: 'USD', confidence: '%', feesBps: 'bps', fundingAprPct: '%', breakEvenHours: 'h', capacityUsd: 'USD', netAprPct: '%', legFunding: 'bps/int' });
      expect(units.nextFunding).toMatch(/h/);
      expect(units.fundingDelta8h).toMatch(/bps.*8h/);
      expect(units.realisedDelta8h).toMatch(/bps.*8h/);
    }, 60_000);
  }

  it('fades a closing row in place: no row moves and no column resizes until it leaves for Recently Closed', async () => {
    const rows = Array.from({ length: 8 }, (_, i) => wideRow(i, 80 - i * 10));
    const page = await openPage({ width: 1280, rows });
    const ids = await rowIds(page);
    const victim = ids[3];
    const layout = () =>
      page.evaluate(() => ({
        rows: Array.from(document.querySelectorAll<HTMLElement>('[data-testid="opportunity-row"]')).map((r) => ({ id: r.dataset.id, state: r.dataset.state, top: Math.round(r.getBoundingClientRect().top), height: Math.round(r.getBoundingClientRect().height) })),
        columns: Array.from(document.querySelectorAll('[data-testid="opportunities-table"] thead th')).map((th) => Math.round(th.getBoundingClientRect().width)),
      }));
    const before = await layout();
    sb.stage.close(victim, 'spread_below_min');
    await page.locator(`[data-testid="opportunity-row"][data-id="${victim}"][data-state="closing"]`).waitFor();
    expect(await page.locator(`[data-testid="closed-row"][data-id="${victim}"]`).count()).toBe(0); // fades first, then moves
    // Sampled for 1.3 s, or until the row leaves (the store holds a closed row 1.5 s from its close: on a loaded
    // machine the wait above can eat part of that). While it is on screen, nothing moves.
    const opacities: number[] = [];
    const started = Date.now();
    let sampledMs = 0;
    while (Date.now() - started < 1300) {
      const now = await layout();
      const opacity = await page.evaluate((id) => {
        const td = document.querySelector(`[data-testid="opportunity-row"][data-id="${id}"] td`);
        return td ? Number(getComputedStyle(td).opacity) : null;
      }, victim);
      if (opacity === null || !now.rows.some((r) => r.id === victim)) break;
      expect(now.columns).toEqual(before.columns);
      expect(now.rows.map(({ id, top, height }) => ({ id, top, height }))).toEqual(before.rows.map(({ id, top, height }) => ({ id, top, height })));
      opacities.push(opacity);
      sampledMs = Date.now() - started;
      await page.waitForTimeout(100);
    }
    expect(opacities.length).toBeGreaterThanOrEqual(2);
    expect(opacities[opacities.length - 1]).toBeLessThan(opacities[0]); // fading
    if (sampledMs >= 1000) expect(opacities[opacities.length - 1]).toBeLessThan(0.6); // faded (1.2 s animation)
    // Then it leaves the table and is listed in Recently Closed with its reason.
    await page.locator(`[data-testid="opportunity-row"][data-id="${victim}"]`).waitFor({ state: 'detached', timeout: 5000 });
    await expect.poll(() => page.locator(`[data-testid="closed-row"][data-id="${victim}"] .tag`).innerText()).toMatch(/spread below min/i);
    expect(await rowIds(page)).toEqual(ids.filter((id) => id !== victim));
  }, 60_000);

  /** Records, in the page, each time the row order on screen changes (a MutationObserver: timed at the DOM change itself). */
  async function recordOrderChanges(page: Page): Promise<() => Promise<number[]>> {
    await page.evaluate(() => {
      const w = window as unknown as { __orderChanges: number[]; __orderObserver?: MutationObserver };
      w.__orderChanges = [];
      const read = () => Array.from(document.querySelectorAll('[data-testid="opportunity-row"]'), (r) => r.getAttribute('data-id')).join(',');
      let last = read();
      w.__orderObserver = new MutationObserver(() => {
        const now = read();
        if (now !== last) {
          w.__orderChanges.push(performance.now());
          last = now;
        }
      });
      w.__orderObserver.observe(document.querySelector('[data-testid="opportunities-table"]')!, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-id'] });
    });
    return () =>
      page.evaluate(() => {
        const w = window as unknown as { __orderChanges: number[]; __orderObserver?: MutationObserver };
        w.__orderObserver?.disconnect();
        return w.__orderChanges;
      });
  }

  /** Shuffles the projected profits of `rows` every 100 ms for `ms`: the live order changes at every update. */
  async function churn(rows: Opportunity[], ms: number): Promise<void> {
    const started = Date.now();
    let step = 0;
    while (Date.now() - started < ms) {
      step++;
      sb.stage.updateMany(rows.map((o, i) => ({ ...o, projectedProfitBps: ((i + step) % rows.length) * 10 + 5, updatedMs: Date.now() })));
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Moves the pointer a few pixels back and forth over row 3 every 500 ms for `ms`: a reader, not a resting hand. */
  async function nudgePointer(page: Page, ms: number): Promise<void> {
    const box = (await page.getByTestId('opportunity-row').nth(2).boundingBox())!;
    const started = Date.now();
    for (let i = 0; Date.now() - started < ms; i++) {
      await page.mouse.move(box.x + 40 + (i % 2) * 4, box.y + box.height / 2);
      await page.waitForTimeout(500);
    }
  }

  it('re-sorts at most once a second, and never while the pointer or keyboard focus is in the table', async () => {
    const rows = Array.from({ length: 6 }, (_, i) => wideRow(i, 10 + i));
    const page = await openPage({ width: 1280, rows });

    let stop = await recordOrderChanges(page);
    await churn(rows, 4000);
    const changes = await stop();
    const gaps = changes.slice(1).map((t, i) => Math.round(t - changes[i]));
    expect(changes.length, `gaps ${gaps}`).toBeGreaterThanOrEqual(2); // the order does follow the market…
    expect(changes.length, `gaps ${gaps}`).toBeLessThanOrEqual(5); // …but not at 10 Hz
    for (const gap of gaps) expect(gap, `gaps ${gaps}`).toBeGreaterThanOrEqual(980);

    // A reader's pointer over the rows (moving, as a reading hand does): values update, the order does not move.
    await page.getByTestId('opportunity-row').nth(2).hover();
    await page.getByTestId('order-paused').waitFor();
    // The churn cycles each row through six values, so the first row's value is sampled while it runs (after a
    // whole number of cycles the last value can equal the first): it must take more than one.
    const firstProfit = page.getByTestId('opportunity-row').first().getByTestId('profit-bps');
    const seen = new Set([await firstProfit.innerText()]);
    stop = await recordOrderChanges(page);
    let churning = true;
    const sample = (async () => {
      while (churning) {
        seen.add(await firstProfit.innerText());
        await page.waitForTimeout(150);
      }
    })();
    await Promise.all([churn(rows, 3000), nudgePointer(page, 3000)]);
    churning = false;
    await sample;
    expect(await stop()).toEqual([]);
    expect(seen.size, [...seen].join(' ')).toBeGreaterThan(1);

    // A click leaves focus on the row it charted, but that is not reading with the keyboard: the order moves on.
    await page.getByTestId('opportunity-row').first().click();
    await page.mouse.move(1, 1);
    await expect.poll(() => page.getByTestId('order-paused').count()).toBe(0);
    stop = await recordOrderChanges(page);
    await churn(rows, 2500);
    expect((await stop()).length).toBeGreaterThan(0);

    // Keyboard focus on a row (moved there with the arrow keys), pointer away: held.
    await page.keyboard.press('ArrowDown');
    await page.getByTestId('order-paused').waitFor();
    stop = await recordOrderChanges(page);
    await churn(rows, 3000);
    expect(await stop()).toEqual([]);

    // Focus leaves: the table takes the live order (best profit first) within about a second.
    await page.getByTestId('filter-instrument').focus();
    await expect
      .poll(async () => page.getByTestId('opportunity-row').evaluateAll((els) => els.map((r) => Number((r.querySelector('[data-testid="profit-bps"]') as HTMLElement).innerText))), { timeout: 3000 })
      .toEqual([55, 45, 35, 25, 15, 5]);
  }, 60_000);

  it('a pointer resting on the table holds the order only for 3 s: then a closed row leaves for Recently Closed (a warning tag) and the order moves', async () => {
    const rows = Array.from({ length: 6 }, (_, i) => wideRow(i, 60 - i * 10));
    const page = await openPage({ width: 1280, rows });
    const ids = await rowIds(page);
    const victim = ids[3];
    await page.getByTestId('opportunity-row').nth(1).hover();
    const restingSinceMs = Date.now();
    await page.getByTestId('order-paused').waitFor();
    // A wrong price closes one row; the last row becomes the best. The pointer does not move from here on.
    sb.stage.close(victim, 'spread_implausible');
    const last = rows.find((o) => o.id === ids[5])!;
    sb.stage.update({ ...last, projectedProfitBps: 99, updatedMs: Date.now() });
    await page.locator(`[data-testid="opportunity-row"][data-id="${victim}"][data-state="closing"]`).waitFor();
    await page.waitForTimeout(1500);
    expect(await rowIds(page)).toEqual(ids); // still held: the closed row fades in its slot, nothing moves
    // The pause ends about 3 s after the pointer stopped, with the pointer still on the rows.
    await page.getByTestId('order-paused').waitFor({ state: 'detached', timeout: 5000 });
    const pausedForMs = Date.now() - restingSinceMs;
    expect(pausedForMs).toBeGreaterThanOrEqual(2500);
    expect(pausedForMs).toBeLessThan(5000);
    expect(await page.locator('[data-testid="opportunities"] .scroll').evaluate((el) => el.matches(':hover'))).toBe(true);
    // The closed row leaves the table for Recently Closed, and the order follows the market (best first).
    await page.locator(`[data-testid="opportunity-row"][data-id="${victim}"]`).waitFor({ state: 'detached', timeout: 3000 });
    await expect.poll(() => rowIds(page), { timeout: 3000 }).toEqual([ids[5], ...ids.slice(0, 5).filter((id) => id !== victim)]);
    const tag = page.locator(`[data-testid="closed-row"][data-id="${victim}"] .tag`);
    await expect.poll(() => tag.innerText()).toMatch(/spread implausible/i);
    // Tagged as a warning, coloured like every other warning tag (not the plain grey of a market move).
    const colours = await tag.evaluate((el) => {
      const probe = (cls: string) => {
        const span = document.createElement('span');
        span.className = cls;
        document.body.appendChild(span);
        const c = getComputedStyle(span).color;
        span.remove();
        return c;
      };
      return { tag: getComputedStyle(el).color, warn: probe('tag warn'), plain: probe('tag') };
    });
    expect(colours.warn).not.toBe(colours.plain);
    expect(colours.tag).toBe(colours.warn);
  }, 60_000);

  it('counts "x of N" under a filter, says when the filter hides every row, and marks invalid filter input', async () => {
    const rows = BASES.slice(0, 10).map((_, i) => wideRow(i, 5 + i));
    const page = await openPage({ width: 1280, rows });
    const count = page.getByTestId('opportunity-filter-count');
    await expect.poll(() => count.innerText()).toBe('10');

    await page.getByTestId('filter-instrument').fill('pepe');
    await expect.poll(() => count.innerText()).toBe('1 of 10');

    // Invalid minimum: marked (aria-invalid, red border, a message), not applied.
    await page.getByTestId('filter-instrument').fill('');
    const minProfit = page.getByTestId('filter-min-profit');
    await minProfit.fill('abc');
    await expect.poll(() => minProfit.getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => page.getByTestId('filter-min-profit-error').innerText()).toBe('not a number');
    const [border, neg] = await minProfit.evaluate((el) => {
      const probe = document.createElement('span');
      probe.style.color = 'var(--neg)';
      document.body.append(probe);
      const negColor = getComputedStyle(probe).color;
      probe.remove();
      return [getComputedStyle(el).borderTopColor, negColor];
    });
    expect(border).toBe(neg);
    expect(await rowIds(page)).toHaveLength(10);
    await minProfit.fill('12');
    await expect.poll(() => minProfit.getAttribute('aria-invalid')).toBe(null);

    // A minimum the server applies to the stream: the table never sees the hidden rows, the server's count says how many.
    await minProfit.fill('100000');
    await expect.poll(() => rowIds(page)).toEqual([]);
    await expect.poll(() => count.innerText()).toBe('0 of 10');
    await expect.poll(() => page.getByTestId('opportunities-empty').innerText()).toMatch(/filter hides all 10 open opportunities/i);
    await page.getByTestId('empty-clear-filter').click();
    await expect.poll(async () => (await rowIds(page)).length).toBe(10);
    await expect.poll(() => count.innerText()).toBe('10');
  }, 60_000);

  it('on a 390 px phone: cards, no page-level horizontal scroll on any tab, every action within reach', async () => {
    const rows = BASES.map((_, i) => wideRow(i, 1234.56 - i));
    const page = await openPage({ width: 390, height: 844, rows: [] });
    sb.stage.positions = [position('pos-1', 'open', { instrument: '1000PEPE-PERP' })];
    for (const o of rows) sb.stage.open(o);
    await page.reload();
    await expect.poll(() => page.getByTestId('opportunity-card').count()).toBe(rows.length);
    expect(await page.getByTestId('opportunities-table').count()).toBe(0);

    const noPageScroll = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    const withinReach = async (testId: string) => {
      const el = page.getByTestId(testId).first();
      await el.scrollIntoViewIfNeeded();
      const box = (await el.boundingBox())!;
      expect(box, testId).not.toBeNull();
      expect(box.x, testId).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width, testId).toBeLessThanOrEqual(390);
      expect(await el.isVisible(), testId).toBe(true);
      // Nothing covers it: a tap at its centre lands on it.
      const hit = await el.evaluate((node) => {
        const r = node.getBoundingClientRect();
        const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return top !== null && (node === top || node.contains(top));
      });
      expect(hit, `${testId} is covered`).toBe(true);
    };
    expect(await noPageScroll()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'readable-phone-390.png'), fullPage: false });
    for (const id of ['filter-instrument', 'filter-exchange', 'filter-min-profit', 'sort-select', 'sort-direction', 'kill-active', 'kill-reducing', 'kill-halted', 'kill-close-all', 'open-keyboard-help']) await withinReach(id);

    // Tap a card: it is selected and charted.
    const first = page.getByTestId('opportunity-card').first();
    const id = await first.getAttribute('data-id');
    await first.tap();
    await page.locator(`[data-testid="spread-chart"][data-id="${id}"]`).waitFor();

    // Sorting from the phone: by instrument, ascending.
    await page.getByTestId('sort-select').selectOption('instrument');
    await expect.poll(async () => (await rowIds(page)).map((i) => i.split('|')[0])).toEqual(rows.map((o) => o.instrument).sort((a, b) => a.localeCompare(b)));

    for (const tab of ['positions', 'trades', 'rejections', 'system', 'config']) {
      await withinReach(`tab-${tab}`);
      await page.getByTestId(`tab-${tab}`).tap();
      await page.waitForTimeout(300);
      expect(await noPageScroll(), `page scrolls sideways on the ${tab} tab`).toBe(true);
      if (tab === 'positions') await withinReach('position-close');
      if (tab === 'system') {
        // The engine figures sit under the latency table, full width, not squeezed beside it.
        const latency = (await page.getByTestId('latency-table').boundingBox())!;
        const engine = (await page.getByTestId('engine-stats').boundingBox())!;
        expect(engine.y).toBeGreaterThanOrEqual(latency.y + latency.height);
        expect(engine.width).toBeGreaterThan(300);
      }
    }
    await page.getByTestId('tab-positions').tap();
    await page.getByTestId('position-close').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'readable-phone-390-positions.png'), fullPage: false });
  }, 60_000);

  it('system panel: ages from the stream on the server clock, never negative, no REST poll; latency p99 against a p99 budget; "no samples"', async () => {
    const rows = Array.from({ length: 4 }, (_, i) => wideRow(i, 10 + i));
    const page = await openPage({ width: 1440, rows });
    sb.stage.setStats({
      latency: {
        receive_to_parsed: { p50Us: 12, p99Us: 40, count: 10_000 },
        pipeline_to_detected: { p50Us: 0, p99Us: 0, count: 0 },
        end_to_end: { p50Us: 900, p99Us: 7_000, count: 5_000 },
      },
    });
    const polls: string[] = [];
    page.on('request', (r) => {
      // Feed ages come from the stream; only the order-book counters (GET /api/feeds/depth) are polled.
      if (r.url().includes('/api/feeds') && !r.url().includes('/api/feeds/depth')) polls.push(r.url());
    });
    await page.getByTestId('tab-system').click();

    // Messages arrive between the panel's clock ticks; sample the ages for 3 s.
    const ages = new Set<string>();
    const started = Date.now();
    let step = 0;
    while (Date.now() - started < 3000) {
      sb.stage.updateMany(rows.map((o) => ({ ...o, projectedProfitBps: o.projectedProfitBps + (step++ % 3), updatedMs: Date.now() })));
      for (const t of await page.locator('[data-testid="last-message-age"], [data-testid="feed-last-message"]').allInnerTexts()) ages.add(t);
      await page.waitForTimeout(40);
    }
    expect([...ages].filter((t) => /[−-]\s*\d/.test(t))).toEqual([]);
    // The feed ages come with every stats message on the stream: fresh (≤ one stats interval + the server's 200 ms) and moving.
    const okxAge = page.locator('[data-testid="feed-row"][data-exchange="okx"] [data-testid="feed-last-message"]');
    const toMs = (t: string) => (t.endsWith('ms') ? Number(t.slice(0, -2)) : Number(t.slice(0, -1)) * 1000);
    await expect.poll(async () => toMs(await okxAge.innerText())).toBeLessThanOrEqual(1500);
    expect(polls).toEqual([]);

    // p99 against its p99 budget, both in the budget's unit.
    const row = (stage: string) => page.locator(`[data-testid="latency-row"][data-stage="${stage}"]`);
    await expect.poll(() => row('end_to_end').getAttribute('data-verdict')).toBe('warn');
    expect(await row('end_to_end').locator('[data-testid="latency-p99"]').innerText()).toBe('7.00 ms');
    expect(await row('end_to_end').locator('[data-testid="latency-budget"]').innerText()).toBe('≤ 5.00 ms');
    expect(await row('receive_to_parsed').locator('[data-testid="latency-p99"]').innerText()).toBe('40 µs');
    expect(await row('receive_to_parsed').locator('[data-testid="latency-budget"]').innerText()).toBe('≤ 50 µs');
    expect(await row('receive_to_parsed').locator('[data-testid="latency-badge"]').innerText()).toMatch(/within/i);
    // A stage that measured nothing says so, and gets no verdict.
    for (const s of ['pipeline_to_detected', 'detected_to_bus']) {
      expect(await row(s).getAttribute('data-verdict')).toBe('no_samples');
      expect(await row(s).locator('[data-testid="latency-no-samples"]').innerText()).toBe('no samples');
      expect(await row(s).locator('[data-testid="latency-badge"]').count()).toBe(0);
    }
    await page.getByTestId('system-panel').screenshot({ path: join(ARTIFACTS, 'readable-system-1440.png') });
  }, 60_000);

  /** An IANA zone where the local hour is now between 13 and 22, so a 12-hour clock would show. */
  function afternoonZone(): { zone: string; hour: number } {
    const utcHour = new Date().getUTCHours();
    for (let shift = -12; shift <= 14; shift++) {
      const hour = (((utcHour + shift) % 24) + 24) % 24;
      if (hour >= 13 && hour <= 22) return { zone: shift === 0 ? 'Etc/UTC' : `Etc/GMT${shift > 0 ? '-' : '+'}${Math.abs(shift)}`, hour };
    }
    throw new Error('no afternoon zone');
  }

  it('prints 24-hour times everywhere, the chart axes and legend included', async () => {
    const { zone, hour } = afternoonZone();
    const rows = Array.from({ length: 3 }, (_, i) => wideRow(i, 10 + i));
    const page = await openPage({ width: 1920, timezoneId: zone, rows });
    // Catch what uPlot paints on its canvas.
    await page.evaluate(() => {
      const w = window as unknown as { __canvasText: string[] };
      w.__canvasText = [];
      const orig = CanvasRenderingContext2D.prototype.fillText;
      CanvasRenderingContext2D.prototype.fillText = function (text: string, x: number, y: number, maxWidth?: number) {
        w.__canvasText.push(String(text));
        return maxWidth === undefined ? orig.call(this, text, x, y) : orig.call(this, text, x, y, maxWidth);
      };
    });
    const target = rows[0];
    await page.locator(`[data-testid="opportunity-row"][data-id="${target.id}"]`).click();
    for (let i = 0; i < 25; i++) {
      sb.stage.update({ ...target, projectedProfitBps: 10 + (i % 5), spreadBps: 30 + (i % 4), updatedMs: Date.now() });
      await page.waitForTimeout(120);
    }
    await expect.poll(async () => Number(await page.getByTestId('spread-chart').getAttribute('data-points'))).toBeGreaterThan(5);
    const hh = String(hour).padStart(2, '0');
    const axisTexts = await page.evaluate(() => (window as unknown as { __canvasText: string[] }).__canvasText);
    const timeLabels = axisTexts.filter((t) => /\d:\d\d/.test(t));
    expect(timeLabels.length).toBeGreaterThan(0);
    expect(timeLabels.filter((t) => /am|pm/i.test(t))).toEqual([]);
    expect(timeLabels.some((t) => t.startsWith(`${hh}:`) || t.startsWith(`${String((hour + 1) % 24).padStart(2, '0')}:`))).toBe(true);

    // The legend follows the cursor with a 24-hour time.
    const plot = page.locator('[data-testid="spread-chart"] .u-over');
    const box = (await plot.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2);
    await expect.poll(() => page.locator('[data-testid="spread-chart"] .u-legend .u-series').first().locator('.u-value').innerText()).toMatch(new RegExp(`^(${hh}|${String((hour + 1) % 24).padStart(2, '0')}):\\d{2}:\\d{2}$`));

    // Recently closed times, 24-hour.
    sb.stage.close(rows[2].id, 'spread_below_min');
    const closedAt = await page.locator(`[data-testid="closed-row"][data-id="${rows[2].id}"] td`).first().innerText();
    expect(closedAt).toMatch(new RegExp(`^(${hh}|${String((hour + 1) % 24).padStart(2, '0')}):\\d{2}:\\d{2}$`));
    await page.screenshot({ path: join(ARTIFACTS, 'readable-chart-1920.png') });
  }, 60_000);

  it('follows a light system theme, has a favicon, and lists its keyboard shortcuts on ? (Esc closes)', async () => {
    const rows = Array.from({ length: 8 }, (_, i) => wideRow(i, 10 + i * 3));
    const luminance = (rgb: string) => {
      const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
      return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    };
    const colours = (page: Page) =>
      page.evaluate(() => ({
        body: getComputedStyle(document.body).backgroundColor,
        text: getComputedStyle(document.body).color,
        panel: getComputedStyle(document.querySelector('[data-testid="opportunities"]')!).backgroundColor,
        header: getComputedStyle(document.querySelector('[data-testid="opportunities-table"] th')!).backgroundColor,
        input: getComputedStyle(document.querySelector('[data-testid="filter-instrument"]')!).backgroundColor,
      }));

    let page = await openPage({ width: 1280, colorScheme: 'light', rows });
    const light = await colours(page);
    for (const k of ['body', 'panel', 'header', 'input'] as const) expect(luminance(light[k]), k).toBeGreaterThan(0.85);
    expect(luminance(light.text)).toBeLessThan(0.25);
    await page.screenshot({ path: join(ARTIFACTS, 'readable-light-1280.png') });

    const icon = await page.evaluate(async () => {
      const link = document.querySelector<HTMLLinkElement>('link[rel~="icon"]');
      if (!link) return null;
      const res = await fetch(link.href);
      return { status: res.status, type: res.headers.get('content-type'), body: (await res.text()).slice(0, 5) };
    });
    expect(icon).toEqual({ status: 200, type: 'image/svg+xml', body: '<svg ' });

    await sb.reset();
    page = await openPage({ width: 1280, colorScheme: 'dark', rows });
    const dark = await colours(page);
    for (const k of ['body', 'panel', 'header', 'input'] as const) expect(luminance(dark[k]), k).toBeLessThan(0.2);

    // The system switches to light while the page is open: the page and the chart (painted on a canvas) follow.
    await page.evaluate(() => {
      const w = window as unknown as { __axisInk: string[] };
      w.__axisInk = [];
      const orig = CanvasRenderingContext2D.prototype.fillText;
      CanvasRenderingContext2D.prototype.fillText = function (text: string, x: number, y: number) {
        if (/\d/.test(String(text))) w.__axisInk.push(String(this.fillStyle));
        return orig.call(this, text, x, y);
      };
    });
    await page.getByTestId('opportunity-row').first().click();
    await expect.poll(() => page.evaluate(() => (window as unknown as { __axisInk: string[] }).__axisInk.at(-1))).toBe('#7f8c9b');
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(async () => luminance((await colours(page)).body)).toBeGreaterThan(0.85);
    await expect.poll(() => page.evaluate(() => (window as unknown as { __axisInk: string[] }).__axisInk.at(-1))).toBe('#56616d');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.keyboard.press('Escape');

    // Keyboard help.
    await page.getByTestId('opportunity-row').first().focus();
    await page.keyboard.press('?');
    const help = page.getByTestId('keyboard-help');
    await help.waitFor();
    const text = await help.innerText();
    for (const key of ['?', '/', 'Esc', 'Enter', 'Alt+1', 'Alt+5', 'j', 'k']) expect(text).toContain(key);
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('opportunity-row');
    // And from the button, for a pointer.
    await page.getByTestId('open-keyboard-help').click();
    await help.waitFor();
    await page.getByTestId('close-keyboard-help').click();
    await help.waitFor({ state: 'detached' });
  }, 60_000);
});
