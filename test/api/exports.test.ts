/**
 * `?format=csv|json` downloads: the CSV parses with a strict RFC 4180 reader and holds exactly the values of
 * the same route's JSON (ISO-8601 UTC times, numbers unrounded), columns in the documented order.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { TSchema } from 'typebox';
import { ClosedOpportunitySchema, FillSchema, OpportunitySchema, PositionSchema } from '../../shared/schemas.js';
import { columnsOf } from '../../server/api/export/columns.js';
import { rowsToCsv } from '../../server/api/export/csv.js';
import { REPO_ROOT } from '../helpers/server.js';
import { parseCsvStrict } from '../helpers/csv.js';
import { type TestApp, trackApps } from './harness.js';

const { make, closeAll } = trackApps();
afterEach(closeAll);

/** The JSON value a CSV column stands for: `long.entryPrice` → row.long.entryPrice, `openedUtc` → row.openedMs. */
function jsonFor(row: unknown, column: string): { value: unknown; time: boolean } {
  const parts = column.split('.');
  const last = parts[parts.length - 1];
  const time = last.endsWith('Utc');
  if (time) parts[parts.length - 1] = `${last.slice(0, -3)}Ms`;
  let v: unknown = row;
  for (const p of parts) v = v === null || v === undefined ? undefined : (v as Record<string, unknown>)[p];
  return { value: v, time };
}

/** Every cell equals its JSON value, checked independently of the encoder. */
function expectCsvMatchesJson(csv: string, rows: unknown[]): string[] {
  const parsed = parseCsvStrict(csv);
  expect(parsed.records.length).toBe(rows.length);
  parsed.records.forEach((rec, i) => {
    for (const h of parsed.header) {
      const { value, time } = jsonFor(rows[i], h);
      const cell = rec[h];
      const where = `row ${i} column ${h}`;
      if (value === undefined || value === null) expect(cell, where).toBe('');
      else if (time) {
        if (value === 0) expect(cell, where).toBe('');
        else {
          expect(cell, where).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
          expect(Date.parse(cell), where).toBe(Math.round(value as number));
        }
      } else if (typeof value === 'number') expect(Number(cell), where).toBe(value);
      else if (typeof value === 'string') expect(cell, where).toBe(value);
      else if (typeof value === 'boolean') expect(cell, where).toBe(String(value));
      else expect(JSON.parse(cell), where).toEqual(value);
    }
  });
  return parsed.header;
}

async function withClosedPosition(): Promise<TestApp> {
  const a = await make();
  a.flat('BTC-PERP', 50_000);
  a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 80);
  a.strategy.start();
  for (let i = 0; i < 5 && a.strategy.positions().length === 0; i++) {
    a.strategy.step(Date.now());
    await new Promise((r) => setTimeout(r, 10));
  }
  // a second position, then the first closed, so both states and entry + exit fills are exported
  a.spread('ETH-PERP', 'kucoin', 'binance', 3_000, 90);
  for (let i = 0; i < 5 && a.strategy.positions().length < 2; i++) {
    a.strategy.step(Date.now());
    await new Promise((r) => setTimeout(r, 10));
  }
  a.strategy.stop();
  const first = a.strategy.positions()[0];
  a.strategy.closePosition(first.id, 'manual');
  a.flat('BTC-PERP', 50_000);
  a.flat('ETH-PERP', 3_000);
  await a.persistence.flush();
  return a;
}

const DOCS = readFileSync(`${REPO_ROOT}/docs/exports.md`, 'utf8');
/** The column list docs/exports.md gives after `<!-- columns:NAME -->`. */
function documentedColumns(name: string): string[] {
  const m = new RegExp(`<!-- columns:${name} -->\\s*\\n\`\`\`text\\n([^\`]*)\`\`\``).exec(DOCS);
  if (!m) throw new Error(`docs/exports.md has no column list for ${name}`);
  return m[1].trim().split(/\s*,\s*|\s*\n\s*/).filter((s) => s !== '');
}

