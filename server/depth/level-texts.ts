/**
 * The wire text `price:size` of each level of one book, by price, for venues whose checksum is a CRC32 of
 * the best levels exactly as sent ("0.10" ≠ "0.1"): kept as deltas arrive, read back best-first.
 */
import type { L2Book } from './l2-book.js';
import { JsonDepthParser, type FlatLevels } from './parser-base.js';
import { ScannedLevels } from './frame-scan.js';

export class LevelTexts {
  readonly bids = new Map<number, string>();
  readonly asks = new Map<number, string>();

  clear(): void {
    this.bids.clear();
    this.asks.clear();
  }

  /**
   * Records the texts of one frame side: `levels` are its raw levels (validated by readLevels: arrays of
   * at least two, or scanFrame's side) and `flat` the numbers readLevels made of them; a size of zero forgets the price.
   */
  keep(side: 'bid' | 'ask', flat: FlatLevels, levels: ScannedLevels | readonly unknown[][]): void {
    const texts = side === 'bid' ? this.bids : this.asks;
    for (let i = 0; i < levels.length; i++) {
      const price = flat[2 * i]!;
      if (flat[2 * i + 1] === 0) texts.delete(price);
      else if (levels instanceof ScannedLevels) texts.set(price, `${levels.text(i, 0)}:${levels.text(i, 1)}`);
      else texts.set(price, `${String(levels[i]![0])}:${String(levels[i]![1])}`);
    }
  }

  /**
   * The best `depth` levels of each side interleaved `bid1:ask1:bid2:ask2…`, a side's levels left out once
   * it has no more (a price without a text counts as ""). Built by concatenation: no arrays per call.
   */
  interleaved(book: L2Book, depth: number): string {
    const bp = book.bids.prices;
    const ap = book.asks.prices;
    const nb = Math.min(depth, bp.length);
    const na = Math.min(depth, ap.length);
    let out = '';
    let first = true;
    for (let i = 0; i < nb || i < na; i++) {
      if (i < nb) {
        const t = this.bids.get(bp[i]!) ?? '';
        out = first ? t : `${out}:${t}`;
        first = false;
      }
      if (i < na) {
        const t = this.asks.get(ap[i]!) ?? '';
        out = first ? t : `${out}:${t}`;
        first = false;
      }
    }
    return out;
  }
}

/** A depth parser whose venue checksums the wire texts: keeps one LevelTexts per symbol beside its books. */
export abstract class ChecksummedDepthParser extends JsonDepthParser {
  private readonly textsBySymbol = new Map<string, LevelTexts>();

  override reset(): void {
    super.reset();
    this.textsBySymbol.clear();
  }

  override forget(symbol: string): void {
    super.forget(symbol);
    this.textsBySymbol.delete(symbol);
  }

  /** The symbol's level texts, made on first use. */
  protected textsOf(symbol: string): LevelTexts {
    let texts = this.textsBySymbol.get(symbol);
    if (texts === undefined) this.textsBySymbol.set(symbol, (texts = new LevelTexts()));
    return texts;
  }

  /** Forgets the symbol's texts (its book lost sync), keeping the entry. */
  protected clearTexts(symbol: string): void {
    this.textsBySymbol.get(symbol)?.clear();
  }
}
