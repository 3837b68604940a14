/**
 * The kucoin, gate, bitget and hyperliquid twins publish depth in their venue's real format over real
 * sockets on 127.0.0.1, read by the real depth feed (VenueDepthFeed: the venue's own plan, parser and
 * resubscription) into a recording engine: books arrive, agree with the twin's top of book (folded to
 * engine units), and the faults injected in the twin (a lost delta, a venue reset, a wrong checksum) are
 * detected by the parser and recovered (a fresh snapshot after the resubscription).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import type { MetadataTable } from '../../server/feeds/adapter.js';
import { createFetchJson } from '../../server/feeds/metadata.js';
import { VenueDepthFeed, type DepthEngine } from '../../server/feeds/depth-feed.js';
import type { DepthBook, DepthResyncReason } from '../../server/depth/types.js';
import { startSimulator, type DepthFault, type Simulator } from '../../server/simulator/index.js';
import { askPrice, bidPrice } from '../../server/simulator/market.js';
import { VENUES, defaultSymbolOfKey } from '../../server/venues/index.js';
import { waitFor } from '../feeds/helpers.js';

const MINE: Exchange[] = ['kucoin', 'gate', 'bitget', 'hyperliquid'];
const LEVELS = 20;

class RecordingEngine implements DepthEngine {
  readonly books = new Map<number, DepthBook>();
  pushes = 0;
  readonly drops: Array<DepthResyncReason | 'released'> = [];
  pushDepth(id: number, book: DepthBook): boolean {
    this.books.set(id, book);
    this.pushes++;
    return true;
  }
  dropDepth(id: number, reason: DepthResyncReason | 'released'): void {
    this.books.delete(id);
    this.drops.push(reason);
  }
}

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 14, exchanges: MINE, instruments: ['BTC-PERP', 'ETH-PERP'], messagesPerSec: 1000, dislocationsPerMin: 0 });
});
afterAll(async () => {
  await sim?.close();
});

async function feedFor(ex: Exchange): Promise<{ feed: VenueDepthFeed; engine: RecordingEngine; meta: MetadataTable; symbol: string; id: number }> {
  const fetchJson = createFetchJson();
  const meta = await VENUES[ex].adapter.loadMetadata(sim.endpoints[ex].rest, null, fetchJson, Date.now());
  let i = 0;
  for (const m of meta.values()) m.id = i++;
  const symbol = defaultSymbolOfKey(ex, 'BTC-PERP');
  const engine = new RecordingEngine();
  const feed = new VenueDepthFeed({ exchange: ex, depth: VENUES[ex].adapter.depth!, engine, meta: () => meta, endpoints: sim.endpoints[ex], fetchJson, levels: LEVELS, silenceMs: 30_000 });
  await feed.setSymbols([symbol]);
  return { feed, engine, meta, symbol, id: meta.get(symbol)!.id };
}

/** A sane book in engine units: ordered sides, not crossed, at most LEVELS, near the twin's touch. */
function checkAgainstTouch(ex: Exchange, symbol: string, book: DepthBook, pm: number): void {
  expect(book.bids.length).toBeGreaterThan(1);
  expect(book.asks.length).toBeGreaterThan(1);
  expect(book.bids.length).toBeLessThanOrEqual(LEVELS);
  for (let i = 1; i < book.bids.length; i++) expect(book.bids.prices[i]).toBeLessThan(book.bids.prices[i - 1]);
  for (let i = 1; i < book.asks.length; i++) expect(book.asks.prices[i]).toBeGreaterThan(book.asks.prices[i - 1]);
  expect(book.bids.prices[0]).toBeLessThan(book.asks.prices[0]);
  const pair = sim.model.findListed(ex, symbol)!;
  // The book's best level is the twin's quote (the market moves between the push and now: within 0.5 %).
  expect(Math.abs(book.bids.prices[0] / (bidPrice(pair) / pm) - 1)).toBeLessThan(0.005);
  expect(Math.abs(book.asks.prices[0] / (askPrice(pair) / pm) - 1)).toBeLessThan(0.005);
}

