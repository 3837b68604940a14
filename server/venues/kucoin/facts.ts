/**
 * KuCoin facts that both the server and the dashboard need (pure data: no imports with side effects).
 * Fee: VIP0 futures taker 0.060 % (contract default takerFeeRate 6e-4, shared/exchanges.md §7). The socket URL is handed out by POST /api/v1/bullet-public; ws is informational.
 */
import type { VenueFacts } from '../../../shared/venue-facts.js';

export const facts = {
  id: 'kucoin',
  displayName: 'KuCoin',
  takerFeeBps: 6,
  /**
   * Published fee tiers. VIP 0 futures: taker 0.060 %, maker 0.020 % (contract defaults takerFeeRate 6e-4 /
   * makerFeeRate 2e-4, shared/exchanges.md §7). VIP levels from KuCoin's "KuCoin VIP Fee Structure" page,
   * "Futures Maker/Taker" column (kucoin.com/support/48142946141635, last updated 2026-03-26, read 2026-12-02):
   * VIP 0 0.02 % / 0.06 % (the same as above), VIP 1 0.018 % / 0.06 %, VIP 2 0.015 % / 0.06 %, VIP 3 0.01 % / 0.06 %,
   * VIP 4 0.008 % / 0.053 %. Higher levels not listed here.
   */
  feeTiers: [
    { id: 'regular', name: 'Regular (VIP 0)', takerBps: 6, makerBps: 2 },
    { id: 'vip1', name: 'VIP 1', takerBps: 6, makerBps: 1.8 },
    { id: 'vip2', name: 'VIP 2', takerBps: 6, makerBps: 1.5 },
    { id: 'vip3', name: 'VIP 3', takerBps: 6, makerBps: 1 },
    { id: 'vip4', name: 'VIP 4', takerBps: 5.3, makerBps: 0.8 },
  ],
  liveEndpoints: { ws: 'wss://ws-api-futures.kucoin.com', rest: 'https://api-futures.kucoin.com' },
  /**
   * KuCoin rate-limit page (kucoin.com/docs-new/rate-limit, copy in shared/exchanges.md, read 2026-12-01):
   * 100 uplink messages per 10 s per connection (pings count), at most 100 topics per subscribe request,
   * 30 new connections per minute, at most 800 connections per user; the 400-topics-per-connection cap
   * does not apply to Futures. A bullet token may open several connections, each with its own connectId.
   */
  limits: {
    topicsPerConnection: Infinity,
    topicsPerMessage: 100,
    bytesPerMessage: Infinity,
    argsCharsPerConnection: Infinity,
    messageRate: { count: 100, windowMs: 10_000 },
    subscribeRate: null,
    connectRate: { count: 30, windowMs: 60_000 },
    maxConnections: 800,
  },
  /** Simulated listings: rough proportions of the real venue's perpetual list (2025–26); low-priced coins bare, with a contract value. */
  listing: { tailWeight: 0.25, midChance: 0.78, usdcChance: 0.3, multipliedPrefix: null },
} as const satisfies VenueFacts;
