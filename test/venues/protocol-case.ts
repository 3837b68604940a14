/**
 * The shape of one venue's protocol case data (`test/fixtures/<venue>/protocol.ts`, default export).
 * test/venues/protocol.test.ts runs the same sections over every venue in the registry from this
 * data; a new venue adds its fixtures and one such file, never code in the suite.
 *
 * Fixture names (`file`) are read from `test/fixtures/<venue>/`; a step may give the raw frame instead.
 */
import type { ConnectionPlan, FetchJson, ParseOutcome } from '../../server/feeds/adapter.js';
import type { Simulator, SimulatorLimits, SimulatorTimings } from '../../server/simulator/index.js';
import type { Update } from '../feeds/helpers.js';

/** Metadata rows the parser is built on (see test/feeds/helpers.ts `table`). */
export interface MetaRow {
  symbol: string;
  base: string;
  quote?: string;
  contractValue?: number;
  fundingIntervalMs?: number;
  nextFundingMs?: number;
  /** Units of the underlying per listed unit (1000 for a ×1000 listing). */
  priceMultiplier?: number;
  /** Index in the venue's listing, for venues whose channels address instruments by position. */
  position?: number;
}

/** One frame fed to the parser and what must come of it. */
export interface Step {
  /** Call parser.reset() (a reconnect) before this frame. */
  reset?: boolean;
  /** Fixture file name, or `raw` text. */
  file?: string;
  raw?: string;
  outcome: ParseOutcome;
  /** Exactly these updates (default when given). */
  updates?: Update[];
  /** Each emitted update matches (toMatchObject) the entry at the same index; lengths must agree. */
  matches?: Array<Partial<Update>>;
  /** Among the emitted updates (toContainEqual). */
  contains?: Update[];
  /** Numeric fields compared with toBeCloseTo(…, 12), by update index. */
  closeTo?: Array<{ index: number; field: 'bidSize' | 'askSize'; value: number }>;
  /** The parser's error counters after this step contain (toMatchObject). */
  errors?: Record<string, number>;
}

/** A named sequence of steps on one fresh parser (all steps share its state). */
export interface Sequence {
  name: string;
  /** Metadata rows for this sequence only (default: the case's `meta`). */
  meta?: MetaRow[];
  steps: Step[];
}

/** A venue-specific check that has no generic form; keeps the old near-copies' assertions. */
export interface Quirk {
  name: string;
  timeoutMs?: number;
  run: () => void | Promise<void>;
}

/** Like Quirk, with a running simulator (started with `twin.seed` and `timings`) for the venue's twin. */
export interface TwinQuirk {
  name: string;
  timings?: Partial<SimulatorTimings>;
  /** Simulator options beyond seed/rate (instrument list). */
  instruments?: string[];
  /** The twin's WS limits replacing the venue's facts (lowered so a quirk can cross one cheaply). */
  limits?: SimulatorLimits;
  timeoutMs?: number;
  run: (sim: Simulator) => void | Promise<void>;
}

/** loadMetadata against canned REST bodies. */
export interface MetadataCase {
  name: string;
  symbols: string[];
  nowMs: number;
  /** Canned REST: body per URL (throw to fail the call). */
  rest: FetchJson;
  /** Exactly these URLs requested first (prefix of the requests, in order). */
  urls?: string[];
  /** Table keys, in order. */
  keys?: string[];
  /** Rows matched with toMatchObject (seedFunding compared with toEqual when given here as `seedFunding`). */
  rows?: Record<string, Record<string, unknown>>;
  /** The call must reject with this message. */
  rejects?: RegExp;
}

/** adapter.plan against fake endpoints; `check` holds the venue's limits (batching, heartbeat, URLs). */
export interface PlanCase {
  name: string;
  symbols: string[];
  endpoints?: { ws: string; rest: string };
  fetchJson?: FetchJson;
  opts?: { maxAgeMs?: number };
  /** Builds the plan with a non-default adapter (e.g. another channel choice); default the module's. */
  plan?: (endpoints: { ws: string; rest: string }, symbols: string[], fetchJson: FetchJson, opts: { maxAgeMs?: number }) => Promise<ConnectionPlan[]>;
  check: (plans: ConnectionPlan[], calls: Array<{ url: string; method?: string }>) => void;
}

/**
 * Snapshot/delta semantics. `merge`: deltas patch the last snapshot (a delta with no snapshot since
 * the last reset is rejected with `delta_before_snapshot`); the scripted-server frames let the suite
 * prove no ghost state survives a reconnect through the real FeedManager. `full`: every data frame
 * stands alone (parsing it after other frames gives what a fresh parser gives).
 */
export type Semantics =
  | {
      kind: 'merge';
      /** Fixture files: a snapshot, then a delta to merge into it. */
      snapshotFile: string;
      deltaFile: string;
      /** REST body of the metadata call for the scripted server (one symbol, `BTC-PERP`). */
      metadataBody: unknown;
      /** Native symbol of `BTC-PERP` used by the scripted frames. */
      symbol: string;
      snapshot: (bid: string, askSize: string, ts: number) => string;
      delta: (bid: string, ts: number) => string;
      /** True for the client's subscribe frame. */
      isSubscribe: (text: string) => boolean;
    }
  | { kind: 'full' };

/** Prices and sizes as the wire writes them (decimal text). */
export interface QuoteSides {
  bid?: string;
  ask?: string;
  size: string;
}

export interface ProtocolCase {
  /**
   * A top-of-book frame in the venue's documented shape, for generated traffic (price fuzz). `first`:
   * the first frame for the symbol on the socket (a snapshot on merge venues). A side may be omitted only
   * on a merge venue's delta. Sizes are in wire units (contracts on contract venues).
   */
  quoteFrame: (symbol: string, q: QuoteSides, tMs: number, seq: number, first: boolean) => string;
  /** Parser metadata for the fixtures' symbols. */
  meta: MetaRow[];
  /** Fixture files that are data frames (quotes or funding), each parseable alone after `prime`. */
  dataFiles: string[];
  /** Files fed before anything else where state is needed (e.g. a snapshot before deltas). */
  prime?: string[];
  /** Parser sequences: subscribe acks, heartbeats, venue errors, data, reset. */
  sequences: Sequence[];
  /** `malformed.txt`: one bad frame a line; every line rejected and counted; counts by reason. */
  malformed: { file: string; errors: Record<string, number> };
  semantics: Semantics;
  /**
   * Frames the fuzz test mutates (fixture files), and frames fed unmutated once first. `connections`: frame
   * sequences a fresh connection starts with (the parser reset first), each frame damaged half the time, fed
   * every so often between the others — e.g. a plain-text greeting as a first frame. `partial`: reasons a
   * data frame may count once when it drops part of its content and emits the rest.
   */
  fuzz: { files: string[]; prime?: string[]; connections?: string[][]; partial?: string[] };
  metadata: MetadataCase[];
  plans: PlanCase[];
  parserQuirks?: Quirk[];
  twin: {
    seed: number;
    /** Timings every twin test of this venue starts its simulator with (a quirk's own come on top). */
    timings?: Partial<SimulatorTimings>;
    /** What the twin answers to a subscription of an unknown symbol (parser outcome of its reply). */
    unknownSymbol: 'venue_error' | 'ack';
    /** Timings that make the twin's heartbeat observable quickly (server pings, ping timeouts). */
    heartbeatTimings?: Partial<SimulatorTimings>;
    quirks: TwinQuirk[];
  };
}
