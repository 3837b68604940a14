/**
 * The one configuration of a perpscan instance: TypeBox schema (validated at start-up, on PUT /api/config
 * and in the dashboard), static type, defaults, and a validator whose errors name the field.
 *
 * Units are in the names: `*Bps` basis points, `*Ms` milliseconds, `*Usd` US dollars, `*Pct` percent,
 * funding as a fraction per 8 h (0.0001 = 0.01 %).
 */
import Type, { type Static, type TLiteral, type TObject, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { normaliseInstrumentKey } from './instrument-key.js';
import { EXCHANGES, perVenue, venueDisplayName, type Exchange } from './exchanges.js';
import { CUSTOM_FEE_TIER, DEFAULT_FEES, feeTiersOf, resolveFees } from './fees.js';
import { FUNDING_BASES, type FundingBasis } from './opportunity.js';
import type { VenueFacts } from './venue-facts.js';
import { VENUE_FACTS } from './venues.js';

// Derived from the venue registry (shared/venues.ts); a compile-time check below fails when they drift.
// (A one-element tuple type for the compiler: Static<> of the union is then exactly Exchange.)
const ExchangeSchema = Type.Union(EXCHANGES.map((ex) => Type.Literal(ex)) as [TLiteral<Exchange>]);
const Bps = (description: string, extra: { minimum?: number; maximum?: number } = {}) =>
  Type.Number({ minimum: -10_000, maximum: 10_000, ...extra, description });
const NonNeg = (description: string, maximum?: number) =>
  Type.Number(maximum === undefined ? { minimum: 0, description } : { minimum: 0, maximum, description });
const Strict = { additionalProperties: false } as const;

export const ThresholdsSchema = Type.Object(
  {
    minSpreadBps: Bps(
      'Open only when the price spread is at least this (bps). May be negative (down to −10 000, a −100 % spread, the least a price spread can be) for carry-driven trades that pay to enter and earn funding over the horizon: minProfitBps still decides, and thresholds.maxSpreadBps must stay above it',
    ),
    minFundingDelta8h: Type.Number({ minimum: -0.05, maximum: 0.05, description: 'Minimum funding delta per 8 h (fraction). Use a negative value to disable.' }),
    minConfidence: NonNeg('Minimum confidence score 0..100', 100),
    minProfitBps: Bps('Minimum projected net profit (bps) to open'),
    hysteresisBps: NonNeg('An open opportunity closes only when it falls this far (bps) below an open threshold', 1000),
    maxSpreadBps: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1_000_000,
      description: 'Sanity limit: a price spread beyond this (bps, either sign) is implausible; it never opens an opportunity and closes an open one',
    }),
    minCarryEarnedShare: Type.Number({
      minimum: 0,
      maximum: 1,
      description:
        'Open only pairs whose carry earned at least this share (0..1) of the settlements in the funding-basis window (24 h for basis `current`); a pair without settled history then does not open. 0 = off',
    }),
  },
  Strict,
);

