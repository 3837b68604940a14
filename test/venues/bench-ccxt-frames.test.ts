/**
 * bench/ingest compares our handler with ccxt.pro's on the same information. These check the frames it
 * feeds: every frame of every venue's set makes ccxt's handler deliver something (no frame is dropped by
 * ccxt for lack of a handler, which would flatter ccxt), and where ccxt gets its own frames (other channels
 * than ours) they carry exactly our frames' coin-updates.
 */
import { describe, expect, it } from 'vitest';
import { ccxtHandler, ccxtMarket } from '../../bench/ingest/ccxt.js';
import { defaultMetadata } from '../../server/feeds/metadata.js';
import type { IngestFrameContext, VenueIngestBench } from '../../server/venues/bench-types.js';
import { VENUES } from '../../server/venues/index.js';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import { CollectingSink, totalErrors } from '../feeds/helpers.js';

const BASES = ['BTC', 'ETH', 'SOL'];
const T0 = 1_795_600_000_000;

function context(exchange: Exchange, count: number): IngestFrameContext {
  let seed = 7;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  return {
    count,
    bases: BASES,
    symbol: (b) => VENUES[exchange].symbols.nativeSymbol(b, 'USDT'),
    t0: T0,
    rnd,
    px: () => (3000 + rnd() * 3).toFixed(2),
    sz: () => (rnd() * 20).toFixed(3),
    touch: () => {
      const bid = 3000 + Math.floor(rnd() * 300) / 100;
      return [bid.toFixed(2), (bid + 0.01 * (1 + Math.floor(rnd() * 5))).toFixed(2)];
    },
  };
}

async function benchOf(exchange: Exchange): Promise<VenueIngestBench> {
  return ((await import(`../../server/venues/${exchange}/bench.ts`)) as { ingestBench: VenueIngestBench }).ingestBench;
}

/** The bench's metadata: default instruments, a next funding time from REST, universe positions in the bases' order. */
function meta(exchange: Exchange) {
  const t = defaultMetadata(exchange, BASES.map((b) => `${b}-PERP`));
  for (const m of t.values()) {
    m.nextFundingMs = 1_795_622_400_000;
    m.position = BASES.indexOf(m.base);
  }
  return t;
}

describe('bench/ingest: ccxt gets the same information', () => {
  it.each(EXCHANGES.map((e) => [e]))('%s: our parser takes every bench frame, and every quote is two-sided and uncrossed (as the engine accepts)', async (exchange) => {
    const bench = await benchOf(exchange);
    const parser = VENUES[exchange].adapter.createParser(meta(exchange));
    const sink = new CollectingSink();
    const outcomes = bench.frames(context(exchange, 300)).map((f) => parser.parse(f, sink));
    expect(parser.errors).toEqual({});
    expect(outcomes.filter((o) => o !== 'data')).toEqual([]);
    const quotes = sink.updates.filter((u) => u.kind === 'quote');
    expect(quotes.length).toBeGreaterThan(250);
    expect(quotes.filter((q) => !(q.bid > 0 && q.bid < q.ask))).toEqual([]);
  });

  it.each(EXCHANGES.map((e) => [e]))('%s: every frame ccxt is given makes its handler deliver', async (exchange) => {
    const bench = await benchOf(exchange);
    const ctx = context(exchange, 300);
    const ours = bench.frames(ctx);
    const sets = bench.ccxtFrames?.(ours, BASES.map(ctx.symbol)).sets ?? [{ label: '', frames: ours, note: '' }];
    const markets = [...meta(exchange).values()].map((m) => ccxtMarket(m.symbol, m.base, m.contractValue, m.quote));
    for (const set of sets) {
      const run = ccxtHandler(bench.ccxtId, markets, set.frames);
      if (!('step' in run)) throw new Error(`${exchange} ${set.label}: ${run.error}`);
      const silent = set.frames.filter((_, i) => {
        const before = run.resolved();
        run.step(i);
        return run.resolved() === before;
      });
      expect(silent).toEqual([]);
      expect(run.threw()).toBe(0);
    }
  });

  it('hyperliquid: ccxt frames (l2Book, activeAssetCtx per coin) carry exactly the coin-updates of ours (bbo, assetCtxs)', async () => {
    const bench = await benchOf('hyperliquid');
    const ctx = context('hyperliquid', 300);
    const ours = bench.frames(ctx);
    const own = bench.ccxtFrames!(ours, BASES.map(ctx.symbol));
    // 294 bbo frames + 6 assetCtxs frames × 3 coins
    expect(own.updates).toBe(294 + 6 * 3);
    const read = (frames: readonly string[]) => {
      const parser = VENUES.hyperliquid.adapter.createParser(meta('hyperliquid'));
      const sink = new CollectingSink();
      for (const f of frames) parser.parse(f, sink);
      expect(totalErrors(parser.errors)).toBe(0);
      return sink.updates;
    };
    const mine = read(ours);
    expect(mine).toHaveLength(own.updates);
    expect(own.sets.map((s) => s.label)).toEqual(['', 'l2book_20_levels']);
    for (const set of own.sets) {
      expect(set.frames).toHaveLength(own.updates);
      expect(new Set(set.frames.map((f) => (JSON.parse(f) as { channel: string }).channel))).toEqual(new Set(['l2Book', 'activeAssetCtx']));
      expect(read(set.frames)).toEqual(mine);
    }
    const deep = JSON.parse(own.sets[1].frames[0]) as { data: { levels: Array<Array<{ px: string }>> } };
    const [bids, asks] = deep.data.levels;
    expect([bids.length, asks.length]).toEqual([20, 20]);
    expect(bids.map((l) => Number(l.px))).toEqual([...bids.map((l) => Number(l.px))].sort((a, b) => b - a));
    expect(asks.map((l) => Number(l.px))).toEqual([...asks.map((l) => Number(l.px))].sort((a, b) => a - b));
  });

  it('kucoin: tickers go to ccxt as they are; each funding.rate becomes the funding-fee push of the same symbol and rate', async () => {
    const bench = await benchOf('kucoin');
    const ctx = context('kucoin', 200);
    const ours = bench.frames(ctx);
    const own = bench.ccxtFrames!(ours, BASES.map(ctx.symbol));
    expect(own.updates).toBe(200);
    const [set] = own.sets;
    expect(set.frames).toHaveLength(200);
    let fundings = 0;
    ours.forEach((raw, i) => {
      const msg = JSON.parse(raw) as { topic: string; subject: string; data: { fundingRate: number } };
      if (msg.subject !== 'funding.rate') return expect(set.frames[i]).toBe(raw);
      fundings++;
      const fee = JSON.parse(set.frames[i]) as { T: string; d: { s: string; fr: string; gl: number } };
      expect(fee.T).toBe('funding-fee');
      expect(`/contract/instrument:${fee.d.s}`).toBe(msg.topic);
      expect(Number(fee.d.fr)).toBe(msg.data.fundingRate);
    });
    expect(fundings).toBe(4);
  });
});
