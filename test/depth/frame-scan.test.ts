/**
 * scanFrame (server/depth/frame-scan.ts) against JSON.parse: the depth parsers read level sides with the
 * scanner and fall back to JSON.parse when it declines, so (1) whatever it reads must be what JSON.parse +
 * num() would give, and (2) every venue's depth parser must hand over the same books, resyncs, outcomes
 * and error counters with the scanner on and off: on every depth fixture and on seeded damaged frames
 * (test/helpers/mutate.ts, plus level values chosen to hit the scanner's number fast path edges).
 */
import { readdirSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { num, type InstrumentMeta } from '../../server/feeds/adapter.js';
import { ScannedLevels, ScannedObjectLevels, scanFrame, type ScanKeys } from '../../server/depth/frame-scan.js';
import { JsonDepthParser } from '../../server/depth/parser-base.js';
import { L2Book } from '../../server/depth/l2-book.js';
import { LevelTexts } from '../../server/depth/level-texts.js';
import type { DepthBook, DepthParser, DepthResyncReason, DepthSink } from '../../server/depth/types.js';
import { VENUES } from '../../server/venues/index.js';
import { CASES, metaTable } from '../venues/cases.js';
import { fixture } from '../feeds/helpers.js';
import { mutate } from '../helpers/mutate.js';
import { mulberry32 } from '../helpers/random.js';

const KEYS: ScanKeys = { pairs: new Set(['b', 'a', 'bids', 'asks']), objects: { key: 'levels', price: 'px', size: 'sz' } };
const LEVELS = 20;
const REST_SNAPSHOT = 'depth-snapshot-rest.json';

/** Level values around the number fast path's edges (≤ 15 digits, plain decimals) and num()'s refusals. */
const TRICKY = ['"0.10"', '"1e-3"', '"-0"', '"007"', '"00.5"', '"1.2345678901234567"', '"123456789012345"', '"1234567890123456"', '"9007199254740993"', '0.1', '1E2', '-0', '0', '"0"', '"0.000"', '" 1"', '"1."', '".5"', '"0x1A"', '"Infinity"', '1e400', '"1e400"', '"1,5"', '["1","2"]', '{"px":"1"}', '"\\u0031"', 'true', 'null', '"0.30000000000000004"', '"4.35"', '"2.675"', '"1.005"'];

function depthFrames(ex: string): string[] {
  const dir = fileURLToPath(new URL(`../fixtures/${ex}/`, import.meta.url));
  return readdirSync(dir)
    .filter((f) => /^depth.*\.json$/.test(f) && f !== REST_SNAPSHOT)
    .sort()
    .map((f) => fixture(ex as never, f));
}

/** Replaces one level token (a quoted decimal or a number inside a level array) with a TRICKY value. */
function trickyLevel(frame: string, rnd: () => number): string {
  const tokens = [...frame.matchAll(/(?<=[[,{:])(?:"-?[0-9.]+"|-?[0-9.]+)(?=[,\]}])/g)];
  if (tokens.length === 0) return frame;
  const m = tokens[Math.floor(rnd() * tokens.length)]!;
  return frame.slice(0, m.index) + TRICKY[Math.floor(rnd() * TRICKY.length)] + frame.slice(m.index! + m[0].length);
}

const isScalar = (v: unknown) => typeof v === 'string' || typeof v === 'number';

/** JSON.parse's value with the level keys' values in the form the scanner gives them (or as is when it would decline). */
function normalizeJson(v: unknown, key: string | null): unknown {
  if (Array.isArray(v)) {
    if (key !== null && KEYS.pairs!.has(key) && v.every((l) => Array.isArray(l) && l.length >= 2 && l.every(isScalar))) {
      const levels = v as Array<Array<string | number>>;
      return { flat: levels.flatMap((l) => [num(l[0]), num(l[1])]), texts: levels.map((l) => `${String(l[0])}:${String(l[1])}`) };
    }
    const flatObject = (o: unknown) => typeof o === 'object' && o !== null && !Array.isArray(o) && Object.values(o).every((x) => x === null || typeof x !== 'object');
    if (key === 'levels' && v.every((side) => Array.isArray(side) && side.every(flatObject))) {
      return v.map((side: Array<Record<string, unknown>>) => ({ objects: side.flatMap((o) => [num(o.px), num(o.sz)]) }));
    }
    return v.map((x) => normalizeJson(x, null));
  }
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalizeJson(x, k)]));
  return v;
}

