/**
 * What one venue module provides (see server/venues/<venue>/index.ts): its facts, its feed adapter
 * (wire parser, connection plan, REST metadata), its symbol spelling, and its simulated twin.
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { VenueFacts } from '../../shared/venue-facts.js';
import type { VenueAdapter } from '../feeds/adapter.js';
import type { InstrumentSpec } from '../simulator/instruments.js';
import type { VenueProfile } from '../simulator/market.js';
import type { VenueContext, VenueServer } from '../simulator/venue.js';
import type { BaseQuote } from './symbology.js';

export interface VenueSymbols {
  /** Listed base and settle currency of a native symbol, or null when it is not a linear perpetual spelling. */
  parseNative(symbol: string): BaseQuote | null;
  /** The venue's usual symbol for a listed base code in a settle currency. */
  nativeSymbol(listedBase: string, quote: string): string;
  /** The instrument key of a native symbol (multiplier and venue aliases folded), or null. */
  keyOf(symbol: string): string | null;
}

/** The venue's simulated twin: a server speaking its protocol, and how its market behaves. */
export interface VenueTwin {
  profile: VenueProfile;
  /** Size of one lot in base coin for an instrument (the contract value on contract venues). */
  lot(spec: InstrumentSpec): number;
  create(exchange: Exchange, ctx: VenueContext): VenueServer;
}

export interface VenueModule {
  readonly facts: VenueFacts;
  readonly adapter: VenueAdapter;
  readonly symbols: VenueSymbols;
  /**
   * Contract values (base units per contract) of common coins, for replay without recorded metadata;
   * absent on venues whose sizes are in base units. Live feeds always load metadata.
   */
  readonly replayContractValues?: Readonly<Record<string, number>>;
  readonly twin: VenueTwin;
}
