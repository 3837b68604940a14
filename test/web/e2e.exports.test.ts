/**
 * The dashboard's download buttons in a real Chromium against a real in-process server: clicking one makes
 * the browser download a file (playwright's download event) named by the server, whose header row is the
 * documented column list and whose rows parse as strict RFC 4180 CSV with the values of the JSON route.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { columnsOf } from '../../server/api/export/columns.js';
import { ClosedOpportunitySchema, FillSchema, PositionSchema } from '../../shared/schemas.js';
import { parseCsvStrict } from '../helpers/csv.js';
import { describeWith } from '../helpers/services.js';
import { useAppBrowser } from './app-browser.js';

describeWith(['chromium'], 'download buttons (Chromium)', () => {
  const { serve, open } = useAppBrowser();

  it('closed opportunities, positions, closed positions and fills download as CSV with the documented header; JSON too', async () => {
    const { a, port } = await serve();
    a.flat('BTC-PERP', 50_000);
    a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 80);
    a.strategy.start();
    for (let i = 0; i < 10 && a.strategy.positions().length === 0; i++) {
      a.strategy.step(Date.now());
      await new Promise((r) => setTimeout(r, 10));
    }
    a.strategy.stop();
    a.strategy.closePosition(a.strategy.positions()[0].id, 'manual');
    a.flat('BTC-PERP', 50_000);
    await a.persistence.flush();

    const page = await open(port);

    const download = async (testId: string) => {
      const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
      const path = await d.path();
      return { name: d.suggestedFilename(), text: readFileSync(path, 'utf8') };
    };

    const closed = await download('download-closed-opportunities-csv');
    expect(closed.name).toMatch(/^perpscan-closed-opportunities-\d{8}T\d{6}Z\.csv$/);
    const closedCsv = parseCsvStrict(closed.text);
    expect(closedCsv.header).toEqual(columnsOf(ClosedOpportunitySchema).map((c) => c.name));
    const closedJson = (await a.app.inject({ method: 'GET', url: '/api/opportunities/history?limit=1000' })).json().history as Array<{ opportunity: { id: string } }>;
    expect(closedCsv.records.map((r) => r['opportunity.id'])).toEqual(closedJson.map((c) => c.opportunity.id));
    expect(closedCsv.records.length).toBeGreaterThan(0);

    const positions = await download('download-positions-csv');
    expect(positions.name).toMatch(/^perpscan-positions-\d{8}T\d{6}Z\.csv$/);
    expect(parseCsvStrict(positions.text).header).toEqual(columnsOf(PositionSchema).map((c) => c.name));
    expect(parseCsvStrict(positions.text).records.length).toBe(1);

    await page.getByTestId('tab-trades').click();
    const closedPositions = await download('download-closed-positions-csv');
    expect(closedPositions.name).toMatch(/^perpscan-positions-closed-\d{8}T\d{6}Z\.csv$/);
    const fills = await download('download-fills-csv');
    expect(fills.name).toMatch(/^perpscan-fills-\d{8}T\d{6}Z\.csv$/);
    const fillsCsv = parseCsvStrict(fills.text);
    expect(fillsCsv.header).toEqual(columnsOf(FillSchema).map((c) => c.name));
    expect(fillsCsv.header.slice(0, 3)).toEqual(['id', 'positionId', 'instrument']);
    expect(fillsCsv.records.every((r) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(r.fillUtc))).toBe(true);
    expect(fillsCsv.records.length).toBe(4); // two entry fills, two exit fills

    const fillsJson = await download('download-fills-json');
    expect(fillsJson.name).toMatch(/^perpscan-fills-\d{8}T\d{6}Z\.json$/);
    expect(JSON.parse(fillsJson.text).fills).toHaveLength(4);
  });
});