function normalizeScanned(v: unknown): unknown {
  if (v instanceof ScannedLevels) return { flat: v.flat, texts: Array.from({ length: v.length }, (_, i) => `${v.text(i, 0)}:${v.text(i, 1)}`) };
  if (v instanceof ScannedObjectLevels) return { objects: v.flat };
  if (Array.isArray(v)) return v.map(normalizeScanned);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalizeScanned(x)]));
  return v;
}

function jsonOrUndefined(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

/** Everything a parser tells its sink, in order. */
class RecordingSink implements DepthSink {
  readonly events: unknown[] = [];
  book(meta: InstrumentMeta, b: DepthBook): void {
    this.events.push(['book', meta.symbol, [...b.bids.prices], [...b.bids.sizes], [...b.asks.prices], [...b.asks.sizes], b.exchangeTsMs]);
  }
  resync(meta: InstrumentMeta, reason: DepthResyncReason): void {
    this.events.push(['resync', meta.symbol, reason]);
  }
  snapshotNeeded(meta: InstrumentMeta): void {
    this.events.push(['snapshotNeeded', meta.symbol]);
  }
}

const cases = CASES.flatMap(([ex, c]) => {
  const depth = VENUES[ex].adapter.depth;
  return depth ? [{ ex, depth, meta: () => metaTable(ex, c.meta), frames: depthFrames(ex) }] : [];
});

describe('scanFrame reads what JSON.parse reads', () => {
  it('level sides as num() and String() of each level, other values as JSON.parse; declines escapes, __proto__ and bad JSON', () => {
    const frame = '{"t":1, "d":{"b":[["1.50","2",3],[0.25 ,7e1]],"a":[],"x":[["1","2"]],"levels":[[{"px":"2.5","sz":"3","n":1}],[]]},"s":"a\u00e9"}';
    const o = scanFrame(frame, KEYS)!;
    expect(normalizeScanned(o)).toEqual(normalizeJson(JSON.parse(frame), null));
    const d = o.d as Record<string, unknown>;
    expect(d.b).toBeInstanceOf(ScannedLevels);
    expect((d.b as ScannedLevels).flat).toEqual([1.5, 2, 0.25, 70]);
    expect((d.b as ScannedLevels).text(0, 0)).toBe('1.50'); // as sent: a checksum covers the wire text
    expect((d.b as ScannedLevels).text(1, 1)).toBe('70'); // String() of the JSON number, as JSON.parse + String
    expect(d.x).toEqual([['1', '2']]); // not a level key: plain JSON
    expect((d.levels as unknown[])[0]).toBeInstanceOf(ScannedObjectLevels);
    expect(scanFrame('{"s":"a\\"b"}', KEYS)).toBeNull();
    expect(scanFrame('{"__proto__":{"x":1}}', KEYS)).toBeNull();
    expect(scanFrame('{"b":[["1","2"]]', KEYS)).toBeNull();
    expect(scanFrame('{"b":[["1","2"]]} x', KEYS)).toBeNull();
    expect(scanFrame('[1]', KEYS)).toBeNull();
    // A level side of another shape is plain JSON (readLevels then judges it as before).
    expect((scanFrame('{"b":[["1"],["2","3"]]}', KEYS)!.b as unknown[]).length).toBe(2);
  });

  it('on every depth fixture and 20,000 seeded damaged frames: never reads a frame JSON.parse refuses, and reads the same values', () => {
    const rnd = mulberry32(0x5ca7);
    const all = cases.flatMap((c) => c.frames);
    let read = 0;
    for (let i = 0; i < 20_000 + all.length; i++) {
      const base = all[i % all.length]!;
      const frame = i < all.length ? base : rnd() < 0.5 ? mutate(base, rnd) : trickyLevel(base, rnd);
      const scanned = scanFrame(frame, KEYS);
      if (scanned === null) continue;
      read++;
      const parsed = jsonOrUndefined(frame);
      expect(parsed, frame).not.toBeUndefined();
      expect(normalizeScanned(scanned), frame).toEqual(normalizeJson(parsed, null));
    }
    expect(read).toBeGreaterThan(5_000); // not vacuous: most frames take the scanner
  });
});

describe('depth parsers: identical with the frame scanner on and off (differential, seeded)', () => {
  for (const c of cases) {
    it(`${c.ex}: same outcomes, books, resyncs and error counters on its fixtures and 20,000 damaged frames`, { timeout: 120_000 }, () => {
      const fast = c.depth.createParser(c.meta(), LEVELS);
      const slow = c.depth.createParser(c.meta(), LEVELS);
      if (!(fast instanceof JsonDepthParser) || !(slow instanceof JsonDepthParser)) throw new Error(`${c.ex}: not a JsonDepthParser`);
      slow.useFrameScan = false;
      const applyRest = (p: DepthParser, sink: DepthSink, body: unknown) => p.applySnapshot!(meta, body, sink);
      expect((fast as unknown as { scanKeys: ScanKeys | null }).scanKeys, `${c.ex} reads levels with the scanner`).not.toBeNull();
      const fastSink = new RecordingSink();
      const slowSink = new RecordingSink();
      const rnd = mulberry32(0xd1ff + c.ex.length);
      const meta = c.meta().values().next().value!;
      const rest = c.depth.snapshotUrl !== undefined ? jsonOrUndefined(fixture(c.ex, REST_SNAPSHOT)) : undefined;
      let books = 0;
      for (let i = 0; i < 20_000 + c.frames.length; i++) {
        const base = c.frames[i % c.frames.length]!;
        // Every 4th frame undamaged so books stay in sync and damaged deltas meet live books.
        const frame = i < c.frames.length || i % 4 === 0 ? base : rnd() < 0.6 ? mutate(base, rnd) : trickyLevel(base, rnd);
        const a = fast.parse(frame, fastSink);
        const b = slow.parse(frame, slowSink);
        if (rest !== undefined && i % 10 === 0) {
          applyRest(fast, fastSink, rest);
          applyRest(slow, slowSink, rest);
        }
        if (a !== b || fastSink.events.length !== slowSink.events.length) expect({ frame, outcome: a, events: fastSink.events.slice(-3) }).toEqual({ frame, outcome: b, events: slowSink.events.slice(-3) });
      }
      expect(fastSink.events).toEqual(slowSink.events);
      expect(fast.errors).toEqual(slow.errors);
      expect(fast.resyncs).toEqual(slow.resyncs);
      for (const e of fastSink.events) if ((e as unknown[])[0] === 'book') books++;
      expect(books).toBeGreaterThan(500); // not vacuous: books were built and handed over
      expect(Object.keys(fast.errors).length).toBeGreaterThan(0); // and damage was refused
    });
  }
});

describe('LevelTexts.interleavedCrc32', () => {
  it('equals zlib crc32 of interleaved() as a signed int: seeded books of 0–30 levels a side, texts as sent, missing texts, one non-ASCII text, one 40-byte text', () => {
    const rnd = mulberry32(0xc2c3);
    for (let n = 0; n < 500; n++) {
      const book = new L2Book();
      const texts = new LevelTexts();
      const nb = Math.floor(rnd() * 31);
      const na = Math.floor(rnd() * 31);
      const digits = () => (rnd() < 0.5 ? '0' : '') + String(Math.floor(rnd() * 1000));
      const bids: number[] = [];
      const asks: number[] = [];
      const bidTexts: string[][] = [];
      const askTexts: string[][] = [];
      for (let i = 0; i < nb; i++) {
        bids.push(100 - i, 1 + i);
        bidTexts.push([`${100 - i}.${digits()}`, n === 7 && i === 3 ? 'é1' : digits()]);
      }
      for (let i = 0; i < na; i++) {
        asks.push(101 + i, 1 + i);
        askTexts.push([`${101 + i}.0`, n === 9 && i === 0 ? '1234567890123456789012345678901234' : digits()]);
      }
      book.bids.replace(bids);
      book.asks.replace(asks);
      texts.keep('bid', bids, bidTexts);
      texts.keep('ask', asks, askTexts);
      if (n % 5 === 0 && nb > 2) texts.bids.delete(bids[2]!); // a price without a text counts as ""
      for (const depth of [25, 5]) expect(texts.interleavedCrc32(book, depth)).toBe(crc32(texts.interleaved(book, depth)) | 0);
    }
  });
});
