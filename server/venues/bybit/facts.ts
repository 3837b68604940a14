/**
 * Bybit facts that both the server and the dashboard need (pure data: no imports with side effects).
 * Fee: regular (VIP0) linear-perpetual taker 0.055 % (Bybit help-center fee table, shared/exchanges.md §7).
 */
import type { VenueFacts } from '../../../shared/venue-facts.js';

export const facts = {
  id: 'bybit',
  displayName: 'Bybit',
  takerFeeBps: 5.5,
  /** Published fee tiers (regular only here: VIP levels not verified yet). Regular (VIP 0) linear perpetual: taker 0.055 %, maker 0.02 % (Bybit help centre "Perpetual & Futures Contract: Fees Explained", bybit.com/en/help-center/article/Perpetual-Futures-Contract-Fees-Explained, read 2026-12-01; shared/exchanges.md §7). */
  feeTiers: [{ id: 'regular', name: 'Regular (VIP 0)', takerBps: 5.5, makerBps: 2 }],
  liveEndpoints: { ws: 'wss://stream.bybit.com', rest: 'https://api.bybit.com' },
  /**
   * Bybit v5 "Connect" page (bybit-exchange.github.io/docs/v5/ws/connect, read 2026-12-01; shared/exchanges.md):
   * at most 500 connections per 5 min per WS domain; the args of all subscriptions on one public connection
   * together at most 21,000 characters; 10 args per request documented for spot only, none for linear.
   * No documented message rate or open-connection cap. We batch 10 args per request anyway.
   */
  limits: {
    topicsPerConnection: Infinity,
    topicsPerMessage: Infinity,
    bytesPerMessage: Infinity,
    argsCharsPerConnection: 21_000,
    messageRate: null,
    subscribeRate: null,
    connectRate: { count: 500, windowMs: 300_000 },
    maxConnections: Infinity,
    batchTopics: 10,
  },
  /** Simulated listings: rough proportions of the real venue's perpetual list (2025–26); multiplied bases spelled in full (`1000PEPE`, `1000000BABYDOGE`). */
  listing: { tailWeight: 0.32, midChance: 0.92, usdcChance: 0.6, multipliedPrefix: { 1000: '1000', 10_000: '10000', 1_000_000: '1000000' } },
} as const satisfies VenueFacts;
