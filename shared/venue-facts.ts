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
}
