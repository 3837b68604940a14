/**
 * A config change that would leave nothing to scan (no venue, or no instrument) is almost always a slip of
 * the hand: PUT /api/config refuses it unless the caller insists (`?force=true`).
 */
import type { Config, ConfigError } from '../../shared/config.js';

/** Error code of the 400 (the dashboard asks to confirm on it, then retries with force). */
export const NOTHING_SCANNED = 'nothing_scanned';

function touches(patch: unknown, field: 'exchanges' | 'instruments'): boolean {
  if (typeof patch !== 'object' || patch === null) return false;
  const market = (patch as Record<string, unknown>).market;
  return typeof market === 'object' && market !== null && field in market;
}

/** The fields `patch` sets so that `next` scans nothing; empty when the change is fine. */
export function nothingScannedProblems(patch: unknown, next: Config): ConfigError[] {
  const problems: ConfigError[] = [];
  if (touches(patch, 'exchanges') && next.market.exchanges.length === 0)
    problems.push({ field: 'market.exchanges', message: 'no venue would be scanned; send ?force=true to apply it anyway' });
  if (touches(patch, 'instruments') && next.market.instruments !== 'all' && next.market.instruments.length === 0)
    problems.push({ field: 'market.instruments', message: 'no instrument would be scanned; send ?force=true to apply it anyway' });
  return problems;
}
