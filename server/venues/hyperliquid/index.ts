/** Hyperliquid as one module: facts, feed adapter, symbol spelling, simulated twin. */
import type { VenueModule } from '../types.js';
import { HL_FUNDING_INTERVAL_MS, hyperliquidAdapter } from './adapter.js';
import { facts } from './facts.js';
import { HyperliquidVenue } from './sim.js';
import * as symbols from './symbols.js';

export const hyperliquid: VenueModule = {
  facts,
  adapter: hyperliquidAdapter,
  symbols,
  twin: {
    // An on-chain book: a little wider and slower than the big centralised venues; funding every hour, always.
    profile: { spreadBps: 0.8, noiseBps: 0.5, basisBps: 1.5, latencyMs: 25, touchUsd: 40_000, fixedFundingIntervalMs: HL_FUNDING_INTERVAL_MS },
    // Sizes are in the listed coin with szDecimals decimals.
    lot: (spec) => spec.qtyStep,
    create: (exchange, ctx) => new HyperliquidVenue(exchange, ctx),
  },
};