export const DetectorSchema = Type.Object(
  {
    notionalUsd: Type.Number({ exclusiveMinimum: 0, maximum: 1e9, description: 'Notional per leg used for slippage and profit (USD)' }),
    holdingHorizonHours: Type.Number({ exclusiveMinimum: 0, maximum: 24 * 90, description: 'Holding horizon for expected funding (hours)' }),
    staleAfterMs: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      description: 'A quote older than this is not used (ms): by the time it was received or by its exchange timestamp, whichever is older',
    }),
    slippageImpactBps: NonNeg('Impact assumed for the part of the notional beyond the visible size (bps)', 1000),
    updateEpsilonBps: NonNeg('An update is emitted only when profit or spread moved by more than this (bps)', 1000),
    maxUpdateIntervalMs: Type.Integer({ minimum: 0, maximum: 600_000, description: 'Emit an update at least this often while values move less than epsilon (ms); 0 = never' }),
    quarantineBandPct: Type.Number({
      exclusiveMinimum: 0,
      maximum: 100,
      description: 'A quote whose mid is further than this from the consensus of the other venues (or, without one, from its own last accepted mid) is quarantined: not used until it converges (%)',
    }),
    quarantineConfirmMs: Type.Integer({
      minimum: 0,
      maximum: 600_000,
      description: 'A venue whose quotes stayed quarantined this long, consistently, confirms the same move on other venues (ms)',
    }),
    requireFunding: Type.Boolean({
      description:
        'Open an opportunity only when both legs have a known funding rate, interval and next settlement; with false, a pair whose funding is unknown may open on its price alone, flagged "funding unknown" (no funding counted)',
    }),
    allowCrossQuote: Type.Boolean({
      description: 'Score pairs whose legs settle in different currencies (a USDT leg against a USDC leg, prices compared as if USDT = USDC)',
    }),
    fundingBasis: Type.Union(
      FUNDING_BASES.map((b) => Type.Literal(b)) as [TLiteral<FundingBasis>],
      {
        description:
          'Expected funding over the horizon from the legs\' current rates (`current`), or from their realised averages over the last 24 h (`avg24h`) or 7 d (`avg7d`) of settled funding; a pair with a leg without settled history in the window falls back to current rates (the opportunity\'s fundingBasis then says `current`)',
      },
    ),
    reviewAfterMs: Type.Integer({
      minimum: 1000,
      maximum: 86_400_000,
      description: 'A venue symbol whose quotes stay off the other venues’ consensus this long without a break is flagged for review: likely another token with the same ticker (ms)',
    }),
  },
  Strict,
);

/** Per venue: a published tier (its facts.ts cites them) or `custom`; shared/fees.ts keeps the figures in step. */
export const FeesSchema = Type.Object(
  {
    takerBps: Type.Object(
      perVenue((ex) => NonNeg(`${venueDisplayName(ex)} taker fee (bps); set by the tier unless the tier is custom`, 100)),
      Strict,
    ),
    makerBps: Type.Object(
      perVenue((ex) => Type.Number({ minimum: -100, maximum: 100, description: `${venueDisplayName(ex)} maker fee (bps, negative = rebate); set by the tier unless the tier is custom` })),
      Strict,
    ),
    tier: Type.Object(
      perVenue((ex) =>
        Type.Union([...feeTiersOf(ex).map((t) => Type.Literal(t.id)), Type.Literal(CUSTOM_FEE_TIER)] as unknown as [TLiteral<string>], {
          description: `${venueDisplayName(ex)} fee tier: ${feeTiersOf(ex).map((t) => `${t.id} = ${t.name} (${t.takerBps}/${t.makerBps} bps)`).join(', ')}, or custom (the taker and maker figures as set)`,
        }),
      ),
      Strict,
    ),
  },
  Strict,
);

export const StrategySchema = Type.Object(
  {
    enabled: Type.Boolean({ description: 'Paper-trade opportunities' }),
    startingCapitalUsd: Type.Number({ exclusiveMinimum: 0, maximum: 1e12 }),
    notionalUsd: Type.Number({ exclusiveMinimum: 0, maximum: 1e9, description: 'Notional per leg per position (USD)' }),
    leverage: Type.Number({ minimum: 1, maximum: 125 }),
    maintenanceMarginRate: Type.Number({ minimum: 0, maximum: 0.5, description: 'Fraction used to estimate liquidation prices' }),
    minProfitBps: Bps('Entry rule: minimum projected profit (bps)'),
    minConfidence: NonNeg('Entry rule: minimum confidence', 100),
    maxQuoteAgeMs: Type.Integer({ minimum: 0, maximum: 600_000, description: 'Entry rule: both legs quoted within (ms)' }),
    minOpportunityAgeMs: Type.Integer({ minimum: 0, maximum: 3_600_000, description: 'Entry hygiene: opportunity must have lived this long (ms)' }),
    minOpportunityUpdates: Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Entry hygiene: ... or seen this many updates' }),
    cooldownMs: Type.Integer({ minimum: 0, maximum: 86_400_000, description: 'No new entry on an instrument for this long after an exit (ms)' }),
    notionalTolerancePct: NonNeg('Entry rule: refuse an entry whose quantity × the short bid or the consensus mid exceeds notionalUsd by more than this (%)', 100),
  },
  Strict,
);

