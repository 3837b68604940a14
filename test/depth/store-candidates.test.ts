/**
 * The engine's depth store (Engine.pushDepth / dropDepth / depth) and the candidate selection: real
 * Engine, quotes pushed through its pipeline, hand-computed spreads.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, applyConfigPatch, type Config } from '../../shared/config.js';
import { Engine } from '../../server/engine/engine.js';
import { CandidateSelector, bestSpreadBps, candidateRules } from '../../server/depth/candidates.js';
import type { DepthBook } from '../../server/depth/types.js';

const T0 = Date.UTC(2026, 11, 2);

function config(patch: Record<string, unknown> = {}): Config {
  const r = applyConfigPatch(DEFAULT_CONFIG, { detector: { requireFunding: false, staleAfterMs: 5000 }, ...patch });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

function book(bid: number, ask: number, receivedMs: number): DepthBook {
  return { bids: { prices: [bid, bid - 1], sizes: [1, 2], length: 2 }, asks: { prices: [ask, ask + 1], sizes: [1, 2], length: 2 }, exchangeTsMs: receivedMs, receivedMs };
}

function setup(cfg: Config) {
  let now = T0;
  const engine = new Engine({ config: cfg, now: () => now });
  const ids = new Map<string, number>();
  const quote = (ex: 'bybit' | 'okx', base: string, bid: number, ask: number) => {
    const key = `${ex}:${base}`;
    let id = ids.get(key);
    if (id === undefined) ids.set(key, (id = engine.registerInstrument(ex, `${base}-${ex}`, { base, quote: 'USDT' })));
    engine.pushQuote(id, bid, ask, 10, 10, now, 0);
    engine.drain();
    return id;
  };
  return { engine, quote, ids, advance: (ms: number) => (now += ms), now: () => now };
}

describe('engine depth store', () => {
  it('serves the latest book per id until it is older than the quote staleness limit', () => {
    const s = setup(config());
    const id = s.quote('bybit', 'BTC', 100, 100.01);
    s.quote('okx', 'BTC', 100.02, 100.03);
    expect(s.engine.depth.get(id)).toBeUndefined();
    const b = book(100, 100.01, T0);
    expect(s.engine.pushDepth(id, b)).toBe(true);
    expect(s.engine.depth.get(id)).toBe(b);
    s.advance(5000);
    expect(s.engine.depth.get(id)).toBe(b); // exactly at the limit: still fresh
    s.advance(1);
    expect(s.engine.depth.get(id)).toBeUndefined();
    expect(s.engine.depthStats()).toMatchObject({ held: 1, pushed: 1 });
  });

  it('rescoring: a pushed or dropped book re-evaluates the pairs of its id', () => {
    const s = setup(config());
    const id = s.quote('bybit', 'BTC', 100, 100.01);
    s.quote('okx', 'BTC', 100.02, 100.03);
    const before = s.engine.stats().detector.evaluations;
    s.engine.pushDepth(id, book(100, 100.01, T0));
    const afterPush = s.engine.stats().detector.evaluations;
    expect(afterPush - before).toBe(2); // one pair, both directions
    s.engine.dropDepth(id, 'gap');
    expect(s.engine.stats().detector.evaluations - afterPush).toBe(2);
    expect(s.engine.depth.get(id)).toBeUndefined();
    expect(s.engine.depthStats().dropped).toEqual({ gap: 1 });
    s.engine.dropDepth(id, 'gap'); // nothing held: no rescore, not counted again
    expect(s.engine.depthStats().dropped).toEqual({ gap: 1 });
  });

  it('refuses an unknown id; a venue going down drops its books', () => {
    const s = setup(config());
    const id = s.quote('bybit', 'BTC', 100, 100.01);
    expect(s.engine.pushDepth(9999, book(1, 2, T0))).toBe(false);
    s.engine.pushDepth(id, book(100, 100.01, T0));
    s.engine.setExchangeDown('bybit', true);
    expect(s.engine.depth.get(id)).toBeUndefined();
    expect(s.engine.depthStats().dropped).toEqual({ disconnected: 1 });
  });
});

describe('candidate selection', () => {
  // minSpreadBps 5, distance 2: an instrument whose best touch spread is ≥ 3 bps is a candidate.
  const cfg = (maxInstruments = 50) => config({ thresholds: { minSpreadBps: 5, minProfitBps: 1000 }, depth: { candidateDistanceBps: 2, cooldownMs: 5000, maxInstruments } });

  it('computes the best touch spread over venue pairs (bps of the long ask)', () => {
    const s = setup(cfg());
    s.quote('bybit', 'AAA', 99.99, 100);
    s.quote('okx', 'AAA', 100.04, 100.05); // long bybit at 100, short okx at 100.04: 4 bps
    expect(bestSpreadBps(s.engine, s.engine.instruments.instrumentIndex('AAA-PERP'), T0)).toBeCloseTo(4, 9);
  });

  it('enters instruments within the distance, caps the count (widest first), releases after the cool-down', () => {
    const c = cfg();
    const s = setup(c);
    s.quote('bybit', 'AAA', 99.99, 100);
    s.quote('okx', 'AAA', 100.04, 100.05); // 4 bps: in
    s.quote('bybit', 'BBB', 99.99, 100);
    s.quote('okx', 'BBB', 100.01, 100.02); // 1 bps: out
    s.quote('bybit', 'CCC', 99.99, 100);
    s.quote('okx', 'CCC', 100.035, 100.045); // 3.5 bps: in
    const sel = new CandidateSelector();
    const keys = () => sel.instruments.map((i) => s.engine.instruments.instrumentKeyAt(i));
    sel.update(s.engine, candidateRules(c), s.now());
    expect(keys()).toEqual(['AAA-PERP', 'CCC-PERP']);
    expect(sel.ids(s.engine).length).toBe(4); // both venues' ids of each candidate
    sel.update(s.engine, candidateRules(cfg(1)), s.now());
    expect(keys()).toEqual(['AAA-PERP']);

    // AAA stops qualifying: kept through the cool-down, released after it.
    s.advance(1000);
    s.quote('okx', 'AAA', 100.0, 100.01);
    s.quote('bybit', 'AAA', 99.99, 100);
    s.quote('okx', 'CCC', 100.035, 100.045);
    s.quote('bybit', 'CCC', 99.99, 100);
    sel.update(s.engine, candidateRules(c), s.now());
    expect(keys()).toEqual(['CCC-PERP', 'AAA-PERP']); // qualifying first, then the one cooling down
    s.advance(3999); // 4999 ms after AAA last qualified
    for (const ex of ['bybit', 'okx'] as const) s.quote(ex, 'CCC', ex === 'okx' ? 100.035 : 99.99, ex === 'okx' ? 100.045 : 100);
    s.quote('okx', 'AAA', 100.0, 100.01);
    s.quote('bybit', 'AAA', 99.99, 100);
    sel.update(s.engine, candidateRules(c), s.now());
    expect(keys()).toEqual(['CCC-PERP', 'AAA-PERP']);
    s.advance(1);
    sel.update(s.engine, candidateRules(c), s.now());
    expect(keys()).toEqual(['CCC-PERP']);
  });

  it('an open opportunity is a candidate first, even when a closed one is wider', () => {
    // minSpreadBps 5, hysteresis 2: AAA opens at 20 bps and stays open at 4 bps; BBB at 4.5 bps never opens.
    const c = config({ thresholds: { minSpreadBps: 5, minProfitBps: -1000, hysteresisBps: 2 }, depth: { candidateDistanceBps: 4, cooldownMs: 0, maxInstruments: 1 } });
    const s = setup(c);
    s.quote('bybit', 'AAA', 99.99, 100);
    s.quote('okx', 'AAA', 100.2, 100.21);
    s.quote('okx', 'AAA', 100.04, 100.05); // 4 bps now
    s.quote('bybit', 'BBB', 99.99, 100);
    s.quote('okx', 'BBB', 100.045, 100.055); // 4.5 bps
    expect(s.engine.opportunities().map((o) => o.instrument)).toEqual(['AAA-PERP']);
    const sel = new CandidateSelector();
    sel.update(s.engine, candidateRules(c), s.now());
    expect(sel.instruments.map((i) => s.engine.instruments.instrumentKeyAt(i))).toEqual(['AAA-PERP']);
    sel.update(s.engine, { ...candidateRules(c), maxInstruments: 2 }, s.now());
    expect(sel.instruments.map((i) => s.engine.instruments.instrumentKeyAt(i))).toEqual(['AAA-PERP', 'BBB-PERP']);
  });
});
