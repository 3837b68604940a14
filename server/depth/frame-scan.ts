/**
 * A depth frame read without JSON.parse making an array and two strings per level: most of a depth
 * parser's CPU was JSON.parse of level arrays (bench/depth). scanFrame reads a frame's JSON text itself and
 * builds the same object JSON.parse would, except that the value of each named level key is read
 * straight into numbers: `[[price, size, ...], ...]` sides into ScannedLevels, `[[{…}, …], [{…}, …]]`
 * (per-side arrays of level objects) into ScannedObjectLevels. Numbers are exactly num()'s (adapter.ts).
 *
 * Safety: the scanner accepts only a strict subset of JSON (no string escapes, no `__proto__` key, a level
 * value of any other shape is read as plain JSON) and answers null on anything else; the caller then
 * uses JSON.parse, so a frame the scanner cannot read exactly is handled as before (same rejections and
 * counters). test/depth/frame-scan.test.ts compares both paths on every depth fixture and mutated frames.
 */
import { num } from '../feeds/adapter.js';

/** One side's `[[price, size, ...], ...]` levels (every level an array of ≥ 2 strings or numbers). */
export class ScannedLevels {
  constructor(
    private readonly raw: string,
    /** num(level[0]), num(level[1]) per level: NaN where num() answers NaN. */
    readonly flat: number[],
    /** Start and end offsets in `raw` of each level's first two tokens (quotes included). */
    private readonly spans: number[],
  ) {}

  get length(): number {
    return this.flat.length >> 1;
  }

  /** `String(level[i][j])` of the JSON.parse'd level (j: 0 = price, 1 = size). */
  text(i: number, j: number): string {
    const k = 4 * i + 2 * j;
    const start = this.spans[k]!;
    const end = this.spans[k + 1]!;
    if (this.raw.charCodeAt(start) !== QUOTE) return String(Number(this.raw.slice(start, end)));
    // V8 makes a slice of 13+ characters a view that keeps the whole frame alive, and a text may be kept
    // for as long as its level lives: copy those (JSON.parse of the escape-free literal makes a flat string).
    return end - start - 2 < 13 ? this.raw.slice(start + 1, end - 1) : (JSON.parse(this.raw.slice(start, end)) as string);
  }
}

/** One side's level objects: num() of the price and size keys' values per level (NaN when absent or not numeric). */
export class ScannedObjectLevels {
  constructor(readonly flat: number[]) {}
  get length(): number {
    return this.flat.length >> 1;
  }
}

/** Which keys hold levels, wherever they occur in the frame. */
export interface ScanKeys {
  /** Keys whose value is a `[[price, size, ...], ...]` side. */
  readonly pairs?: ReadonlySet<string>;
  /** A key whose value is an array of sides of level objects, and the level objects' price and size keys. */
  readonly objects?: { readonly key: string; readonly price: string; readonly size: string };
}

const QUOTE = 34;
const BACKSLASH = 92;
/** Thrown (never escapes scanFrame) when the text is outside the subset read here. */
const BAIL = new Error('frame-scan: not read here');
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];

