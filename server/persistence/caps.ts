/** How much history each store keeps; the same numbers bound the memory and the Redis implementation. */
export interface PersistenceCaps {
  /** Opportunity events (opened/updated/closed) kept for replay comparisons. */
  opportunityEvents: number;
  /** Closed opportunities kept for `opportunityHistory`. */
  closedOpportunities: number;
  /** Market records kept per exchange for `--replay redis`. */
  marketRecordsPerExchange: number;
  /** Closed positions kept (open positions are never pruned). */
  closedPositions: number;
  /** Fills kept (oldest pruned first). */
  fills: number;
}

export const DEFAULT_CAPS: Readonly<PersistenceCaps> = {
  opportunityEvents: 100_000,
  closedOpportunities: 10_000,
  marketRecordsPerExchange: 200_000,
  closedPositions: 10_000,
  fills: 100_000,
};

export function resolveCaps(caps: Partial<PersistenceCaps> | undefined): PersistenceCaps {
  const out = { ...DEFAULT_CAPS, ...caps };
  for (const [k, v] of Object.entries(out)) {
    if (!(Number.isInteger(v) && v >= 1)) throw new RangeError(`persistence cap ${k} must be a positive integer`);
  }
  return out;
}
