/** Frame damage for the fuzz tests (seeded through `rnd`, so a failing case can be replayed). */

const NASTY = ['"', '{', '}', '[', ']', ',', ':', '\\', '-', '.', 'e', '0', '9', ' ', '\u0000', 'x', 'null', '"1e999"', '""', '-1'];

const stringValues = new Map<string, RegExpMatchArray[]>();
const numberValues = new Map<string, RegExpMatchArray[]>();
function cached(cache: Map<string, RegExpMatchArray[]>, frame: string, re: RegExp): RegExpMatchArray[] {
  let v = cache.get(frame);
  if (v === undefined) cache.set(frame, (v = [...frame.matchAll(re)]));
  return v;
}

/** One damaged copy of `frame`: truncated, a byte flipped, deleted or inserted, a string or number value replaced. */
export function mutate(frame: string, rnd: () => number): string {
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  const at = Math.floor(rnd() * frame.length);
  switch (Math.floor(rnd() * 6)) {
    case 0:
      return frame.slice(0, at); // truncated
    case 1:
      return frame.slice(0, at) + String.fromCharCode(32 + Math.floor(rnd() * 95)) + frame.slice(at + 1); // byte flip
    case 2:
      return frame.slice(0, at) + frame.slice(at + 1); // deletion
    case 3:
      return frame.slice(0, at) + pick(NASTY) + frame.slice(at); // insertion
    case 4: {
      // replace one string value with garbage
      const values = cached(stringValues, frame, /:"([^"]*)"/g);
      if (values.length === 0) return frame.slice(0, at);
      const m = pick(values);
      const start = m.index! + 2;
      return frame.slice(0, start) + pick(['', 'abc', '-0', '1e999', 'NaN', '0x10', ' 1', '1.2.3', '99999999999999999999']) + frame.slice(start + m[1].length);
    }
    default: {
      // replace one number value with something else
      const nums = cached(numberValues, frame, /:(-?\d+(?:\.\d+)?)/g);
      if (nums.length === 0) return frame.slice(0, at);
      const m = pick(nums);
      const start = m.index! + 1;
      return frame.slice(0, start) + pick(['"x"', 'null', 'true', '[]', '{}', '1e3', '-5', '1.5']) + frame.slice(start + m[1].length);
    }
  }
}

/** Whether a (damaged) frame still parses as JSON: one that does not must be counted as a parse error. */
export function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}
