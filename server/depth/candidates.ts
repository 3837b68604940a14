/**
 * Which instruments get order books (issue 14 §1): those with an open opportunity, and those whose best
 * cross-venue pair is close to opening — its touch spread (short bid over long ask, bps of the ask)
 * within `depth.candidateDistanceBps` of `thresholds.minSpreadBps`. At most `depth.maxInstruments`
 * (open opportunities first, then the widest spreads, then those cooling down by how recently they
 * qualified); one that stops qualifying is kept `depth.cooldownMs` before it is released, so a spread
 * that flickers around the line does not subscribe and unsubscribe on every update.
 *
 * Reads the engine's store (a plain scan, about once a second; not the hot path).
 */
import type { Config } from '../../shared/config.js';
import type { InstrumentMap } from '../engine/instruments.js';
import type { MarketStore } from '../engine/market-store.js';

/** What the selection reads of the engine (server/engine Engine satisfies it). */
export interface CandidateMarket {
  readonly instruments: InstrumentMap;
  readonly store: MarketStore;
  opportunities(): ReadonlyArray<{ instrument: string }>;
}

export interface CandidateRules {
  minSpreadBps: number;
  candidateDistanceBps: number;
  cooldownMs: number;
  maxInstruments: number;
}

export function candidateRules(config: Config): CandidateRules {
  const d = config.depth;
  return { minSpreadBps: config.thresholds.minSpreadBps, candidateDistanceBps: d.candidateDistanceBps, cooldownMs: d.cooldownMs, maxInstruments: d.maxInstruments };
}

/** One ranked instrument of a selection round. */
interface Ranked {
  inst: number;
  /** 2 = open opportunity, 1 = close to the threshold, 0 = cooling down. */
  tier: number;
  /** Best touch spread (bps) for tier 1; the last time it qualified (ms) for tier 0. */
  score: number;
}

export class CandidateSelector {
  /** Instrument index → engine time it last qualified. */
  private readonly lastQualifiedMs = new Map<number, number>();
  private current: number[] = [];

  /** Runs one selection at `nowMs`; returns the candidate instrument indexes (also kept as `instruments`). */
  update(market: CandidateMarket, rules: CandidateRules, nowMs: number): readonly number[] {
    const m = market.instruments;
    const open = new Set<number>();
    for (const o of market.opportunities()) {
      const inst = m.instrumentIndex(o.instrument);
      if (inst >= 0) open.add(inst);
    }
    const line = rules.minSpreadBps - rules.candidateDistanceBps;
    const ranked: Ranked[] = [];
    for (let inst = 0; inst < m.instrumentCount; inst++) {
      const best = open.has(inst) ? Infinity : bestSpreadBps(market, inst, nowMs);
      if (best === Infinity || best >= line) {
        this.lastQualifiedMs.set(inst, nowMs);
        ranked.push({ inst, tier: open.has(inst) ? 2 : 1, score: best });
        continue;
      }
      const last = this.lastQualifiedMs.get(inst);
      if (last === undefined) continue;
      if (nowMs - last >= rules.cooldownMs) this.lastQualifiedMs.delete(inst);
      else ranked.push({ inst, tier: 0, score: last });
    }
    ranked.sort((a, b) => b.tier - a.tier || b.score - a.score || a.inst - b.inst);
    this.current = ranked.slice(0, rules.maxInstruments).map((r) => r.inst);
    return this.current;
  }

  /** The candidate instrument indexes of the last selection. */
  get instruments(): readonly number[] {
    return this.current;
  }

  /** Every engine id (venue symbol) of the last selection's instruments. */
  ids(market: CandidateMarket): number[] {
    const out: number[] = [];
    for (const inst of this.current) out.push(...market.instruments.idsFor(market.instruments.instrumentKeyAt(inst)));
    return out;
  }
}

/**
 * The widest touch spread (bps of the long leg's ask) over the instrument's pairs of usable legs on
 * different venues; -Infinity when fewer than two venues have a usable quote.
 */
export function bestSpreadBps(market: CandidateMarket, inst: number, nowMs: number): number {
  const m = market.instruments;
  const s = market.store;
  let best = -Infinity;
  const mask = m.legMask(inst);
  for (let a = mask; a !== 0; a &= a - 1) {
    const longId = m.legId(inst, 31 - Math.clz32(a & -a));
    if (!s.usable(longId, nowMs) || !(s.ask[longId] > 0)) continue;
    for (let b = mask; b !== 0; b &= b - 1) {
      const shortId = m.legId(inst, 31 - Math.clz32(b & -b));
      if (m.exchangeIndexOf(shortId) === m.exchangeIndexOf(longId) || !s.usable(shortId, nowMs)) continue;
      const bps = ((s.bid[shortId] - s.ask[longId]) / s.ask[longId]) * 1e4;
      if (bps > best) best = bps;
    }
  }
  return best;
}
