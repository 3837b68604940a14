/**
 * Turns the table's browser-side filter into the `/ws` subscribe filter: a coarse pre-filter so the server
 * does not stream rows the user filtered out. The browser filter (`matchesFilter`) stays the source of truth
 * for what is shown, so the server filter must only ever let through a superset of it.
 *
 * - `minProfitBps`: sent as is. The server keeps streaming an opportunity once it passed the minimum (and
 *   sends its close), so it sends a superset of what the table shows at any moment.
 * - `instruments`: sent when the text is a whole instrument key (the table then shows that instrument
 *   only, see `matchesInstrument`), or when it is a substring of exactly one known key that equals it;
 *   otherwise not at all (the table matches substrings).
 * - `exchanges`: never sent. The server keeps an opportunity only when BOTH legs are in the set, the table
 *   when EITHER leg is the chosen exchange; no exchange set expresses "either leg" short of all of them.
 * - `minEarnedSharePct` (stability): never sent; the stream protocol has no such filter, the table applies it.
 */
import type { StreamFilter } from '../../../shared/protocol.js';
import { wholeKey, type RowFilter } from './table.js';

export function toStreamFilter(filter: RowFilter, knownInstruments: readonly string[]): StreamFilter {
  const out: StreamFilter = {};
  const text = filter.instrument.trim().toUpperCase();
  const key = wholeKey(text);
  // A whole key: the table shows exactly that instrument, so the server may send exactly it (known or not yet).
  if (key !== null) out.instruments = [key];
  else if (text !== '') {
    const containing = knownInstruments.filter((k) => k.toUpperCase().includes(text));
    if (containing.length === 1 && containing[0].toUpperCase() === text) out.instruments = [containing[0]];
  }
  if (filter.minProfitBps !== null && Number.isFinite(filter.minProfitBps)) {
    // The server accepts −10 000…10 000 bps; beyond that the filter is clamped (still a superset of the table's).
    out.minProfitBps = Math.max(-10_000, Math.min(10_000, filter.minProfitBps));
  }
  return out;
}

/** Same filter (order of instruments ignored)? */
export function sameStreamFilter(a: StreamFilter, b: StreamFilter): boolean {
  const key = (f: StreamFilter) => JSON.stringify([[...(f.instruments ?? [])].sort(), [...(f.exchanges ?? [])].sort(), f.minProfitBps ?? null]);
  return key(a) === key(b);
}
