/**
 * GET /api/feeds/depth and the depth counters in /metrics, from a real app whose feeds (quotes and depth)
 * connect to the real simulator over sockets on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Value } from 'typebox/value';
import { DepthStatusSchema, type DepthStatus } from '../../shared/depth.js';
import { trackApps, testConfig } from './harness.js';
import { waitFor } from '../feeds/helpers.js';
import { VENUES } from '../../server/venues/index.js';

/** Enabled venues (the test config's) whose module declares a depth channel. */
const depthVenues = (exchanges: readonly string[]) => exchanges.filter((e) => VENUES[e as keyof typeof VENUES]?.adapter.depth !== undefined).length;

const { make, closeAll } = trackApps();
afterEach(() => closeAll());

describe('depth routes', () => {
  it('an app without feeds answers a disabled, empty status', async () => {
    const a = await make();
    const r = await a.app.inject({ method: 'GET', url: '/api/feeds/depth' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ enabled: false, levels: 0, candidates: 0, venues: [] });
  });

  it('reports per venue books in sync and counters; /metrics carries them', { timeout: 60_000 }, async () => {
    const config = testConfig({ depth: { candidateDistanceBps: 10_000, maxInstruments: 2, cooldownMs: 0 } });
    const a = await make({ config, feeds: { simulator: { seed: 11, messagesPerSec: 300 } }, start: true });
    let status: DepthStatus | null = null;
    await waitFor(
      'depth books on the venues with a depth channel',
      () => {
        void a.app.inject({ method: 'GET', url: '/api/feeds/depth' }).then((r) => (status = r.json() as DepthStatus));
        const s = status as DepthStatus | null;
        return s !== null && s.venues.length === depthVenues(config.market.exchanges) && s.venues.every((v) => v.books === 2);
      },
      30_000,
    );
    const s = status as unknown as DepthStatus;
    expect(Value.Check(DepthStatusSchema, s)).toBe(true);
    expect(s).toMatchObject({ enabled: true, levels: 20, candidates: 2 });
    const metrics = (await a.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const v of s.venues) {
      expect(metrics).toContain(`perpscan_depth_books{venue="${v.exchange}"} 2`);
      expect(metrics).toMatch(new RegExp(`perpscan_depth_messages_total\\{venue="${v.exchange}"\\} [1-9]`));
    }
    expect(metrics).toContain('perpscan_depth_candidates 2');
  });
});
