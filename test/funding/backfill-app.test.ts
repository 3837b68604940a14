/**
 * The backfill wired in the app: it starts in the background with the simulator's feeds, its progress is
 * served by GET /api/funding/history/status and /metrics, the settlements by GET /api/funding/history and
 * the board's realised averages.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FundingBackfillStatus, FundingHistoryResponse } from '../../shared/funding-history.js';
import type { FundingResponse } from '../../shared/funding.js';
import { trackApps } from '../api/harness.js';

const { make, closeAll } = trackApps();
afterEach(closeAll);

describe('funding backfill in the app', () => {
  it('backfills every venue from the twins while the app runs; progress, data and metrics are served', async () => {
    const a = await make({ feeds: { simulator: { seed: 3, messagesPerSec: 100 } }, start: true, fundingBackfill: { idleMs: 200 } });
    const status = async () => (await a.app.inject({ method: 'GET', url: '/api/funding/history/status' })).json<FundingBackfillStatus>();
    const deadline = Date.now() + 60_000;
    let s = await status();
    // Binance's share of its 500-per-5-min limit is the slowest pace; the others are done well before.
    while (s.venues.some((v) => v.venue !== 'binance' && v.venue !== 'hyperliquid' && v.state !== 'done') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      s = await status();
    }
    expect(s.store).toBe('memory');
    expect(s.windowMs).toBe(30 * 86_400_000);
    for (const v of s.venues) {
      expect(v.requestsPerSecond).toBeGreaterThan(0);
      expect(v.errors, `${v.venue}: ${v.lastError}`).toBe(0);
      if (v.venue !== 'binance' && v.venue !== 'hyperliquid') expect(v.legsDone, v.venue).toBe(v.legs);
    }
    const body = (await a.app.inject({ method: 'GET', url: '/api/funding/history?instrument=BTC-PERP&venue=bybit' })).json<FundingHistoryResponse>();
    expect(body.series).toHaveLength(1);
    expect(body.series[0]!.points.length).toBeGreaterThanOrEqual(89); // 30 days of an 8 h (or shorter) interval
    const board = (await a.app.inject({ method: 'GET', url: '/api/funding?instrument=BTC-PERP&venue=bybit' })).json<FundingResponse>();
    expect(board.rows[0]!.realised.avg7d).not.toBeNull();
    const metrics = (await a.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/perpscan_funding_backfill_requests_total\{venue="bybit"\} [1-9]/);
    expect(metrics).toMatch(/perpscan_funding_history_points [1-9]/);
  }, 90_000);
});
