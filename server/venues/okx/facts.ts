/**
 * OKX facts that both the server and the dashboard need (pure data: no imports with side effects).
 * Fee: regular-tier USDT-swap taker 0.050 % (okx.com/fees, shared/exchanges.md §7).
 */
import type { VenueFacts } from '../../../shared/venue-facts.js';

export const facts = {
  id: 'okx',
  displayName: 'OKX',
  takerFeeBps: 5,
  liveEndpoints: { ws: 'wss://ws.okx.com:8443', rest: 'https://www.okx.com' },
} as const satisfies VenueFacts;
