/** The venues perpscan speaks to, derived from the registry in shared/venues.ts. */
import type { VenueFacts } from './venue-facts.js';
import { VENUE_FACTS } from './venues.js';

export type Exchange = (typeof VENUE_FACTS)[number]['id'];
export const EXCHANGES: readonly Exchange[] = VENUE_FACTS.map((f) => f.id);

export function isExchange(value: unknown): value is Exchange {
  return typeof value === 'string' && (EXCHANGES as readonly string[]).includes(value);
}

const FACTS: Readonly<Record<Exchange, VenueFacts>> = Object.fromEntries(VENUE_FACTS.map((f): [string, VenueFacts] => [f.id, f])) as Record<Exchange, VenueFacts>;

/** The registered facts of a venue. */
export function venueFacts(exchange: Exchange): VenueFacts {
  return FACTS[exchange];
}

/** Display name of a venue id (the id itself when unknown, e.g. from an old record). */
export function venueDisplayName(id: string): string {
  return isExchange(id) ? FACTS[id].displayName : id;
}

/** Published regular-tier perpetual taker fees (bps) per venue: config defaults, overridden per venue. */
export const DEFAULT_TAKER_FEE_BPS: Readonly<Record<Exchange, number>> = Object.fromEntries(VENUE_FACTS.map((f) => [f.id, f.takerFeeBps])) as Record<Exchange, number>;

/** `{ [venue]: f(venue) }` over every registered venue, typed. */
export function perVenue<T>(f: (exchange: Exchange) => T): Record<Exchange, T> {
  return Object.fromEntries(EXCHANGES.map((ex) => [ex, f(ex)])) as Record<Exchange, T>;
}
