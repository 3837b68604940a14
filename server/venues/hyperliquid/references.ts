/**
 * The venue names Hyperliquid's `predictedFundings` answer uses for OTHER venues (`BinPerp`, `BybitPerp`;
 * `HlPerp` is Hyperliquid itself) → our registry ids. Wire data of this venue, not another venue's fact:
 * this file is the one place in the module that names them (allowlisted in test/venues/conformance.test.ts).
 * Names not listed here (other venues, some seen with null fields) are skipped.
 */
export const REFERENCE_VENUES: Readonly<Record<string, string>> = { BinPerp: 'binance', BybitPerp: 'bybit' };

/** Hyperliquid's own name in the same answer. */
export const OWN_REFERENCE_NAME = 'HlPerp';
