/**
 * Where the universe benchmarks get their instruments. Until the simulator's `universe: N` option (issue 11
 * §5) lands, N synthetic keys `C0-PERP`… listed on every venue and configured explicitly; switching is the
 * marked line in each function (the simulator's own universe, and `market.instruments: "all"` on the server).
 */
import type { SimulatorOptions } from '../../server/simulator/index.js';

/** `C0-PERP`, `C1-PERP`, …: valid instrument keys no real coin uses, priced by the simulator's seeded model. */
export function syntheticKeys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `C${i}-PERP`);
}

/** What the simulator process lists. */
export function universeSimulatorOptions(n: number): SimulatorOptions {
  return { instruments: syntheticKeys(n) }; // switch: return { universe: n };
}

/** Environment for the server process so it subscribes the whole simulated universe. */
export function universeServerEnv(n: number): Record<string, string> {
  return { PERPSCAN_INSTRUMENTS: syntheticKeys(n).join(',') }; // switch: return { PERPSCAN_INSTRUMENTS: 'all' };
}