class Scanner {
  i = 0;
  constructor(
    private readonly s: string,
    private readonly keys: ScanKeys,
  ) {}

  ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
    this.i = i;
  }

  expect(c: number): void {
    if (this.s.charCodeAt(this.i) !== c) throw BAIL;
    this.i++;
  }

  /** The end offset (after the closing quote) of the string starting at `this.i`; no escapes. */
  stringEnd(): number {
    const s = this.s;
    let i = this.i + 1;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === QUOTE) return i + 1;
      if (c === BACKSLASH || c < 32 || Number.isNaN(c)) throw BAIL; // escape, control char or end of text
      i++;
    }
  }

  /** The end offset of the JSON number starting at `this.i` (strict JSON grammar). */
  numberEnd(): number {
    const s = this.s;
    let i = this.i;
    if (s.charCodeAt(i) === 45) i++;
    let c = s.charCodeAt(i);
    if (c === 48) c = s.charCodeAt(++i);
    else if (c >= 49 && c <= 57) {
      do c = s.charCodeAt(++i);
      while (c >= 48 && c <= 57);
    } else throw BAIL;
    if (c === 46) {
      c = s.charCodeAt(++i);
      if (!(c >= 48 && c <= 57)) throw BAIL;
      do c = s.charCodeAt(++i);
      while (c >= 48 && c <= 57);
    }
    if (c === 101 || c === 69) {
      c = s.charCodeAt(++i);
      if (c === 43 || c === 45) c = s.charCodeAt(++i);
      if (!(c >= 48 && c <= 57)) throw BAIL;
      do c = s.charCodeAt(++i);
      while (c >= 48 && c <= 57);
    }
    return i;
  }

  value(key: string | null): unknown {
    this.ws();
    const s = this.s;
    const c = s.charCodeAt(this.i);
    if (c === 123) return this.object();
    if (c === 91) {
      if (key !== null) {
        if (this.keys.pairs?.has(key) === true) {
          const levels = this.pairLevels();
          if (levels !== null) return levels;
        } else if (this.keys.objects !== undefined && key === this.keys.objects.key) {
          const sides = this.objectSides();
          if (sides !== null) return sides;
        }
      }
      return this.array();
    }
    if (c === QUOTE) {
      const end = this.stringEnd();
      const v = s.slice(this.i + 1, end - 1);
      this.i = end;
      return v;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      const end = this.numberEnd();
      const v = Number(s.slice(this.i, end));
      this.i = end;
      return v;
    }
    if (s.startsWith('true', this.i)) return this.literal(4, true);
    if (s.startsWith('false', this.i)) return this.literal(5, false);
    if (s.startsWith('null', this.i)) return this.literal(4, null);
    throw BAIL;
  }

  literal<T>(len: number, v: T): T {
    this.i += len;
    return v;
  }

  key(): string {
    this.ws();
    if (this.s.charCodeAt(this.i) !== QUOTE) throw BAIL;
    const end = this.stringEnd();
    const k = this.s.slice(this.i + 1, end - 1);
    if (k === '__proto__') throw BAIL; // JSON.parse makes it an own property; assignment would not
    this.i = end;
    this.ws();
    this.expect(58);
    return k;
  }

  object(): Record<string, unknown> {
    this.i++;
    const o: Record<string, unknown> = {};
    this.ws();
    if (this.s.charCodeAt(this.i) === 125) {
      this.i++;
      return o;
    }
    for (;;) {
      const k = this.key();
      o[k] = this.value(k);
      this.ws();
      const c = this.s.charCodeAt(this.i++);
      if (c === 125) return o;
      if (c !== 44) throw BAIL;
    }
  }

  array(): unknown[] {
    this.i++;
    const a: unknown[] = [];
    this.ws();
    if (this.s.charCodeAt(this.i) === 93) {
      this.i++;
      return a;
    }
    for (;;) {
      a.push(this.value(null));
      this.ws();
      const c = this.s.charCodeAt(this.i++);
      if (c === 93) return a;
      if (c !== 44) throw BAIL;
    }
  }

  /**
   * num() of the string or number token at `this.i` (moved past it). Plain decimals of ≤ 15 digits are
   * m / 10^k with both exact doubles: one correctly rounded division, equal to Number() of the text.
   */
  scalarNum(): number {
    const s = this.s;
    const start = this.i;
    const quoted = s.charCodeAt(start) === QUOTE;
    // Fast path in one pass: digits with at most one inner '.', 1 to 15 digits, then the closing quote
    // (quoted) or a delimiter (a bare JSON number: a leading 0 must be alone before '.' or the end).
    let j = quoted ? start + 1 : start;
    let m = 0;
    let frac = -1;
    let digits = 0;
    for (;; j++) {
      const c = s.charCodeAt(j);
      if (c >= 48 && c <= 57) {
        m = m * 10 + (c - 48);
        digits++;
        if (frac >= 0) frac++;
      } else if (c === 46 && frac < 0 && digits > 0) frac = 0;
      else {
        if (quoted ? c !== QUOTE : c === 101 || c === 69) return this.scalarSlow(start); // an exponent, or anything else in a string
        break;
      }
    }
    if (digits === 0 || digits > 15 || frac === 0) return this.scalarSlow(start);
    if (!quoted && s.charCodeAt(start) === 48 && digits > 1 && s.charCodeAt(start + 1) !== 46) return this.scalarSlow(start); // "01": not JSON
    this.i = quoted ? j + 1 : j;
    return frac > 0 ? m / POW10[frac]! : m;
  }

  /** scalarNum's general case: the token's exact num() (strict JSON grammar for bare numbers). */
  scalarSlow(start: number): number {
    const s = this.s;
    this.i = start;
    if (s.charCodeAt(start) === QUOTE) {
      const end = this.stringEnd();
      this.i = end;
      return num(s.slice(start + 1, end - 1));
    }
    const c = s.charCodeAt(start);
    if (!(c === 45 || (c >= 48 && c <= 57))) throw BAIL; // true/false/null/object/array: not a pair level
    const end = this.numberEnd();
    this.i = end;
    return num(Number(s.slice(start, end)));
  }

  /** A `[[scalar, scalar, ...], ...]` side, or null (position restored) when the value has any other shape. */
  pairLevels(): ScannedLevels | null {
    const start = this.i;
    const s = this.s;
    const flat: number[] = [];
    const spans: number[] = [];
    try {
      this.i++;
      this.ws();
      if (s.charCodeAt(this.i) === 93) {
        this.i++;
        return new ScannedLevels(s, flat, spans);
      }
      for (;;) {
        this.ws();
        this.expect(91);
        this.ws();
        let a = this.i;
        flat.push(this.scalarNum());
        spans.push(a, this.i);
        this.ws();
        this.expect(44);
        this.ws();
        a = this.i;
        flat.push(this.scalarNum());
        spans.push(a, this.i);
        this.ws();
        while (s.charCodeAt(this.i) === 44) {
          this.i++;
          this.ws();
          this.scalarNum(); // further fields (order counts…): read for validity, not kept
          this.ws();
        }
        this.expect(93);
        this.ws();
        const c = s.charCodeAt(this.i++);
        if (c === 93) return new ScannedLevels(s, flat, spans);
        if (c !== 44) throw BAIL;
      }
    } catch (e) {
      if (e !== BAIL) throw e;
      this.i = start;
      return null;
    }
  }

  /** An array of sides of flat level objects (scalar values only), or null (position restored). */
  objectSides(): ScannedObjectLevels[] | null {
    const start = this.i;
    const s = this.s;
    const { price, size } = this.keys.objects!;
    const sides: ScannedObjectLevels[] = [];
    try {
      this.i++;
      this.ws();
      if (s.charCodeAt(this.i) === 93) {
        this.i++;
        return sides;
      }
      for (;;) {
        this.ws();
        this.expect(91);
        const flat: number[] = [];
        this.ws();
        if (s.charCodeAt(this.i) === 93) this.i++;
        else
          for (;;) {
            this.ws();
            this.expect(123);
            let p = Number.NaN;
            let z = Number.NaN;
            this.ws();
            if (s.charCodeAt(this.i) === 125) this.i++;
            else
              for (;;) {
                // The key compared in place (no string made per key: three keys a level, 40 levels a frame).
                this.ws();
                if (s.charCodeAt(this.i) !== QUOTE) throw BAIL;
                const keyStart = this.i + 1;
                const keyEnd = this.stringEnd() - 1;
                const isPrice = keyEnd - keyStart === price.length && s.startsWith(price, keyStart);
                const isSize = !isPrice && keyEnd - keyStart === size.length && s.startsWith(size, keyStart);
                this.i = keyEnd + 1;
                this.ws();
                this.expect(58);
                this.ws();
                const c = s.charCodeAt(this.i);
                let v: number;
                if (c === QUOTE || c === 45 || (c >= 48 && c <= 57)) v = this.scalarNum();
                else {
                  const other = this.value(null); // true / false / null (num() → NaN); objects and arrays bail
                  if (typeof other === 'object' && other !== null) throw BAIL;
                  v = Number.NaN;
                }
                if (isPrice) p = v;
                else if (isSize) z = v;
                this.ws();
                const d = s.charCodeAt(this.i++);
                if (d === 125) break;
                if (d !== 44) throw BAIL;
              }
            flat.push(p, z);
            this.ws();
            const c = s.charCodeAt(this.i++);
            if (c === 93) break;
            if (c !== 44) throw BAIL;
          }
        sides.push(new ScannedObjectLevels(flat));
        this.ws();
        const c = s.charCodeAt(this.i++);
        if (c === 93) return sides;
        if (c !== 44) throw BAIL;
      }
    } catch (e) {
      if (e !== BAIL) throw e;
      this.i = start;
      return null;
    }
  }
}

/**
 * The frame's top-level object with the level keys' values scanned, or null when the text is not an
 * object this scanner reads exactly (the caller falls back to JSON.parse).
 */
export function scanFrame(raw: string, keys: ScanKeys): Record<string, unknown> | null {
  if (raw.charCodeAt(0) !== 123) return null;
  const sc = new Scanner(raw, keys);
  try {
    const o = sc.object();
    sc.ws();
    return sc.i === raw.length ? o : null;
  } catch {
    return null; // BAIL, or a RangeError from very deep nesting: JSON.parse decides
  }
}