export const ExitsSchema = Type.Object(
  {
    exitSpreadBps: Bps('Exit when the current spread (close side) converges below this (bps)'),
    takeProfitUsd: NonNeg('Exit when unrealised PnL reaches this (USD); 0 = off'),
    stopLossUsd: NonNeg('Exit when unrealised PnL falls to minus this (USD); 0 = off'),
    maxHoldingMs: Type.Integer({ minimum: 0, maximum: 90 * 86_400_000, description: 'Exit after holding this long (ms); 0 = off' }),
    exitOnFundingFlip: Type.Boolean({ description: 'Exit when the funding delta turns against the position' }),
    onFeedDown: Type.Union([Type.Literal('close'), Type.Literal('hold')], { description: 'What to do with a position whose leg lost its feed' }),
    minLiquidationDistancePct: NonNeg('Exit when a leg is closer than this to its estimated liquidation price (%)', 100),
  },
  Strict,
);

export const RiskSchema = Type.Object(
  {
    maxOpenPositions: Type.Integer({ minimum: 0, maximum: 10_000 }),
    maxNotionalPerInstrumentUsd: NonNeg('Max notional per instrument across positions (USD)'),
    maxNotionalPerExchangeUsd: NonNeg('Max notional per exchange across legs (USD)'),
    maxTotalExposureUsd: NonNeg('Max gross notional across all legs (USD)'),
    dailyLossLimitUsd: NonNeg('Halt new entries when the day (UTC) loses this much (USD); 0 = off'),
  },
  Strict,
);

/** An instrument key; the first release's `BTC-USDT-PERP` / `BTC-USDC-PERP` are accepted and normalised to `BTC-PERP` (normaliseMarketKeys). */
const INSTRUMENT_KEY_PATTERN = '^[A-Z0-9]+(-USDT|-USDC)?-PERP$';
const EXCHANGE_ALT = EXCHANGES.join('|');

export const MarketSchema = Type.Object(
  {
    exchanges: Type.Array(ExchangeSchema, { uniqueItems: true, description: 'Enabled exchanges' }),
    instruments: Type.Union(
      [
        Type.Literal('all', { description: 'Every perpetual the enabled venues list (at least market.minVenues of them)' }),
        Type.Array(Type.String({ pattern: INSTRUMENT_KEY_PATTERN }), { uniqueItems: true, maxItems: 2000, description: 'Instrument keys, e.g. BTC-PERP' }),
      ],
      { description: '"all" (every perpetual listed on at least market.minVenues enabled venues) or a list of normalised instrument keys, e.g. BTC-PERP' },
    ),
    exclude: Type.Array(Type.String({ pattern: `^((${EXCHANGE_ALT}):)?[A-Z0-9]+(-USDT|-USDC)?-PERP$` }), {
      uniqueItems: true,
      maxItems: 2000,
      description: 'Never scanned: instrument keys (BTC-PERP), or venue:KEY (<venue id>:BTC-PERP) to drop that venue\'s leg only',
    }),
    minVenues: Type.Integer({ minimum: 1, maximum: 64, description: 'With "all": an instrument listed (trading) on fewer of the enabled venues gets no subscription' }),
    discoveryRefreshMs: Type.Integer({ minimum: 10_000, maximum: 86_400_000, description: "How often each venue's instrument list is re-read: new listings subscribed, delistings closed (ms)" }),
    minOpenInterestUsd: NonNeg(
      'A pair opens only when both legs\' markets have at least this open interest (USD); a leg whose venue does not publish it (or not yet) does not pass. 0 = off',
      1e12,
    ),
    minVolume24hUsd: NonNeg('A pair opens only when both legs\' markets traded at least this in the last 24 h (USD); unknown does not pass. 0 = off', 1e13),
  },
  Strict,
);