/** Injects `fault`, waits for the book to be dropped for `reason`, then for a fresh book. */
async function faultRecovers(ex: Exchange, f: Awaited<ReturnType<typeof feedFor>>, fault: DepthFault, reason: DepthResyncReason): Promise<void> {
  const dropsBefore = f.engine.drops.filter((r) => r === reason).length;
  expect(sim.injectDepthFault(ex, f.symbol, fault)).toBe(true);
  await waitFor(`${ex} ${fault} detected as ${reason}`, () => f.engine.drops.filter((r) => r === reason).length > dropsBefore, 10_000);
  const pushes = f.engine.pushes;
  await waitFor(`${ex} book back after ${fault}`, () => f.engine.pushes > pushes && f.engine.books.has(f.id), 10_000);
}

describe('depth twins over real sockets, read by the real depth feed', () => {
  for (const ex of MINE) {
    it(`${ex}: books arrive in the venue's format and agree with the twin's top of book`, { timeout: 30_000 }, async () => {
      const f = await feedFor(ex);
      try {
        await waitFor(`${ex} first book`, () => f.engine.books.has(f.id), 10_000);
        const pushes = f.engine.pushes;
        await waitFor(`${ex} more books`, () => f.engine.pushes >= pushes + 3, 10_000);
        checkAgainstTouch(ex, f.symbol, f.engine.books.get(f.id)!, f.meta.get(f.symbol)!.priceMultiplier ?? 1);
        const st = f.feed.status();
        expect(st.books).toBe(1);
        expect(st.errors).toEqual({});
      } finally {
        await f.feed.stop();
      }
    });
  }

  it('kucoin: a restarted sequence is a reset, and the next push is the book again', { timeout: 30_000 }, async () => {
    const f = await feedFor('kucoin');
    try {
      await waitFor('kucoin first book', () => f.engine.books.has(f.id));
      await faultRecovers('kucoin', f, 'reset', 'reset');
    } finally {
      await f.feed.stop();
    }
  });

  it('gate: a lost delta is a gap, recovered by the resubscription (a full push)', { timeout: 30_000 }, async () => {
    const f = await feedFor('gate');
    try {
      await waitFor('gate first book', () => f.engine.books.has(f.id));
      await faultRecovers('gate', f, 'gap', 'gap');
      expect(f.feed.status().gaps).toBe(1);
      expect(f.feed.status().errors).toEqual({});
    } finally {
      await f.feed.stop();
    }
  });

  it('bitget: gap, venue reset (pseq 0) and checksum mismatch are each detected and recovered', { timeout: 40_000 }, async () => {
    const f = await feedFor('bitget');
    try {
      await waitFor('bitget first book', () => f.engine.books.has(f.id));
      // Back to back: the feed resubscribes a symbol at most once a second and schedules a recovery held
      // back by that cap (depth-feed.ts), so each fault is still recovered.
      await faultRecovers('bitget', f, 'gap', 'gap');
      await faultRecovers('bitget', f, 'checksum', 'checksum');
      await faultRecovers('bitget', f, 'reset', 'reset');
      const st = f.feed.status();
      expect([st.gaps, st.checksumFailures]).toEqual([1, 1]);
      expect(st.errors).toEqual({});
      // Between the faults every update's checksum matched: no other loss of sync.
      expect(f.engine.drops.filter((r) => r !== 'released')).toEqual(['gap', 'checksum', 'reset']);
    } finally {
      await f.feed.stop();
    }
  });

  it('hyperliquid: l2Book subscriptions count against the same per-IP budget as bbo', { timeout: 30_000 }, async () => {
    const f = await feedFor('hyperliquid');
    try {
      await waitFor('hyperliquid first book', () => f.engine.books.has(f.id));
      expect(sim.stats().violations.hyperliquid ?? {}).toEqual({});
      // Only the depth socket is open here: its one l2Book subscription is the venue's whole count.
      expect(f.feed.status().symbols).toBe(1);
    } finally {
      await f.feed.stop();
    }
  });
});
