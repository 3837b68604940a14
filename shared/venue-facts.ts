import type { TObject } from 'typebox';
import type { SettleCurrency } from './instrument-key.js';
/** The shape of one venue's facts (each venue module's `facts.ts` satisfies it; see shared/venues.ts). */
export interface VenueFacts {
  /** Lower-case id used in config, API and logs (the venue folder's name). */
  readonly id: string;
  /** Name shown to people, spelled as the venue spells itself. */
  readonly displayName: string;
  /** Published regular-tier perpetual taker fee (bps); equals `feeTiers[0].takerBps`. */
  readonly takerFeeBps: number;
  /**
   * The venue's published perpetual fee tiers, regular first (the default), each cited in the venue's
   * facts.ts. Config `fees.tier.<venue>` picks one by id, or `custom` (then fees.takerBps/makerBps apply).
   */
  readonly feeTiers: readonly FeeTier[];
  /** The real venue's origins; feed code appends the real paths. */
  readonly liveEndpoints: { readonly ws: string; readonly rest: string };
  /** The venue's documented public-WebSocket limits: connection plans, pacing and the simulated twin all read them. */
  readonly limits: WsLimits;
  /** How the venue lists coins: shapes the simulated universe (server/simulator/universe.ts). */
  readonly listing: ListingProfile;
  /**
   * Venue-specific settings, if any: a TypeBox object schema (config `venues.<id>`) and its defaults. The
   * config schema composes them from the registry; the venue's adapter receives the values (VenueOptions).
   */
  readonly options?: { readonly schema: TObject; readonly defaults: Readonly<Record<string, unknown>> };
}

/** One published fee level of a venue: taker and maker fee per fill, bps of notional (a negative maker fee is a rebate). */
export interface FeeTier {
  /** Config value, e.g. `regular`, `vip1`: lower-case letters and digits. */
  readonly id: string;
  /** As the venue names the level, for people. */
  readonly name: string;
  readonly takerBps: number;
  readonly makerBps: number;
}

/**
 * The shape of a venue's perpetual listings, as the simulator's synthetic universe draws them. Rough
 * proportions from the real venues' listings (2025–26), not documented limits.
 */
export interface ListingProfile {
  /** Relative weight of the venue when a long-tail coin picks its one to three venues. */
  readonly tailWeight: number;
  /** Chance that a middle-tier coin is listed on the venue. */
  readonly midChance: number;
  /** Chance of a USDC-settled leg next to the USDT one, for a top-decile coin on the venue. */
  readonly usdcChance: number;
  /**
   * How the venue spells a low-priced coin's multiplied base, by multiplier (`{ 1000: '1000' }` → `1000PEPE`);
   * `null` when it lists such coins bare with a contract value instead.
   */
  readonly multipliedPrefix: Readonly<Record<number, string>> | null;
  /**
   * The venue lists perpetuals in this settle currency only (one leg per coin, `usdcChance` unused); absent =
   * USDT legs, plus USDC legs by `usdcChance`. A coin needing a multiplier the venue does not spell (not in
   * `multipliedPrefix`) is listed with the largest smaller one it does. Also the leg a configured instrument is
   * pre-registered on before discovery (server/engine/instruments.ts `preRegister`).
   */
  readonly onlySettle?: SettleCurrency;
}

/** At most `count` events in any `windowMs`. */
export interface RateLimit {
  readonly count: number;
  readonly windowMs: number;
}

/**
 * Documented public-WebSocket limits of one venue. `Infinity` / `null` = the venue documents no such
 * limit. Each venue's facts.ts notes the source page and the date it was read.
 */
export interface WsLimits {
  /** Topics (streams, args) one connection may carry. */
  readonly topicsPerConnection: number;
  /** Topics in one subscribe/unsubscribe request. */
  readonly topicsPerMessage: number;
  /** Bytes of one client message (a venue that caps the request's size rather than its topic count). */
  readonly bytesPerMessage: number;
  /** Characters of all subscribed args together on one connection (a venue that counts text, not topics). */
  readonly argsCharsPerConnection: number;
  /** Client text messages of any kind per connection (pings included). */
  readonly messageRate: RateLimit | null;
  /** Subscribe/unsubscribe requests per connection. */
  readonly subscribeRate: RateLimit | null;
  /** New connections per IP. */
  readonly connectRate: RateLimit | null;
  /** Open connections per IP (or per user where the venue counts so). */
  readonly maxConnections: number;
  /**
   * Our own batch size where the venue documents no per-request limit (not a venue limit: a refused
   * request then costs a few topics, not all of them). Plans use min(topicsPerMessage, batchTopics).
   */
  readonly batchTopics?: number;
}
