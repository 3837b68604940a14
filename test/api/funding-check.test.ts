/**
 * GET /api/feeds/funding-check and the /ws `funding_check` message + snapshot field: a real app whose first
 * registry venue is given a fake `fundingReferences` (the rest of its adapter is the real one), our funding
 * pushed into the real engine. The feeds are not started (their endpoints are closed ports): the cross-check
 * only needs the venue configured. Without a publishing venue the answer is an empty list.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Value } from 'typebox/value';
import { FundingCrossChecksResponseSchema, type FundingCrossChecksResponse } from '../../shared/cross-check.js';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import type { FundingReference, VenueAdapter, VenueEndpoints } from '../../server/feeds/adapter.js';
import { ADAPTERS } from '../../server/feeds/endpoints.js';
import { nowUs } from '../../server/engine/index.js';
import { StreamTestClient } from './ws-client.js';
import { trackApps, type TestApp } from './harness.js';

const clients: StreamTestClient[] = [];
const { make, serve, closeAll } = trackApps();
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await closeAll();
});

const [SOURCE, A] = EXCHANGES as readonly Exchange[];
const H = 3_600_000;
const closed = Object.fromEntries(EXCHANGES.map((ex, i) => [ex, { ws: `ws://127.0.0.1:${9 + i}`, rest: `http://127.0.0.1:${9 + i}` }])) as Record<Exchange, VenueEndpoints>;

function publishing(refs: () => FundingReference[] | Promise<FundingReference[]>): Partial<Record<Exchange, VenueAdapter>> {
  const adapter = Object.assign(Object.create(ADAPTERS[SOURCE]) as VenueAdapter, { fundingReferences: async () => refs() });
  return { [SOURCE]: adapter };
}

function pushFunding(a: TestApp, key: string, ex: Exchange, rate: number, intervalMs: number, nextMs: number): void {
  const id = a.engine.instruments.idFor(key, ex);
  expect(id).toBeGreaterThanOrEqual(0);
  a.engine.pushFunding(id, rate, intervalMs, nextMs, false, Date.now(), nowUs());
  a.engine.drain();
}

describe('funding cross-check routes', () => {
  it('no venue publishes references: GET answers an empty list (and so does an app without feeds)', async () => {
    const none = await make();
    const r = await none.app.inject({ method: 'GET', url: '/api/feeds/funding-check' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ checks: [] });
    const unpublished = await make({ feeds: { endpoints: closed } });
    expect((await unpublished.app.inject({ method: 'GET', url: '/api/feeds/funding-check' })).json()).toEqual({ checks: [] });
  });

  it('GET lists the source with its compared, unmatched and flagged figures; the stream sends funding_check and the snapshot carries it', async () => {
    const next = Date.now() + H;
    let fail = false;
    const { a, port } = await serve({
      feeds: { endpoints: closed },
      adapters: publishing(() => {
        if (fail) throw new Error('HTTP 500 /info');
        return [
          { venue: A, key: 'BTC-PERP', settle: 'USDT', rate: 0.0001, intervalMs: 8 * H, nextFundingMs: next },
          { venue: A, key: 'ETH-PERP', settle: 'USDT', rate: 0.0003, intervalMs: 8 * H, nextFundingMs: next },
          { venue: A, key: 'SOL-PERP', settle: 'USDT', rate: 0.0001, intervalMs: null, nextFundingMs: null },
          { venue: A, key: 'BTC-PERP', settle: 'USDT', rate: Number.NaN, intervalMs: null, nextFundingMs: null },
        ];
      }),
    });
    // Before the first round: the source is listed, not checked yet.
    const before = (await a.app.inject({ method: 'GET', url: '/api/feeds/funding-check' })).json() as FundingCrossChecksResponse;
    expect(before.checks).toEqual([expect.objectContaining({ source: SOURCE, checkedMs: null, compared: 0, rows: [] })]);

    pushFunding(a, 'BTC-PERP', A, 0.0001, 8 * H, next);
    pushFunding(a, 'ETH-PERP', A, 0.0001, 8 * H, next); // theirs 3 bps, ours 1 bps: flagged
    const ws = await StreamTestClient.connect(`ws://127.0.0.1:${port}/ws`);
    clients.push(ws);
    await a.fundingCheck!.runOnce();

    const r = await a.app.inject({ method: 'GET', url: '/api/feeds/funding-check' });
    expect(r.statusCode).toBe(200);
    const body = r.json() as FundingCrossChecksResponse;
    expect(Value.Check(FundingCrossChecksResponseSchema, body)).toBe(true);
    expect(body.checks).toHaveLength(1);
    const c = body.checks[0];
    expect(c).toMatchObject({ source: SOURCE, references: 4, compared: 2, unmatched: 1, invalid: 1, flagged: 1, failures: 0 });
    expect(c.checkedMs).toBeGreaterThan(0);
    expect(c.maxAbsDiff8hBps).toBeCloseTo(2, 9);
    expect(c.rows[0]).toMatchObject({ instrument: 'ETH-PERP', venue: A, flagged: true, ourNextMs: next, theirNextMs: next });
    expect(c.rows[0].diff8hBps).toBeCloseTo(2, 9);
    expect(c.rows[1]).toMatchObject({ instrument: 'BTC-PERP', flagged: false, diff8hBps: 0 });

    await ws.waitFor(() => ws.messages.some((m) => m.type === 'funding_check'));
    const m = ws.messages.find((x) => x.type === 'funding_check');
    expect(m).toMatchObject({ type: 'funding_check', check: { source: SOURCE, flagged: 1 } });
    expect(ws.violations).toEqual([]);
    const late = await StreamTestClient.connect(`ws://127.0.0.1:${port}/ws`);
    clients.push(late);
    expect(late.snapshots()[0].fundingChecks).toEqual([expect.objectContaining({ source: SOURCE, flagged: 1, compared: 2 })]);

    // A failing round: counted, the last good figures kept.
    fail = true;
    await a.fundingCheck!.runOnce();
    const after = ((await a.app.inject({ method: 'GET', url: '/api/feeds/funding-check' })).json() as FundingCrossChecksResponse).checks[0];
    expect(after).toMatchObject({ compared: 2, flagged: 1, failures: 1, lastError: { message: 'HTTP 500 /info' } });

    // The referenced venue's feed is down: our last figures are not current, so nothing is compared (no false flags).
    fail = false;
    a.engine.setExchangeDown(A, true);
    await a.fundingCheck!.runOnce();
    const down = ((await a.app.inject({ method: 'GET', url: '/api/feeds/funding-check' })).json() as FundingCrossChecksResponse).checks[0];
    expect(down).toMatchObject({ compared: 0, unmatched: 3, invalid: 1, flagged: 0, maxAbsDiff8hBps: null, failures: 1 });
  });

  it('a venue removed from the config is no longer checked', async () => {
    const a = await make({ feeds: { endpoints: closed }, adapters: publishing(() => []) });
    expect(a.fundingCheck!.checks().map((c) => c.source)).toContain(SOURCE);
    const put = await a.app.inject({ method: 'PUT', url: '/api/config', payload: { market: { exchanges: EXCHANGES.filter((e) => e !== SOURCE) } } });
    expect(put.statusCode).toBe(200);
    await a.feeds!.reconfigure(a.config.config.market);
    // Other registered venues that publish references may still be checked; the removed one is not.
    expect(a.fundingCheck!.checks().map((c) => c.source)).not.toContain(SOURCE);
  });
});
