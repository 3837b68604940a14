/** The real venues' origins and the feed adapters, from the venue modules. Point a feed at the simulator by swapping the origins. */
import { perVenue, type Exchange } from '../../shared/exchanges.js';
import { VENUES } from '../venues/index.js';
import type { VenueAdapter, VenueEndpoints } from './adapter.js';

export const LIVE_ENDPOINTS: Record<Exchange, VenueEndpoints> = perVenue((ex) => ({ ...VENUES[ex].facts.liveEndpoints }));

export const ADAPTERS: Readonly<Record<Exchange, VenueAdapter>> = perVenue((ex) => VENUES[ex].adapter);
