/** Bitget as one module: facts, feed adapter, symbol spelling, simulated twin. */
import type { VenueModule } from '../types.js';
import { bitgetAdapter } from './adapter.js';
import { facts } from './facts.js';
import { BitgetVenue } from './sim.js';
import * as symbols from './symbols.js';

export const bitget: VenueModule = {
  facts,
  adapter: bitgetAdapter,
  symbols,
  twin: {
    profile: { spreadBps: 0.5, noiseBps: 0.35, basisBps: 1.1, latencyMs: 15, touchUsd: 50_000 },
    lot: (spec) => spec.qtyStep,
    create: (exchange, ctx) => new BitgetVenue(exchange, ctx),
  },
};
