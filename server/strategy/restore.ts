/**
 * Rebuilds the runner's books from persisted positions and fills: what each leg entered, closed and
 * how many exit attempts it made all follow from the recorded fills, so a restart never trades twice.
 */
import type { Fill, Position } from '../../shared/position.js';
import { normaliseInstrumentKey } from '../venues/symbology.js';
import { LEGS, attemptOf, legOfFill, newBook, positionSeq, type Book } from './book.js';

/**
 * A position persisted by the first release names its instrument `BTC-USDT-PERP` (and its opportunity
 * `BTC-USDT-PERP|<long venue>|<short venue>`); keys are now per underlying (`BTC-PERP`). Rewritten in place, so the
 * restored position finds its quotes and blocks re-entry of the same opportunity.
 */
function migrateLegacyKeys(p: Position): void {
  const key = normaliseInstrumentKey(p.instrument);
  if (key === null || key === p.instrument) return;
  if (p.opportunityId.startsWith(`${p.instrument}|`)) p.opportunityId = key + p.opportunityId.slice(p.instrument.length);
  p.instrument = key;
}

export interface RestoredBooks {
  /** Every position's book, oldest position first. */
  books: Book[];
  /** The fills, oldest first. */
  fills: Fill[];
  /** Highest N of the `pos-N` ids seen (0 when none). */
  lastPositionSeq: number;
  /**
   * Positions interrupted mid-entry: their legs now hold what their entry fills say and their exit
   * reason is `leg_failed`; the runner moves them to `closing` to unwind.
   */
  interruptedEntries: Book[];
}

export function rebuildBooks(positions: readonly Position[], fills: readonly Fill[]): RestoredBooks {
  const sortedFills = [...fills].sort((a, b) => a.fillMs - b.fillMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const byPosition = new Map<string, Fill[]>();
  for (const f of sortedFills) {
    const list = byPosition.get(f.positionId);
    if (list) list.push(f);
    else byPosition.set(f.positionId, [f]);
  }
  const books: Book[] = [];
  const interruptedEntries: Book[] = [];
  let lastPositionSeq = 0;
  for (const p of [...positions].sort((a, b) => positionSeq(a.id) - positionSeq(b.id))) {
    lastPositionSeq = Math.max(lastPositionSeq, positionSeq(p.id));
    migrateLegacyKeys(p);
    const book = newBook(p, 0);
    const own = byPosition.get(p.id) ?? [];
    for (const f of own) {
      const leg = legOfFill(f);
      if (f.purpose === 'entry') book.entryDone[leg] = true;
      else {
        book.closed[leg] += f.quantity;
        book.attempts[leg] = Math.max(book.attempts[leg], attemptOf(f.id));
      }
    }
    books.push(book);
    if (p.state === 'opening') {
      // Interrupted mid-entry: the legs hold what their recorded entry fills say; flatten them.
      for (const leg of LEGS) {
        const entries = own.filter((f) => f.purpose === 'entry' && legOfFill(f) === leg);
        const qty = entries.reduce((s, f) => s + f.quantity, 0);
        p[leg].quantity = qty;
        p[leg].entryPrice = qty > 0 ? entries.reduce((s, f) => s + f.price * f.quantity, 0) / qty : 0;
      }
      p.exitReason = 'leg_failed';
      interruptedEntries.push(book);
    }
  }
  return { books, fills: sortedFills, lastPositionSeq, interruptedEntries };
}
