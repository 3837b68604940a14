/**
 * Bybit facts that both the server and the dashboard need (pure data: no imports with side effects).
 * Fee: regular (VIP0) linear-perpetual taker 0.055 % (Bybit help-center fee table, shared/exchanges.md §7).
 */
import type { VenueFacts } from '../../../shared/venue-facts.js';

export const facts = {
  id: 'bybit',
  displayName: 'Bybit',
  takerFeeBps: 5.5,
  /**
   * Published fee tiers. Regular (VIP 0) linear perpetual: taker 0.055 %, maker 0.02 % (Bybit help centre
   * "Perpetual & Futures Contract: Fees Explained", bybit.com/en/help-center/article/Perpetual-Futures-Contract-Fees-Explained,
   * read 2026-12-01; shared/exchanges.md §7). VIP levels, "Perpetual & Futures Contracts Trading" column of Bybit's
   * help-centre VIP fee table (article 000001634, read 2026-12-02 on Bybit's mirror
   * bybitgum.org/en-US/help-center/bybitHC_Article?id=000001634; base rates, "may vary depending on your region"):
   * VIP 1 taker 0.0400 % / maker 0.0180 %, VIP 2 0.0375 % / 0.0160 %, VIP 3 0.0350 % / 0.0140 %. Higher levels not listed here.
   */
  feeTiers: [
    { id: 'regular', name: 'Regular (VIP 0)', takerBps: 5.5, makerBps: 2 },
    { id: 'vip1', name: 'VIP 1', takerBps: 4, makerBps: 1.8 },
    { id: 'vip2', name: 'VIP 2', takerBps: 3.75, makerBps: 1.6 },
    { id: 'vip3', name: 'VIP 3', takerBps: 3.5, makerBps: 1.4 },
  ],
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