export const StreamSchema = Type.Object(
  {
    updateRateHz: Type.Number({ exclusiveMinimum: 0, maximum: 1000, description: 'Max `updated` events per opportunity per second per client' }),
    maxClientBufferBytes: Type.Integer({ minimum: 1024, maximum: 1 << 30, description: 'A /ws client whose unsent buffer passes this has its frames dropped and gets a fresh snapshot once it drains; one that stays behind is cut off' }),
    statsIntervalMs: Type.Integer({ minimum: 100, maximum: 60_000 }),
  },
  Strict,
);

/**
 * Order books for candidate instruments (issue 14): depth is subscribed only for instruments with an open
 * opportunity or whose best pair's touch spread is within `candidateDistanceBps` of
 * `thresholds.minSpreadBps`, at most `maxInstruments` of them, each released `cooldownMs` after it last qualified.
 */
export const DepthSchema = Type.Object(
  {
    enabled: Type.Boolean({ description: 'Subscribe order books (depth channels) for candidate instruments' }),
    levels: Type.Integer({ minimum: 1, maximum: 50, description: 'Levels per side kept for scoring' }),
    candidateDistanceBps: NonNeg('An instrument whose best touch spread is within this of thresholds.minSpreadBps is a candidate (bps)', 10_000),
    cooldownMs: Type.Integer({ minimum: 0, maximum: 3_600_000, description: 'A candidate is released this long after it last qualified (ms)' }),
    maxInstruments: Type.Integer({ minimum: 1, maximum: 1000, description: 'Candidates at most (open opportunities first, then the closest to the threshold)' }),
  },
  Strict,
);

/**
 * `venues: { <id>: <that venue's options> }`, composed from a facts list: only venues that declare
 * `options` (VenueFacts.options) get a property; unknown venue ids and unknown option fields are rejected.
 * Exported with its defaults so tests can compose it from a fake facts list.
 */
export function venueOptionsSchema(facts: readonly VenueFacts[]): TObject<Record<string, TObject>> {
  const props: Record<string, TObject> = {};
  for (const f of facts) if (f.options) props[f.id] = Type.Object(f.options.schema.properties, { ...Strict, description: `${f.displayName} options` });
  return Type.Object(props, { ...Strict, description: 'Venue-specific settings, per venue id (only venues that declare any)' });
}

/** The defaults of every venue that declares options (`{}` when none does). */
export function venueOptionsDefaults(facts: readonly VenueFacts[]): Record<string, Record<string, unknown>> {
  return Object.fromEntries(facts.filter((f) => f.options).map((f) => [f.id, structuredClone({ ...f.options!.defaults })]));
}

export const VenuesSchema = venueOptionsSchema(VENUE_FACTS);

export const ConfigSchema = Type.Object(
  {
    thresholds: ThresholdsSchema,
    detector: DetectorSchema,
    fees: FeesSchema,
    strategy: StrategySchema,
    exits: ExitsSchema,
    risk: RiskSchema,
    market: MarketSchema,
    stream: StreamSchema,
    venues: VenuesSchema,
    depth: DepthSchema,
  },
  Strict,
);
export type Config = Static<typeof ConfigSchema>;
type _ExchangesInSync = [Exchange] extends [Config['market']['exchanges'][number]] ? true : never;
const _exchangesInSync: _ExchangesInSync = true;
void _exchangesInSync;
export type Thresholds = Static<typeof ThresholdsSchema>;

/** A config with its version; the version increases by one on every accepted change. */
export interface VersionedConfig {
  version: number;
  config: Config;
  /** When this version was accepted (epoch ms); decides file-vs-persisted at start-up. */
  updatedMs?: number;
}

