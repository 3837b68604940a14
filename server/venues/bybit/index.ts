/** Bybit as one module: facts, feed adapter, symbol spelling, simulated twin. */
import type { VenueModule } from '../types.js';
import { bybitAdapter } from './adapter.js';
import { facts } from './facts.js';
import { BYBIT_SIM_FUNDING_CAP, BybitVenue } from './sim.js';
import * as symbols from './symbols.js';

export const bybit: VenueModule = {
  facts,
  adapter: bybitAdapter,
  symbols,
  twin: {
    profile: { spreadBps: 0.4, noiseBps: 0.3, basisBps: 1.0, latencyMs: 12, touchUsd: 60_000, dynamicFundingCap: BYBIT_SIM_FUNDING_CAP },
    lot: (spec) => spec.qtyStep,
    create: (exchange, ctx) => new BybitVenue(exchange, ctx),
  },
};
