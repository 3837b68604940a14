/**
 * Binance facts that both the server and the dashboard need (pure data: no imports with side effects).
 * Fee: regular USD-M taker 0.050 % (binance.com/en/fee/futureFee, shared/exchanges.md §7).
 */
import type { VenueFacts } from '../../../shared/venue-facts.js';

export const facts = {
  id: 'binance',
  displayName: 'Binance',
  takerFeeBps: 5,
  /**
   * Published USDⓈ-M perpetual fee tiers (binance.com/en/fee/futureFee, "Fee Schedule of Binance Futures",
   * binance.com/en/support/faq/360033544231; the table read 2026-12-01 from copies of it, babianfox.com/en/kb/binance-futures-fee
   * and zb-binance.com VIP article, which agree): Regular taker 0.0500 % / maker 0.0200 %, VIP 1 (≥ 250 BTC
   * 30-day futures volume, ≥ 50 BNB) 0.0400 % / 0.0160 %, VIP 2 (≥ 2,500 BTC, ≥ 200 BNB) 0.0350 % / 0.0140 %.
   * Without the 10 % BNB-payment discount. Higher levels not listed here.
   */
  feeTiers: [
    { id: 'regular', name: 'Regular', takerBps: 5, makerBps: 2 },
    { id: 'vip1', name: 'VIP 1', takerBps: 4, makerBps: 1.6 },
    { id: 'vip2', name: 'VIP 2', takerBps: 3.5, makerBps: 1.4 },
  ],
  liveEndpoints: { ws: 'wss://fstream.binance.com', rest: 'https://fapi.binance.com' },
  /**
   * USD-M "Websocket Market Streams" page (developers.binance.com/docs/derivatives/usds-margined-futures/
   * websocket-market-streams, read 2026-12-01): 10 incoming messages/s per connection (over it: disconnected),
   * at most 1024 streams per connection (older copies and shared/exchanges.md said 200). 300 connection
   * attempts per 5 min per IP (Binance's connection limit, as documented for its stream endpoints).
   * No documented per-request stream count or open-connection cap: we send 200 streams per SUBSCRIBE.
   */
  limits: {
    topicsPerConnection: 1024,
    topicsPerMessage: Infinity,
    bytesPerMessage: Infinity,
    argsCharsPerConnection: Infinity,
    messageRate: { count: 10, windowMs: 1_000 },
    subscribeRate: null,
    connectRate: { count: 300, windowMs: 300_000 },
    maxConnections: Infinity,
    batchTopics: 200,
  },
  /** Simulated listings: rough proportions of the real venue's perpetual list (2025–26); multiplied bases (`1000PEPE`; a million spelled `1M`). */
  listing: { tailWeight: 0.28, midChance: 0.85, usdcChance: 0.5, multipliedPrefix: { 1000: '1000', 10_000: '10000', 1_000_000: '1M' } },
} as const satisfies VenueFacts;
