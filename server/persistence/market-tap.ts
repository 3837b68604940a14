/**
 * Records every normalised market update the engine accepts into the queue, for `--replay redis`:
 * wraps the engine instance's `pushQuote`/`pushFunding` so one line in the server wiring is enough
 * (`tapMarketRecords(engine, persistence)`); the engine itself stays free of I/O. Cost per update: one
 * small object and an O(1) enqueue (no Redis command, no serialisation).
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { MarketRecord, Persistence } from './persistence.js';

/** The part of the Engine this needs (server/engine/engine.ts). */
export interface TappableEngine {
  pushQuote(id: number, bid: number, ask: number, bidSize: number, askSize: number, exchangeTsMs: number, recvUs: number): boolean;
  pushFunding(id: number, rate: number, intervalMs: number, nextFundingMs: number, predicted: boolean, exchangeTsMs: number, recvUs: number): boolean;
  readonly instruments: { has(id: number): boolean; exchangeOf(id: number): Exchange; symbolOf(id: number): string };
}

/** Starts recording; returns a function that stops it (restores the engine's own methods). */
export function tapMarketRecords(engine: TappableEngine, persistence: Pick<Persistence, 'appendMarketRecord'>, now: () => number = Date.now): () => void {
  const pushQuote = engine.pushQuote;
  const pushFunding = engine.pushFunding;
  const recvMsOf = (recvUs: number) => (recvUs > 0 ? Math.floor(recvUs / 1000) : now());
  engine.pushQuote = function (id, bid, ask, bidSize, askSize, exchangeTsMs, recvUs) {
    const ok = pushQuote.call(this, id, bid, ask, bidSize, askSize, exchangeTsMs, recvUs);
    if (ok && engine.instruments.has(id)) {
      const r: MarketRecord = { exchange: engine.instruments.exchangeOf(id), symbol: engine.instruments.symbolOf(id), kind: 'quote', recvMs: recvMsOf(recvUs), exchangeTsMs, bid, ask, bidSize, askSize };
      persistence.appendMarketRecord(r);
    }
    return ok;
  };
  engine.pushFunding = function (id, rate, intervalMs, nextFundingMs, predicted, exchangeTsMs, recvUs) {
    const ok = pushFunding.call(this, id, rate, intervalMs, nextFundingMs, predicted, exchangeTsMs, recvUs);
    if (ok && engine.instruments.has(id)) {
      const r: MarketRecord = {
        exchange: engine.instruments.exchangeOf(id),
        symbol: engine.instruments.symbolOf(id),
        kind: 'funding',
        recvMs: recvMsOf(recvUs),
        exchangeTsMs,
        fundingRate: rate,
        fundingIntervalMs: intervalMs,
        nextFundingMs,
        predicted,
      };
      persistence.appendMarketRecord(r);
    }
    return ok;
  };
  return () => {
    engine.pushQuote = pushQuote;
    engine.pushFunding = pushFunding;
  };
}