export const DEFAULT_CONFIG: Config = {
  thresholds: { minSpreadBps: 5, minFundingDelta8h: -0.05, minConfidence: 0, minProfitBps: 2, hysteresisBps: 2, maxSpreadBps: 500, minCarryEarnedShare: 0 },
  detector: {
    notionalUsd: 1000,
    holdingHorizonHours: 8,
    staleAfterMs: 5000,
    slippageImpactBps: 5,
    updateEpsilonBps: 0.1,
    maxUpdateIntervalMs: 1000,
    quarantineBandPct: 5,
    quarantineConfirmMs: 1000,
    allowCrossQuote: true,
    requireFunding: true,
    fundingBasis: 'current',
    reviewAfterMs: 30_000,
  },
  fees: { takerBps: { ...DEFAULT_FEES.takerBps }, makerBps: { ...DEFAULT_FEES.makerBps }, tier: { ...DEFAULT_FEES.tier } },
  strategy: {
    enabled: true,
    startingCapitalUsd: 100_000,
    notionalUsd: 1000,
    leverage: 5,
    maintenanceMarginRate: 0.005,
    minProfitBps: 5,
    minConfidence: 0,
    maxQuoteAgeMs: 2000,
    minOpportunityAgeMs: 500,
    minOpportunityUpdates: 0,
    cooldownMs: 30_000,
    notionalTolerancePct: 2,
  },
  exits: {
    exitSpreadBps: 0,
    takeProfitUsd: 0,
    stopLossUsd: 50,
    maxHoldingMs: 8 * 3_600_000,
    exitOnFundingFlip: true,
    onFeedDown: 'close',
    minLiquidationDistancePct: 5,
  },
  risk: {
    maxOpenPositions: 10,
    maxNotionalPerInstrumentUsd: 5000,
    maxNotionalPerExchangeUsd: 20_000,
    maxTotalExposureUsd: 50_000,
    dailyLossLimitUsd: 500,
  },
  market: {
    exchanges: [...EXCHANGES],
    instruments: 'all',
    exclude: [],
    minVenues: 2,
    discoveryRefreshMs: 5 * 60_000,
    minOpenInterestUsd: 0,
    minVolume24hUsd: 0,
  },
  stream: { updateRateHz: 10, maxClientBufferBytes: 4 * 1024 * 1024, statsIntervalMs: 1000 },
  venues: venueOptionsDefaults(VENUE_FACTS),
  depth: { enabled: true, levels: 20, candidateDistanceBps: 10, cooldownMs: 60_000, maxInstruments: 50 },
};

/** A deep-partial config, as accepted by PUT /api/config and config files. */
export type ConfigPatch = { [K in keyof Config]?: Partial<Config[K]> extends infer P ? { [Q in keyof P]?: P[Q] extends object ? Partial<P[Q]> : P[Q] } : never };

export interface ConfigError {
  /** Dotted path of the offending field, e.g. `thresholds.minSpreadBps`. */
  field: string;
  message: string;
}
export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: ConfigError[] };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merges a patch onto a base config; arrays and scalars replace. Does not validate. */
export function mergeConfig(base: Config, patch: unknown): unknown {
  const merge = (a: unknown, b: unknown): unknown => {
    if (!isPlainObject(a) || !isPlainObject(b)) return b === undefined ? a : b;
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v);
    return out;
  };
  return merge(base, patch);
}

