/**
 * Fuzz: 100,000 mutated or truncated frames per adapter (seeded, reproducible). No exception may
 * escape; every frame is accounted for (rejected frames counted exactly once); whatever is emitted is
 * sane; invalid JSON is always rejected. Bybit deltas are fed onto an undamaged snapshot so they have
 * a merge base (and the base is rebuilt before each frame: no state leaks between cases).
 */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import type { ParseOutcome, VenueParser } from '../../server/feeds/adapter.js';
import { MAX_ERROR_REASONS, isEpochMs } from '../../server/feeds/adapter.js';
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

const stringValues = new Map<string, RegExpMatchArray[]>();
const numberValues = new Map<string, RegExpMatchArray[]>();
function cached(cache: Map<string, RegExpMatchArray[]>, frame: string, re: RegExp): RegExpMatchArray[] {
  let v = cache.get(frame);
  if (v === undefined) cache.set(frame, (v = [...frame.matchAll(re)]));
  return v;
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

/** True when every emitted update has plausible values. */
function sane(updates: Update[]): boolean {
  return updates.every((u) =>
    !isEpochMs(u.ts)
      ? false
      : u.kind === 'quote'
        ? u.bid > 0 && u.ask > 0 && u.bidSize >= 0 && u.askSize >= 0 && Number.isFinite(u.bid + u.ask + u.bidSize + u.askSize)
        : Number.isFinite(u.rate) && u.intervalMs > 0 && isEpochMs(u.nextFundingMs),
  );
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
    exchange: 'bybit',
    frames: ['snapshot.json', 'delta.json', 'delta-funding.json', 'delta-no-quote.json', 'snapshot-newer.json', 'ack.json', 'pong.json', 'error.json'].map((f) => fixture('bybit', f)),
    make: () => new BybitParser(table('bybit', [{ symbol: 'BTCUSDT', base: 'BTC' }, { symbol: 'ETHUSDT', base: 'ETH' }])),
    prime: [fixture('bybit', 'snapshot.json')],
  },
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
    it(`${c.exchange}: no exception escapes, every bad frame is counted`, { timeout: 180_000 }, () => {
      const rnd = mulberry32(0x5eed + c.exchange.length);
      const p = c.make();
      const sink = new CollectingSink();
      let rejected = 0;
      let venueErrors = 0;
      const failures: string[] = [];
      for (let i = 0; i < N; i++) {
        const m = mutate(c.frames[i % c.frames.length], rnd);
        if (c.prime) {
          p.reset();
          for (const f of c.prime) p.parse(f, sink);
          sink.take();
        }
        const before = totalErrors(p.errors);
        let outcome: ParseOutcome;
        try {
          outcome = p.parse(m, sink);
        } catch (e) {
          throw new Error(`parse threw on ${JSON.stringify(m)}: ${(e as Error).message}`);
        }
        const added = totalErrors(p.errors) - before;
        if (outcome === 'rejected') rejected++;
        if (outcome === 'venue_error') venueErrors++;
        const updates = sink.take();
        const problem = !OUTCOMES.includes(outcome)
          ? 'unknown outcome'
          : added !== (outcome === 'rejected' || outcome === 'venue_error' ? 1 : 0)
            ? 'not counted exactly once'
            : // Invalid JSON can never pass (OKX's bare `pong` is the only non-JSON frame a venue sends).
              outcome !== 'rejected' && m !== 'pong' && !isJson(m)
              ? 'invalid JSON accepted'
              : outcome !== 'data' && updates.length > 0
                ? 'updates from a non-data frame'
                : !sane(updates)
                  ? 'insane update'
                  : null;
        if (problem !== null && failures.length < 5) failures.push(`${problem}: ${JSON.stringify(m)} → ${outcome}`);
      }
      expect(failures).toEqual([]);
      expect(totalErrors(p.errors)).toBe(rejected + venueErrors);
      // Reasons may carry venue-sent codes: the counter must stay bounded.
      expect(Object.keys(p.errors).length).toBeLessThanOrEqual(MAX_ERROR_REASONS + 1);
      expect(rejected).toBeGreaterThan(N / 3);
    });
  }
});
