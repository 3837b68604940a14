/**
 * Fuzz: 100,000 mutated or truncated frames per adapter (seeded, reproducible). No exception may
 * escape; every frame is accounted for (rejected frames counted exactly once); whatever is emitted is
 * sane. Bybit's fast scan is checked against its JSON.parse path: a damaged frame is either rejected
 * or yields exactly what the JSON path reads (from the damaged frame when it is still JSON, else from
 * the undamaged original: the damage was in a field we do not read).
 */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import type { ParseOutcome, VenueParser } from '../../server/feeds/adapter.js';
import { isEpochMs } from '../../server/feeds/adapter.js';
import { BinanceParser } from '../../server/feeds/binance.js';
import { BybitParser } from '../../server/feeds/bybit.js';
import { KucoinParser } from '../../server/feeds/kucoin.js';
import { OkxParser } from '../../server/feeds/okx.js';
import { CollectingSink, type Update, fixture, table, totalErrors } from './helpers.js';

const N = 100_000;
const OUTCOMES: ParseOutcome[] = ['data', 'ack', 'pong', 'welcome', 'ignored', 'venue_error', 'reconnect_notice', 'rejected'];
const NASTY = ['"', '{', '}', '[', ']', ',', ':', '\\', '-', '.', 'e', '0', '9', ' ', '\u0000', 'x', 'null', '"1e999"', '""', '-1'];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(frame: string, rnd: () => number): string {
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
      const values = [...frame.matchAll(/:"([^"]*)"/g)];
      if (values.length === 0) return frame.slice(0, at);
      const m = pick(values);
      const start = m.index! + 2;
      return frame.slice(0, start) + pick(['', 'abc', '-0', '1e999', 'NaN', '0x10', ' 1', '1.2.3', '99999999999999999999']) + frame.slice(start + m[1].length);
    }
    default: {
      // replace one number value with something else
      const nums = [...frame.matchAll(/:(-?\d+(?:\.\d+)?)/g)];
      if (nums.length === 0) return frame.slice(0, at);
      const m = pick(nums);
      const start = m.index! + 1;
      return frame.slice(0, start) + pick(['"x"', 'null', 'true', '[]', '{}', '1e3', '-5', '1.5']) + frame.slice(start + m[1].length);
    }
  }
}

