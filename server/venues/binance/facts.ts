/**
 * Binance facts that both the server and the dashboard need (pure data: no imports with side effects).
 * Fee: regular USD-M taker 0.050 % (binance.com/en/fee/futureFee, shared/exchanges.md §7).
 */
import type { VenueFacts } from '../../../shared/venue-facts.js';

export const facts = {
  id: 'binance',
  displayName: 'Binance',
  takerFeeBps: 5,
  liveEndpoints: { ws: 'wss://fstream.binance.com', rest: 'https://fapi.binance.com' },
} as const satisfies VenueFacts;
