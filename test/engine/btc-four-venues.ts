/**
 * The engine the detector and quarantine tests drive: BTC perpetuals registered on all four venues, a
 * clock the test sets, and a bus subscriber whose events the test reads.
 */
import { DEFAULT_INSTRUMENT_KEYS } from '../../server/feeds/metadata.js';
import { DEFAULT_CONFIG, type Config } from '../../shared/config.js';
import { perVenue, type Exchange } from '../../shared/exchanges.js';
import { defaultSymbol } from '../../server/venues/index.js';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import { Engine } from '../../server/engine/index.js';

/**
 * DEFAULT_CONFIG with the given thresholds and detector settings replaced. These suites test price
 * math with quotes alone, so detector.requireFunding is off unless a test sets it (funding-unknown.test.ts
 * covers the default).
 */
export function engineConfig(patch: { thresholds?: Partial<Config['thresholds']>; detector?: Partial<Config['detector']> } = {}): Config {
  return {
    ...DEFAULT_CONFIG,
    thresholds: { ...DEFAULT_CONFIG.thresholds, ...patch.thresholds },
    detector: { ...DEFAULT_CONFIG.detector, requireFunding: false, ...patch.detector },
    // An explicit list (the default is "all"): tests remove instruments from it.
    market: { ...DEFAULT_CONFIG.market, instruments: [...DEFAULT_INSTRUMENT_KEYS] },
  };
}

export function btcOnFourVenues(cfg: Config, startMs: number) {
  const clock = { t: startMs };
  const engine = new Engine({ config: cfg, now: () => clock.t });
  const sub = engine.bus.subscribe('test');
  // Every registered venue, in registry order, with its usual BTC symbol.
  const ids: Record<Exchange, number> = perVenue((ex) => engine.registerInstrument(ex, defaultSymbol(ex, 'BTC'), { base: 'BTC', quote: 'USDT' }));
  /** Every event published since the last call. */
  const events = (): OpportunityEvent[] => sub.popBatch(10_000);
  return { clock, engine, sub, ids, events };
}
