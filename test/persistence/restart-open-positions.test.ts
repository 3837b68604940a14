/**
 * Trap: a restart closed every open paper position with `feed_down` (a restored position sees no quote
 * before the feeds are live). Real server processes with the simulator and Redis: open positions,
 * stop the server (SIGTERM, then kill -9), start a new one — the positions are still open 15 s later
 * with identical book fields (entry prices, quantities, fees, accrued funding, transitions).
 */
import { afterAll, expect, it } from 'vitest';
import type { Fill, Position } from '../../shared/position.js';
import { describeWith } from '../helpers/services.js';
import { startServerProcess, type ServerProcess } from '../helpers/server.js';
import { deletePrefix, openBooks, SHARED_REDIS_URL, uniquePrefix, untilRedisHolds, waitFor, serverApi as api } from './helpers.js';

describeWith(['redis'], 'restart keeps open positions open (child processes, simulator, Redis)', () => {
  const prefix = uniquePrefix('restart-open');
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    for (const s of servers) await s.kill9();
    await deletePrefix(SHARED_REDIS_URL, prefix);
  });

  it('after SIGTERM and after kill -9 the positions are still open 15 s later, book unchanged', async () => {
    const env = { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, SIM_RATE: '1000', SIM_DISLOCATIONS_PER_MIN: '600' };
    const first = await startServerProcess({ env });
    servers.push(first);
    // Open positions freely; no automatic exit except feed_down (onFeedDown: close, the default).
    const put = await api(first, '/config', {
      method: 'PUT',
      body: {
        strategy: { enabled: true, minProfitBps: -10_000, minConfidence: 0, minOpportunityAgeMs: 0, minOpportunityUpdates: 0, cooldownMs: 0 },
        exits: { exitSpreadBps: -10_000, takeProfitUsd: 0, stopLossUsd: 0, maxHoldingMs: 0, exitOnFundingFlip: false, onFeedDown: 'close', minLiquidationDistancePct: 0 },
      },
    });
    expect(put.status).toBe(200);
    await waitFor(async () => (await api<{ count: number }>(first, '/positions?state=open')).body.count >= 2, 45_000, 'two open positions');
    // No new entries from here on (exits still run: `reducing`, not `halted`, so a wrong feed_down would show).
    expect((await api(first, '/trading-state', { method: 'POST', body: { state: 'reducing', reason: 'restart test' } })).status).toBe(200);
    // Entries in flight settle: no position is opening (or closing) any more.
    await waitFor(
      async () => (await api<{ positions: Position[] }>(first, '/positions')).body.positions.every((p) => p.state !== 'opening' && p.state !== 'closing'),
      10_000,
      'entries in flight to settle',
    );

    let before = openBooks((await api<{ positions: Position[] }>(first, '/positions')).body.positions);
    const fillsBefore = (await api<{ fills: Fill[] }>(first, '/trades?limit=10000')).body.fills.length;
    expect(before.length).toBeGreaterThanOrEqual(2);

    let previous = first;
    for (const how of ['SIGTERM', 'kill -9'] as const) {
      if (how === 'SIGTERM') expect(await previous.stop()).toBe(0);
      else {
        // kill -9 keeps what Redis acknowledged: kill once it holds these books and fills.
        await untilRedisHolds(prefix, before, fillsBefore);
        await previous.kill9();
      }
      const next = await startServerProcess({ env });
      servers.push(next);
      await new Promise((r) => setTimeout(r, 15_000));
      const positions = (await api<{ positions: Position[] }>(next, '/positions')).body.positions;
      expect(positions.filter((p) => p.exitReason === 'feed_down'), `after ${how}`).toEqual([]);
      const after = openBooks(positions);
      expect(after, `after ${how}`).toEqual(before);
      // live feeds re-marked them: the marks are current again
      expect(positions.filter((p) => p.state === 'open').every((p) => p.markStale === false), `after ${how}`).toBe(true);
      expect((await api<{ fills: Fill[] }>(next, '/trades?limit=10000')).body.fills.length).toBe(fillsBefore);
      before = after;
      previous = next;
    }
    expect(await previous.stop()).toBe(0);
  }, 180_000);
});