function pointerToField(pointer: string): string {
  return pointer.replace(/^\//, '').split('/').filter(Boolean).join('.');
}

/** Validates a value against a schema; errors name the dotted field path. */
export function schemaErrors(schema: TSchema, value: unknown): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const e of Value.Errors(schema, value)) {
    if (e.keyword === 'boolean') continue; // duplicate of the additionalProperties error below
    let field = pointerToField(e.instancePath);
    const params = e.params as { additionalProperties?: string[]; requiredProperties?: string[] } | undefined;
    if (e.keyword === 'additionalProperties' && params?.additionalProperties?.length) {
      field = [field, params.additionalProperties[0]].filter(Boolean).join('.');
      errors.push({ field, message: 'unknown field' });
      continue;
    }
    if (e.keyword === 'required' && params?.requiredProperties?.length) {
      field = [field, params.requiredProperties[0]].filter(Boolean).join('.');
    }
    errors.push({ field: field || '(root)', message: e.message });
  }
  return errors;
}

/**
 * Applies a partial patch to `base`; returns the new full config or the errors (naming fields). Never mutates `base`.
 * `schema` is ConfigSchema but for tests that compose `venues` from a fake facts list (venueOptionsSchema).
 */
export function applyConfigPatch(base: Config, patch: unknown, schema: TSchema = ConfigSchema): ConfigResult {
  if (!isPlainObject(patch)) return { ok: false, errors: [{ field: '(root)', message: 'config patch must be a JSON object' }] };
  const merged = normaliseMarketKeys(mergeConfig(base, patch));
  const feeErrors = resolveFees(merged, patch);
  const errors = schemaErrors(schema, merged);
  if (errors.length > 0) return { ok: false, errors };
  if (feeErrors.length > 0) return { ok: false, errors: feeErrors };
  const config = merged as Config;
  const cross = crossFieldErrors(config);
  return cross.length > 0 ? { ok: false, errors: cross } : { ok: true, config };
}

/**
 * `BTC-USDT-PERP` / `BTC-USDC-PERP` (first release: one key per quote) → `BTC-PERP` (one key per
 * underlying, normaliseInstrumentKey) in market.instruments and market.exclude, duplicates dropped. Runs on every config that
 * passes applyConfigPatch: file, environment, PUT /api/config and the persisted config at restore.
 * Anything that is not a legacy key is left for the schema to judge.
 */
export function normaliseMarketKeys(config: unknown): unknown {
  if (!isPlainObject(config) || !isPlainObject(config.market)) return config;
  const fix = (list: unknown): unknown => {
    if (!Array.isArray(list)) return list;
    const out = list.map((k) => {
      if (typeof k !== 'string') return k;
      const venue = /^[a-z0-9]+:/.exec(k)?.[0] ?? ''; // `venue:KEY` in market.exclude
      const key = normaliseInstrumentKey(k.slice(venue.length));
      return key === null ? k : venue + key;
    });
    return out.filter((k, i) => typeof k !== 'string' || out.indexOf(k) === i);
  };
  return { ...config, market: { ...config.market, instruments: fix(config.market.instruments), exclude: fix(config.market.exclude) } };
}

/** Whether the config scans every listed instrument (market.instruments = "all") rather than a list. */
export function scansAll(market: Config['market']): market is Config['market'] & { instruments: 'all' } {
  return market.instruments === 'all';
}

/** The explicit instrument list, or [] with "all" (the feeds' discovery decides then). */
export function explicitInstruments(market: Config['market']): readonly string[] {
  return market.instruments === 'all' ? [] : market.instruments;
}

/** Rules a JSON schema cannot express. */
function crossFieldErrors(c: Config): ConfigError[] {
  const errors: ConfigError[] = [];
  if (c.risk.maxNotionalPerInstrumentUsd > 0 && c.strategy.notionalUsd > c.risk.maxNotionalPerInstrumentUsd)
    errors.push({ field: 'strategy.notionalUsd', message: 'must not exceed risk.maxNotionalPerInstrumentUsd' });
  if (c.thresholds.maxSpreadBps <= c.thresholds.minSpreadBps)
    errors.push({ field: 'thresholds.maxSpreadBps', message: 'must be greater than thresholds.minSpreadBps' });
  return errors;
}

export function formatConfigErrors(errors: ConfigError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('; ');
}
