/**
 * Where the universe benchmarks get their instruments. By default N synthetic keys `C0-PERP`… listed on
 * every venue and configured explicitly (exactly N × 4 instrument-venue pairs, the "4 venues × 300");
 * with BENCH_UNIVERSE=sim (the soak's default) the simulator's own universe of N coins — partial overlap,
 * multiplied names, USDC legs, listings and delistings during the run — and `market.instruments: "all"`.
 */
const simUniverse = (): boolean => process.env.BENCH_UNIVERSE === 'sim';
import type { SimulatorOptions } from '../../server/simulator/index.js';

/** `C0-PERP`, `C1-PERP`, …: valid instrument keys no real coin uses, priced by the simulator's seeded model. */
export function syntheticKeys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `C${i}-PERP`);
}

/** What the simulator process lists. */
export function universeSimulatorOptions(n: number): SimulatorOptions {
  return simUniverse() ? { universe: n } : { instruments: syntheticKeys(n) };
}

/** Environment for the server process so it subscribes the whole simulated universe. */
export function universeServerEnv(n: number): Record<string, string> {
  return { PERPSCAN_INSTRUMENTS: simUniverse() ? 'all' : syntheticKeys(n).join(',') };
}
