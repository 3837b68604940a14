/** The shape of one venue's facts (each venue module's `facts.ts` satisfies it; see shared/venues.ts). */
export interface VenueFacts {
  /** Lower-case id used in config, API and logs (the venue folder's name). */
  readonly id: string;
  /** Name shown to people, spelled as the venue spells itself. */
  readonly displayName: string;
  /** Published regular-tier perpetual taker fee (bps); a default that config overrides per venue. */
  readonly takerFeeBps: number;
  /** The real venue's origins; feed code appends the real paths. */
  readonly liveEndpoints: { readonly ws: string; readonly rest: string };
  /** The venue's documented public-WebSocket limits: connection plans, pacing and the simulated twin all read them. */
  readonly limits: WsLimits;
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
  /** Bytes of one client message (OKX: 64 KB of args). */
  readonly bytesPerMessage: number;
  /** Characters of all subscribed args together on one connection (Bybit: 21,000). */
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
