/**
 * Instrument keys and settle currencies, for server and web alike. One key per underlying (`BTC-PERP`,
 * `PEPE-PERP`), whatever the venue's spelling, settle currency or quantity multiplier; the first release
 * keyed one instrument per quote (`BTC-USDT-PERP`), which is still read as `BTC-PERP`.
 */

/**
 * Settle (= quote) currencies of the linear perpetuals perpscan scans and pairs. A venue listing one
 * underlying in both has two legs. USDT first: it is the default leg, and a leg settled in it is written
 * without a suffix in opportunity ids.
 */
export const SETTLE_CURRENCIES = ['USDT', 'USDC'] as const;
export type SettleCurrency = (typeof SETTLE_CURRENCIES)[number];
export const DEFAULT_SETTLE: SettleCurrency = 'USDT';

export function isSettleCurrency(value: unknown): value is SettleCurrency {
  return typeof value === 'string' && (SETTLE_CURRENCIES as readonly string[]).includes(value);
}

/** `BTC-PERP` from the underlying's common code (upper-cased). */
export function instrumentKey(base: string): string {
  return `${base.toUpperCase()}-PERP`;
}

/** The underlying of an instrument key (`BTC-PERP`, or the first release's `BTC-USDT-PERP` / `BTC-USDC-PERP`), or null. */
export function parseInstrumentKey(key: string): { base: string } | null {
  const m = /^([A-Z0-9]+)(?:-(?:USDT|USDC))?-PERP$/.exec(key);
  return m ? { base: m[1] } : null;
}

/** `BTC-USDT-PERP` (first release) → `BTC-PERP`; a current key is returned unchanged; null when not a key. */
export function normaliseInstrumentKey(key: string): string | null {
  const bq = parseInstrumentKey(key);
  return bq ? instrumentKey(bq.base) : null;
}
