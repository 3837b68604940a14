/**
 * Records every normalised market update the engine accepts into the queue, for `--replay redis`:
 * subscribes to the engine's accepted-record hook (`Engine.onAcceptedRecord`), so the engine stays free
 * of I/O and nothing replaces its methods. Cost per update: one small object and an O(1) enqueue (no
 * Redis command, no serialisation).
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { AcceptedRecordListener } from '../engine/accepted-records.js';
import type { MarketRecord, Persistence } from './persistence.js';

/** The part of the Engine this needs (server/engine/engine.ts). */
export interface MarketRecordSource {
  onAcceptedRecord(listener: AcceptedRecordListener): () => void;
  readonly instruments: { has(id: number): boolean; exchangeOf(id: number): Exchange; symbolOf(id: number): string };
}

/** Starts recording; returns a function that stops it. */
export function recordMarketRecords(engine: MarketRecordSource, persistence: Pick<Persistence, 'appendMarketRecord'>, now: () => number = Date.now): () => void {
  const { instruments } = engine;
  const recvMsOf = (recvUs: number) => (recvUs > 0 ? Math.floor(recvUs / 1000) : now());
  return engine.onAcceptedRecord({
    onQuote(id, bid, ask, bidSize, askSize, exchangeTsMs, recvUs) {
      if (!instruments.has(id)) return;
      persistence.appendMarketRecord({ exchange: instruments.exchangeOf(id), symbol: instruments.symbolOf(id), kind: 'quote', recvMs: recvMsOf(recvUs), exchangeTsMs, bid, ask, bidSize, askSize });
    },
    onFunding(id, rate, intervalMs, nextFundingMs, predicted, exchangeTsMs, recvUs) {
      if (!instruments.has(id)) return;
      const r: MarketRecord = {
        exchange: instruments.exchangeOf(id),
        symbol: instruments.symbolOf(id),
        kind: 'funding',
        recvMs: recvMsOf(recvUs),
        exchangeTsMs,
        fundingRate: rate,
        fundingIntervalMs: intervalMs,
        nextFundingMs,
        predicted,
      };
      persistence.appendMarketRecord(r);
    },
  });
}
