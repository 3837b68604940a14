/**
 * Bybit facts that both the server and the dashboard need (pure data: no imports with side effects).
 * Fee: regular (VIP0) linear-perpetual taker 0.055 % (Bybit help-center fee table, shared/exchanges.md §7).
 */
import type { VenueFacts } from '../../../shared/venue-facts.js';

export const facts = {
  id: 'bybit',
  displayName: 'Bybit',
  takerFeeBps: 5.5,
  liveEndpoints: { ws: 'wss://stream.bybit.com', rest: 'https://api.bybit.com' },
} as const satisfies VenueFacts;
