/**
 * OKX facts that both the server and the dashboard need (pure data: no imports with side effects).
 * Fee: regular-tier USDT-swap taker 0.050 % (okx.com/fees, shared/exchanges.md §7).
 */
import type { VenueFacts } from '../../../shared/venue-facts.js';

export const facts = {
  id: 'okx',
  displayName: 'OKX',
  takerFeeBps: 5,
  /** Published fee tiers (regular only here: VIP levels not verified yet). Regular (Lv 1) USDT-margined swaps: taker 0.050 %, maker 0.020 % (okx.com/fees, shared/exchanges.md §7, read 2026-12-01). */
  feeTiers: [{ id: 'regular', name: 'Regular (Lv 1)', takerBps: 5, makerBps: 2 }],
  liveEndpoints: { ws: 'wss://ws.okx.com:8443', rest: 'https://www.okx.com' },
  /**
   * OKX v5 WebSocket overview (okx.com/docs-v5/en/#overview-websocket, copy in shared/exchanges.md, read
   * 2026-12-01): 3 new connections per second per IP; 480 subscribe/unsubscribe/login requests per hour per
   * connection (a token bucket of 480 in newer copies); the args of one request at most 64 KB in total.
   * No documented topic cap per public connection or open-connection cap.
   */
  limits: {
    topicsPerConnection: Infinity,
    topicsPerMessage: Infinity,
    bytesPerMessage: 65_536,
    argsCharsPerConnection: Infinity,
    messageRate: null,
    subscribeRate: { count: 480, windowMs: 3_600_000 },
    connectRate: { count: 3, windowMs: 1_000 },
    maxConnections: Infinity,
  },
  /** Simulated listings: rough proportions of the real venue's perpetual list (2025–26); low-priced coins bare, with a contract value. */
  listing: { tailWeight: 0.15, midChance: 0.62, usdcChance: 0.4, multipliedPrefix: null },
} as const satisfies VenueFacts;
