/**
 * Engine.onAcceptedRecord: side consumers see each record the pipeline took (rejected-by-sanity ones
 * included, so a recording replays what the engine was given) and none the full pipeline dropped.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../server/engine/engine.js';
import { engineConfig } from './btc-four-venues.js';

const T0 = 1_764_000_000_000;

describe('engine.onAcceptedRecord', () => {
  it('reports accepted quotes and fundings, skips records the full pipeline dropped, and stops on unsubscribe', () => {
    const engine = new Engine({ config: engineConfig(), now: () => T0, pipelineCapacity: 2 });
    const id = engine.registerInstrument('bybit', 'BTCUSDT', { base: 'BTC', quote: 'USDT' });
    const seen: string[] = [];
    const stop = engine.onAcceptedRecord({
      onQuote: (i, bid, ask, bidSize, askSize, exchangeTsMs, recvUs) => seen.push(`q ${i} ${bid} ${ask} ${bidSize} ${askSize} ${exchangeTsMs} ${recvUs}`),
      onFunding: (i, rate, intervalMs, nextMs, predicted, exchangeTsMs, recvUs) => seen.push(`f ${i} ${rate} ${intervalMs} ${nextMs} ${predicted} ${exchangeTsMs} ${recvUs}`),
    });
    expect(engine.pushQuote(id, 100, 99, 1, 2, T0, 5)).toBe(true); // crossed: the sanity check rejects it later, still recorded
    expect(engine.pushFunding(id, 0.0001, 28_800_000, T0 + 1000, false, T0, 6)).toBe(true);
    expect(engine.pushQuote(id, 101, 102, 1, 2, T0, 7)).toBe(false); // ring of 2 is full: dropped, not reported
    engine.drain();
    stop();
    expect(engine.pushQuote(id, 103, 104, 1, 2, T0, 8)).toBe(true);
    expect(seen).toEqual([`q ${id} 100 99 1 2 ${T0} 5`, `f ${id} 0.0001 28800000 ${T0 + 1000} false ${T0} 6`]);
    expect(engine.stats().rejectedTotal).toBe(1);
  });
});
