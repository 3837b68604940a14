/**
 * Fuzz: 100,000 damaged depth frames per venue (seeded, reproducible) through the venue's depth parser,
 * which lives on across frames as on a live socket (undamaged snapshots among the frames re-sync it; the
 * diff-only venue also gets damaged REST snapshot bodies). No exception may escape; every frame has an
 * outcome and every rejected one is counted exactly once; every book handed over is sane (finite
 * positive prices strictly ordered best first, finite non-negative sizes, never crossed).
 */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import type { ParseOutcome } from '../../server/feeds/adapter.js';
import type { DepthBook } from '../../server/depth/types.js';
import { VENUES } from '../../server/venues/index.js';
import { fixture, table, totalErrors } from '../feeds/helpers.js';
import { mulberry32 } from '../helpers/random.js';
import { mutate } from '../helpers/mutate.js';
import { RecordingDepthSink } from './helpers.js';

const N = 100_000;
const OUTCOMES: ParseOutcome[] = ['data', 'ack', 'pong', 'welcome', 'ignored', 'venue_error', 'reconnect_notice', 'rejected'];

interface Case {
  exchange: Exchange;
  meta: Parameters<typeof table>[1];
  frames: string[];
  /** A REST snapshot body (diff-only venues), damaged and applied every 10th frame. */
  rest?: string;
}

const CASES: Case[] = [
  { exchange: 'bybit', meta: [{ symbol: 'BTCUSDT', base: 'BTC' }], frames: ['depth-snapshot.json', 'depth-delta.json', 'depth-delta-gap.json', 'depth-reset.json', 'depth-delta-after-reset.json'] },
  { exchange: 'okx', meta: [{ symbol: 'BTC-USDT-SWAP', base: 'BTC', contractValue: 0.01 }], frames: ['depth-snapshot.json', 'depth-update.json', 'depth-keepalive.json', 'depth-update-gap.json', 'depth-update-bad-checksum.json'] },
  { exchange: 'binance', meta: [{ symbol: 'BTCUSDT', base: 'BTC' }], frames: ['depth-update-1.json', 'depth-update-2.json', 'depth-update-gap.json'], rest: 'depth-snapshot-rest.json' },
].map((c) => ({ ...c, exchange: c.exchange as Exchange, frames: c.frames.map((f) => fixture(c.exchange as Exchange, f)), rest: c.rest && fixture(c.exchange as Exchange, c.rest) }));

function saneBook(b: DepthBook): boolean {
  const side = (s: DepthBook['bids'], descending: boolean) => {
    for (let i = 0; i < s.length; i++) {
      const p = s.prices[i]!;
      const q = s.sizes[i]!;
      if (!(Number.isFinite(p) && p > 0 && Number.isFinite(q) && q >= 0)) return false;
      if (i > 0 && (descending ? !(p < s.prices[i - 1]!) : !(p > s.prices[i - 1]!))) return false;
    }
    return true;
  };
  const crossed = b.bids.length > 0 && b.asks.length > 0 && b.bids.prices[0]! >= b.asks.prices[0]!;
  return side(b.bids, true) && side(b.asks, false) && !crossed;
}

function parseable(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

describe('fuzz: 100,000 damaged depth frames per venue', () => {
  for (const c of CASES) {
    it(`${c.exchange}: no exception, every frame counted, every book sane`, { timeout: 180_000 }, () => {
      const rnd = mulberry32(0xd3b7 + c.exchange.length);
      const meta = table(c.exchange, c.meta);
      const m = meta.values().next().value!;
      const parser = VENUES[c.exchange].adapter.depth!.createParser(meta, 20);
      const sink = new RecordingDepthSink();
      const outcomes: Record<string, number> = {};
      let rejected = 0;
      let books = 0;
      let insane = 0;
      for (let i = 0; i < N; i++) {
        const clean = c.frames[Math.floor(rnd() * c.frames.length)]!;
        // One frame in four goes through undamaged, so books keep getting (re)built and deltas applied.
        const frame = rnd() < 0.25 ? clean : mutate(clean, rnd);
        const errorsBefore = totalErrors(parser.errors);
        const outcome = parser.parse(frame, sink);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        if (!OUTCOMES.includes(outcome)) throw new Error(`frame ${i}: unknown outcome ${outcome}`);
        const counted = totalErrors(parser.errors) - errorsBefore;
        if (outcome === 'rejected') rejected++;
        if (counted !== (outcome === 'rejected' ? 1 : 0)) throw new Error(`frame ${i} (${outcome}) counted ${counted}: ${frame}`);
        if (c.rest && i % 10 === 0) {
          const body = parseable(rnd() < 0.5 ? c.rest : mutate(c.rest, rnd));
          if (body !== undefined) parser.applySnapshot!(m, body, sink);
        }
        for (const b of sink.books.splice(0)) {
          books++;
          if (!saneBook(b.book)) insane++;
        }
      }
      expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(N);
      expect(rejected).toBeGreaterThan(N / 4);
      expect(books).toBeGreaterThan(1000); // the parser kept producing books between the damage
      expect(insane).toBe(0);
      expect(Object.keys(parser.errors).length).toBeLessThanOrEqual(64);
    });
  }
});
