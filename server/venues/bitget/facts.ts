/**
 * Bitget facts that both the server and the dashboard need (pure data: no imports with side effects).
 * Fee: regular-tier (VIP 0) USDT-M futures taker 0.06 %, maker 0.02 % (Bitget support article "Futures
 * Trading Fees, Limits, and Rules", bitget.com/support/articles/12560603820668, dated 2025-01-16: "standard"
 * maker 0.02 %, taker 0.06 %; and the fee schedule at
 * bitget.com/fee; the v3 instruments example also lists `takerFeeRate: "0.0006"`; read 2026-12-01).
 */
import type { VenueFacts } from '../../../shared/venue-facts.js';

export const facts = {
  id: 'bitget',
  displayName: 'Bitget',
  takerFeeBps: 6,
  /** Published fee tiers (regular only here: VIP levels not verified yet). VIP 0 USDT-M futures: taker 0.06 %, maker 0.02 % (bitget.com/support/articles/12560603820668 and bitget.com/fee, read 2026-12-01). */
  feeTiers: [{ id: 'regular', name: 'Regular (VIP 0)', takerBps: 6, makerBps: 2 }],
  liveEndpoints: { ws: 'wss://ws.bitget.com', rest: 'https://api.bitget.com' },
  /**
   * Bitget "Websocket API" page (bitget.com/api-doc/common/websocket-intro, copies on bitget.media and
   * cnbitget.com, read 2026-12-01; the UTA v3 quick start names the same host with path /v3/ws/public and
   * states no other limits): 300 connection requests per IP per 5 min, at most 100 connections per IP;
   * 240 subscription requests per hour per connection, at most 1000 channels per connection; at most 10
   * client messages per second per connection, the text "ping" included (over it: disconnected); the args
   * of one subscribe request at most 4096 bytes. It recommends fewer than 50 channels per connection (the
   * adapter plans that, see BITGET_TOPICS_PER_SOCKET). A live probe (2026-09-15, see test/fixtures/bitget/
   * SOURCES.md) saw v3 close a socket after a subscribe frame of 25+ args: we send 10 per request.
   */
  limits: {
    topicsPerConnection: 1000,
    topicsPerMessage: Infinity,
    bytesPerMessage: 4096,
    argsCharsPerConnection: Infinity,
    messageRate: { count: 10, windowMs: 1_000 },
    subscribeRate: { count: 240, windowMs: 3_600_000 },
    connectRate: { count: 300, windowMs: 300_000 },
    maxConnections: 100,
    batchTopics: 10,
  },
  /** Simulated listings: rough proportions of the real venue's perpetual list (2025–26); multiplied bases spelled in full (`1000PEPE`). */
  listing: { tailWeight: 0.22, midChance: 0.8, usdcChance: 0.3, multipliedPrefix: { 1000: '1000', 10_000: '10000' } },
} as const satisfies VenueFacts;