function assertSane(updates: Update[]): void {
  for (const u of updates) {
    expect(isEpochMs(u.ts)).toBe(true);
    if (u.kind === 'quote') {
      expect(u.bid > 0 && u.ask > 0 && u.bidSize >= 0 && u.askSize >= 0).toBe(true);
      expect(Number.isFinite(u.bid + u.ask + u.bidSize + u.askSize)).toBe(true);
    } else {
      expect(Number.isFinite(u.rate)).toBe(true);
      expect(u.intervalMs > 0 && isEpochMs(u.nextFundingMs)).toBe(true);
    }
  }
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

interface Case {
  exchange: Exchange;
  frames: string[];
  make: () => VenueParser;
  /** Frames fed (unmutated) before each mutated one, e.g. the snapshot a delta merges into. */
  prime?: string[];
}

const cases: Case[] = [
  {
    exchange: 'okx',
    frames: ['tickers.json', 'bbo-tbt.json', 'funding-rate.json', 'funding-rate-old.json', 'ack.json', 'error.json', 'notice.json'].map((f) => fixture('okx', f)),
    make: () => new OkxParser(table('okx', [{ symbol: 'BTC-USDT-SWAP', base: 'BTC', contractValue: 0.01 }, { symbol: 'WNCG-USDT-SWAP', base: 'WNCG', contractValue: 10 }])),
  },
  {
    exchange: 'kucoin',
    frames: ['tickerV2.json', 'tickerV2-xbt.json', 'funding.json', 'funding-predicted.json', 'mark.json', 'welcome.json', 'ack.json', 'error.json'].map((f) => fixture('kucoin', f)),
    make: () =>
      new KucoinParser(table('kucoin', [{ symbol: 'XBTUSDTM', base: 'XBT', contractValue: 0.001, nextFundingMs: 1706083200000 }, { symbol: 'AUCTIONUSDTM', base: 'AUCTION', contractValue: 0.1, nextFundingMs: 1706083200000 }])),
  },
  {
    exchange: 'binance',
    frames: ['bookTicker.json', 'markPrice.json', 'markPrice-4h.json', 'ack.json', 'error.json'].map((f) => fixture('binance', f)),
    make: () => new BinanceParser(table('binance', [{ symbol: 'BTCUSDT', base: 'BTC' }, { symbol: 'SOLUSDT', base: 'SOL' }])),
  },
];

describe('fuzz: 100,000 damaged frames per adapter', () => {
  for (const c of cases) {
    it(`${c.exchange}: no exception escapes, every bad frame is counted`, () => {
      const rnd = mulberry32(0x5eed + c.exchange.length);
      const p = c.make();
      const sink = new CollectingSink();
      let rejected = 0;
      let venueErrors = 0;
      for (let i = 0; i < N; i++) {
        const m = mutate(c.frames[i % c.frames.length], rnd);
        const before = totalErrors(p.errors);
        let outcome: ParseOutcome;
        try {
          outcome = p.parse(m, sink);
        } catch (e) {
          throw new Error(`parse threw on ${JSON.stringify(m)}: ${(e as Error).message}`);
        }
        expect(OUTCOMES).toContain(outcome);
        const added = totalErrors(p.errors) - before;
        if (outcome === 'rejected') rejected++;
        if (outcome === 'venue_error') venueErrors++;
        expect(added).toBe(outcome === 'rejected' || outcome === 'venue_error' ? 1 : 0);
        // Invalid JSON can never pass (OKX's bare `pong` is the only non-JSON frame a venue sends).
        if (!isJson(m) && m !== 'pong') expect(outcome).toBe('rejected');
        const updates = sink.take();
        if (outcome !== 'data') expect(updates).toEqual([]);
        assertSane(updates);
      }
      expect(totalErrors(p.errors)).toBe(rejected + venueErrors);
      expect(rejected).toBeGreaterThan(N / 3);
    });
  }

  it('bybit: the fast scan never accepts what the JSON path would read differently', () => {
    const meta = () => table('bybit', [{ symbol: 'BTCUSDT', base: 'BTC' }, { symbol: 'ETHUSDT', base: 'ETH' }]);
    const snapshot = fixture('bybit', 'snapshot.json');
    const frames = ['snapshot.json', 'delta.json', 'delta-funding.json', 'delta-no-quote.json', 'snapshot-newer.json', 'ack.json', 'pong.json', 'error.json'].map((f) => fixture('bybit', f));
    const fast = new BybitParser(meta());
    const ref = new BybitParser(meta(), { fastPath: false });
    const rnd = mulberry32(0xb1b1);
    const sink = new CollectingSink();
    const run = (p: BybitParser, frame: string): { outcome: ParseOutcome; updates: Update[] } => {
      p.reset();
      p.parse(snapshot, sink);
      sink.take();
      const outcome = p.parse(frame, sink);
      return { outcome, updates: sink.take() };
    };
    const originals = frames.map((f) => run(ref, f));
    let rejected = 0;
    let accepted = 0;
    for (let i = 0; i < N; i++) {
      const k = i % frames.length;
      const m = mutate(frames[k], rnd);
      const before = totalErrors(fast.errors);
      const got = run(fast, m);
      expect(OUTCOMES).toContain(got.outcome);
      assertSane(got.updates);
      if (got.outcome === 'rejected') {
        rejected++;
        expect(totalErrors(fast.errors) - before).toBe(1);
        continue;
      }
      accepted++;
      const want = run(ref, m);
      if (want.outcome === 'rejected') {
        // Damage the JSON path refuses: the fast path may only have accepted it if nothing it reads changed.
        expect(got).toEqual(originals[k]);
      } else expect(got).toEqual(want);
    }
    expect(rejected + accepted).toBe(N);
    expect(rejected).toBeGreaterThan(N / 3);
  });
});
