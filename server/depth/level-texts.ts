/**
 * The wire text `price:size` of each level of one book, by price, for venues whose checksum is a CRC32 of
 * the best levels exactly as sent ("0.10" ≠ "0.1"): kept as deltas arrive, read back best-first.
 */
import { crc32 } from 'node:zlib';
import type { L2Book } from './l2-book.js';
import { JsonDepthParser, type FlatLevels } from './parser-base.js';
import { ScannedLevels } from './frame-scan.js';

/**
 * One level's text and its CRC-32 parts, computed once when the level arrives (a frame changes a few
 * levels, the checksum covers 50): `raw` is the CRC of the text from a zero register (no conditioning),
 * `rawColon` the same for `:` + text; -1 length = not ASCII (the checksum then goes through zlib).
 */
export class LevelText {
  readonly raw: number;
  readonly rawColon: number;
  readonly bytes: number;
  constructor(readonly text: string) {
    let c = 0;
    let ascii = true;
    for (let k = 0; k < text.length; k++) {
      const b = text.charCodeAt(k);
      if (b > 127) ascii = false;
      c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
    }
    this.raw = c;
    this.rawColon = shiftCrc(COLON_RAW, text.length) ^ c;
    this.bytes = ascii ? text.length : -1;
  }
}

export class LevelTexts {
  readonly bids = new Map<number, LevelText>();
  readonly asks = new Map<number, LevelText>();

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
      else if (levels instanceof ScannedLevels) texts.set(price, new LevelText(`${levels.text(i, 0)}:${levels.text(i, 1)}`));
      else texts.set(price, new LevelText(`${String(levels[i]![0])}:${String(levels[i]![1])}`));
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
        const t = this.bids.get(bp[i]!)?.text ?? '';
        out = first ? t : `${out}:${t}`;
        first = false;
      }
      if (i < na) {
        const t = this.asks.get(ap[i]!)?.text ?? '';
        out = first ? t : `${out}:${t}`;
        first = false;
      }
    }
    return out;
  }

  /**
   * CRC32 (as a signed 32-bit integer) of `interleaved(book, depth)` without building the string: the
   * register is advanced over each text's length (shiftCrc) and xored with the text's own CRC (LevelText),
   * which is what running the bytes through it gives (CRC is linear). A non-ASCII text goes through zlib.
   */
  interleavedCrc32(book: L2Book, depth: number): number {
    const bp = book.bids.prices;
    const ap = book.asks.prices;
    const nb = Math.min(depth, bp.length);
    const na = Math.min(depth, ap.length);
    let crc = -1;
    let first = true;
    for (let i = 0; i < nb || i < na; i++) {
      for (let side = 0; side < 2; side++) {
        if (side === 0 ? i >= nb : i >= na) continue;
        const t = side === 0 ? this.bids.get(bp[i]!) : this.asks.get(ap[i]!);
        if (t === undefined) {
          if (!first) crc = shiftCrc(crc, 1) ^ COLON_RAW; // a price without a text counts as ""
        } else if (t.bytes < 0) return crc32(this.interleaved(book, depth)) | 0;
        else crc = first ? shiftCrc(crc, t.bytes) ^ t.raw : shiftCrc(crc, t.bytes + 1) ^ t.rawColon;
        first = false;
      }
    }
    return ~crc | 0;
  }
}

/** The CRC-32 (IEEE, as zlib) byte table. */
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** Zero bytes one shift table covers; longer runs apply it repeatedly. */
const SHIFT_MAX = 32;
/**
 * SHIFT[n][256·k + v]: the register `v << 8k` after n zero bytes. A register after n zero bytes is the xor
 * of its four bytes' entries (linear), so a text's length costs four lookups instead of a loop per byte.
 */
const SHIFT: Int32Array[] = (() => {
  const tables: Int32Array[] = [new Int32Array(1024)];
  for (let k = 0; k < 4; k++) for (let v = 0; v < 256; v++) tables[0]![256 * k + v] = v << (8 * k);
  for (let n = 1; n <= SHIFT_MAX; n++) {
    const prev = tables[n - 1]!;
    const t = new Int32Array(1024);
    for (let e = 0; e < 1024; e++) {
      const c = prev[e]!;
      t[e] = CRC_TABLE[c & 0xff]! ^ (c >>> 8);
    }
    tables.push(t);
  }
  return tables;
})();

/** The register `crc` after `n` zero bytes. */
function shiftCrc(crc: number, n: number): number {
  let c = crc;
  while (n > 0) {
    const t = SHIFT[n > SHIFT_MAX ? SHIFT_MAX : n]!;
    c = t[c & 0xff]! ^ t[256 + ((c >>> 8) & 0xff)]! ^ t[512 + ((c >>> 16) & 0xff)]! ^ t[768 + (c >>> 24)]!;
    n -= SHIFT_MAX;
  }
  return c;
}

/** The CRC of ":" from a zero register. */
const COLON_RAW = CRC_TABLE[58]!;

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
