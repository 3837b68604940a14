/**
 * KuCoin facts that both the server and the dashboard need (pure data: no imports with side effects).
 * Fee: VIP0 futures taker 0.060 % (contract default takerFeeRate 6e-4, shared/exchanges.md §7). The socket URL is handed out by POST /api/v1/bullet-public; ws is informational.
 */
import type { VenueFacts } from '../../../shared/venue-facts.js';

export const facts = {
  id: 'kucoin',
  displayName: 'KuCoin',
  takerFeeBps: 6,
  liveEndpoints: { ws: 'wss://ws-api-futures.kucoin.com', rest: 'https://api-futures.kucoin.com' },
} as const satisfies VenueFacts;