describe('exports', () => {
  const routes: Array<{ url: string; file: string; key: string; schema: TSchema; doc: string }> = [
    { url: '/api/opportunities/history?limit=1000', file: 'closed-opportunities', key: 'history', schema: ClosedOpportunitySchema, doc: 'closed-opportunities' },
    { url: '/api/positions', file: 'positions', key: 'positions', schema: PositionSchema, doc: 'positions' },
    { url: '/api/trades', file: 'fills', key: 'fills', schema: FillSchema, doc: 'fills' },
  ];

  it('closed opportunities, positions and fills: CSV = JSON of the same route, as attachments', async () => {
    const a = await withClosedPosition();
    for (const r of routes) {
      const plain = await a.app.inject({ method: 'GET', url: r.url });
      expect(plain.statusCode).toBe(200);
      expect(plain.headers['content-disposition']).toBeUndefined();
      const rows = plain.json()[r.key] as unknown[];
      expect(rows.length, r.url).toBeGreaterThanOrEqual(2);

      const sep = r.url.includes('?') ? '&' : '?';
      const csv = await a.app.inject({ method: 'GET', url: `${r.url}${sep}format=csv` });
      expect(csv.statusCode).toBe(200);
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(csv.headers['content-disposition']).toMatch(new RegExp(`^attachment; filename="perpscan-${r.file}-\\d{8}T\\d{6}Z\\.csv"$`));
      const header = expectCsvMatchesJson(csv.body, rows);
      expect(header).toEqual(columnsOf(r.schema).map((c) => c.name));
      expect(header, `docs/exports.md list for ${r.doc}`).toEqual(documentedColumns(r.doc));

      const json = await a.app.inject({ method: 'GET', url: `${r.url}${sep}format=json` });
      expect(json.statusCode).toBe(200);
      expect(json.headers['content-type']).toContain('application/json');
      expect(json.headers['content-disposition']).toMatch(new RegExp(`^attachment; filename="perpscan-${r.file}-\\d{8}T\\d{6}Z\\.json"$`));
      expect(json.json()).toEqual(plain.json());
    }
    // both position states, and the position's transitions as one JSON cell
    const positions = parseCsvStrict((await a.app.inject({ method: 'GET', url: '/api/positions?format=csv' })).body).records;
    expect(new Set(positions.map((p) => p.state)).size).toBeGreaterThan(1);
    expect(Array.isArray(JSON.parse(positions[0].transitions))).toBe(true);
    expect(positions[0].openedUtc).toMatch(/Z$/);
    const fills = parseCsvStrict((await a.app.inject({ method: 'GET', url: '/api/trades?format=csv' })).body).records;
    expect(new Set(fills.map((f) => f.purpose))).toEqual(new Set(['entry', 'exit']));
  });

  it('the open opportunities list exports too; filters apply; an unknown format is a 400 naming it', async () => {
    const a = await make();
    a.flat('BTC-PERP', 50_000);
    a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 60);
    a.spread('ETH-PERP', 'binance', 'kucoin', 3_000, 70);
    const plain = (await a.app.inject({ method: 'GET', url: '/api/opportunities?instrument=BTC-PERP' })).json();
    const csv = await a.app.inject({ method: 'GET', url: '/api/opportunities?instrument=BTC-PERP&format=csv' });
    expect(csv.headers['content-disposition']).toContain('perpscan-opportunities-');
    expect(expectCsvMatchesJson(csv.body, plain.opportunities)).toEqual(columnsOf(OpportunitySchema).map((c) => c.name));
    expect(plain.opportunities.length).toBeGreaterThan(0);
    const bad = await a.app.inject({ method: 'GET', url: '/api/positions?format=xlsx' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe('querystring.format');
  });

  it('an empty list is a header row only', async () => {
    const a = await make();
    const csv = await a.app.inject({ method: 'GET', url: '/api/trades?format=csv' });
    expect(csv.body).toBe(`${columnsOf(FillSchema).map((c) => c.name).join(',')}\r\n`);
    expect(parseCsvStrict(csv.body).records).toEqual([]);
  });

  it('RFC 4180 quoting: commas, quotes, CR/LF in fields; numbers unrounded; unknown times empty', () => {
    const nasty = 'A,"B"\r\nC\nD\re';
    const fill = {
      id: nasty, positionId: 'p,1', instrument: 'BTC-PERP', exchange: 'okx', symbol: '"quoted"', side: 'buy', purpose: 'entry',
      price: 50_000.123456789012, quantity: 1e-9, notionalUsd: 0.1 + 0.2, feeUsd: -0, decisionMs: 1764631200123, fillMs: 0, latencyUs: 12.5,
    };
    const text = rowsToCsv(FillSchema, [fill]);
    expect(text).toContain('"A,""B""\r\nC\nD\re"');
    const rec = parseCsvStrict(text).records[0];
    expect(rec.id).toBe(nasty);
    expect(rec.positionId).toBe('p,1');
    expect(rec.symbol).toBe('"quoted"');
    expect(Number(rec.price)).toBe(50_000.123456789012);
    expect(Number(rec.quantity)).toBe(1e-9);
    expect(Number(rec.notionalUsd)).toBe(0.1 + 0.2);
    expect(rec.decisionUtc).toBe('2025-12-01T23:20:00.123Z');
    expect(rec.fillUtc).toBe('');
  });
});
