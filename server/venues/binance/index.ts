/** Binance as one module: facts, feed adapter, symbol spelling, simulated twin. */
import type { VenueModule } from '../types.js';
import { binanceAdapter } from './adapter.js';
import { facts } from './facts.js';
import { BINANCE_SIM_FUNDING_CAP, BinanceVenue } from './sim.js';
import * as symbols from './symbols.js';

export const binance: VenueModule = {
  facts,
  adapter: binanceAdapter,
  symbols,
  twin: {
    profile: { spreadBps: 0.3, noiseBps: 0.25, basisBps: 0.8, latencyMs: 8, touchUsd: 90_000, dynamicFundingCap: BINANCE_SIM_FUNDING_CAP },
    lot: (spec) => spec.qtyStep,
    create: (exchange, ctx) => new BinanceVenue(exchange, ctx),
  },
};
