/**
 * TypeBox schemas of the domain objects the REST API returns (opportunities, positions, fills, portfolio,
 * feeds, engine stats). The REST response schemas (shared/api.ts) are built from these, Fastify declares
 * them on every route (and so the OpenAPI document at /api/docs), and the dashboard's client reads the
 * same `Static` types.
 *
 * The domain types themselves stay the interfaces in opportunity.ts, position.ts, feeds.ts and
 * protocol.ts (the engine and strategy are written against them); the checks at the bottom fail to
 * compile when an interface and its schema disagree on a field, so the two cannot drift apart.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { EXCHANGES } from './exchanges.js';
import type { FeedError, FeedState } from './feeds.js';
import { FUNDING_BASES, OPPORTUNITY_CLOSE_REASONS, SETTLE_CURRENCIES, SLIPPAGE_SOURCES, type Opportunity } from './opportunity.js';
import { EXIT_REASONS, type Fill, type Leg, type Portfolio, type Position, type PositionTransition, type RiskRejection } from './position.js';
import { type ClosedOpportunity, type EngineStats, LATENCY_STAGES, type LatencySummary, QUARANTINE_REASONS } from './protocol.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** A point in time, epoch ms. Exports (server/api/export/) recognise these by the description suffix and write them as ISO-8601 UTC. */
export const EPOCH_MS_SUFFIX = ' (epoch ms)';
export const Ms = (description: string) => Type.Number({ description: `${description}${EPOCH_MS_SUFFIX}` });
const Usd = (description: string) => Type.Number({ description: `${description} (USD)` });

export const ExchangeEnum = Type.Enum(EXCHANGES, { description: 'Venue' });
export const TradingStateEnum = Type.Enum(['active', 'reducing', 'halted'], { description: 'Kill switch: active trades; reducing allows exits only; halted allows nothing' });

export const OpportunitySchema = Type.Object(
  {
    id: Type.String({ description: '`${instrument}|${longLeg}|${shortLeg}`, a leg = the exchange, `:${settle}` appended when not USDT' }),
    instrument: Type.String({ description: 'Normalised instrument key, e.g. BTC-PERP' }),
    longExchange: ExchangeEnum,
    shortExchange: ExchangeEnum,
    longSymbol: Type.String(),
    shortSymbol: Type.String(),
    longSettle: Type.Enum(SETTLE_CURRENCIES, { description: 'Settle (quote) currency of the long leg' }),
    shortSettle: Type.Enum(SETTLE_CURRENCIES, { description: 'Settle (quote) currency of the short leg' }),
    crossQuote: Type.Boolean({ description: 'The legs settle in different currencies (USDT against USDC)' }),
    longAsk: Type.Number(),
    shortBid: Type.Number(),
    longAskSize: Type.Number({ description: 'Base units' }),
    shortBidSize: Type.Number({ description: 'Base units' }),
    spreadBps: Type.Number({ description: '(shortBid − longAsk) / longAsk, bps' }),
    longFundingRate8h: Type.Number({ description: 'Fraction per 8 h' }),
    shortFundingRate8h: Type.Number({ description: 'Fraction per 8 h' }),
    fundingDelta8h: Type.Number({ description: 'short − long, fraction per 8 h; positive = the pair earns funding' }),
    fundingAprPct: Type.Number({ description: 'Annualised funding edge, percent' }),
    longFundingPredicted: Type.Optional(Type.Boolean()),
    shortFundingPredicted: Type.Optional(Type.Boolean()),
    longNextFundingMs: Ms('Next funding settlement of the long leg'),
    shortNextFundingMs: Ms('Next funding settlement of the short leg'),
    longFundingIntervalMs: Type.Number({ description: 'ms' }),
    shortFundingIntervalMs: Type.Number({ description: 'ms' }),
    feesBps: Type.Number({ description: 'Taker fees for entry and exit of both legs, bps of notional' }),
    longFeeTier: Type.Optional(Type.String({ description: 'Fee level applied to the long leg: the venue tier id (config fees.tier) or custom' })),
    shortFeeTier: Type.Optional(Type.String({ description: 'Fee level applied to the short leg: the venue tier id (config fees.tier) or custom' })),
    longTakerFeeBps: Type.Optional(Type.Number({ description: 'Taker fee per fill of the long leg, bps' })),
    shortTakerFeeBps: Type.Optional(Type.Number({ description: 'Taker fee per fill of the short leg, bps' })),
    slippageBps: Type.Number(),
    expectedFundingBps: Type.Number({ description: 'Funding expected over the holding horizon, bps (signed)' }),
    projectedProfitBps: Type.Number(),
    projectedProfitUsd: Type.Number(),
    notionalUsd: Type.Number(),
    confidence: Type.Number({ minimum: 0, maximum: 100 }),
    breakEvenHours: Nullable(Type.Number({ description: 'null when the funding edge is ≤ 0' })),
    fundingBasis: Type.Optional(Type.Enum(FUNDING_BASES, { description: 'Funding figure expectedFundingBps used (config detector.fundingBasis)' })),
    expectedFundingCurrentBps: Type.Optional(Type.Number({ description: 'Funding over the horizon from current rates, bps (signed)' })),
    expectedFundingRealisedBps: Type.Optional(Nullable(Type.Number({ description: 'Funding over the horizon from realised averages, bps (signed); null = not enough history' }))),
    realisedFundingDelta8h: Type.Optional(Nullable(Type.Number({ description: 'Realised short − long funding over the window, fraction per 8 h' }))),
    carryEarnedShare: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1, description: 'Share of the window settlements where the pair earned' }))),
    carryStdevBps: Type.Optional(Nullable(Type.Number({ description: 'Standard deviation of the per-settlement carry, bps' }))),
    carrySettlements: Type.Optional(Type.Integer({ description: 'Settlements behind the stability figures' })),
    netAprPct: Type.Optional(Type.Number({ description: 'Projected profit annualised over the holding horizon, percent' })),
    slippageSource: Type.Optional(Type.Enum(SLIPPAGE_SOURCES, { description: 'depth = VWAP on fresh books of both legs; touch = top-of-book estimate' })),
    entrySlippageBps: Type.Optional(Type.Number({ description: 'Entry slippage of both legs, bps of notional' })),
    exitSlippageBps: Type.Optional(Type.Number({ description: 'Estimated exit slippage of both legs, bps of notional' })),
    capacityUsd: Type.Optional(Nullable(Usd('Largest notional still reaching thresholds.minProfitBps on both books; null = no fresh books'))),
    longOpenInterestUsd: Type.Optional(Nullable(Usd('Open interest of the long leg market'))),
    shortOpenInterestUsd: Type.Optional(Nullable(Usd('Open interest of the short leg market'))),
    longVolume24hUsd: Type.Optional(Nullable(Usd('24 h volume of the long leg market'))),
    shortVolume24hUsd: Type.Optional(Nullable(Usd('24 h volume of the short leg market'))),
    longQuoteAgeMs: Type.Number(),
    shortQuoteAgeMs: Type.Number(),
    firstSeenMs: Ms('First seen'),
    updatedMs: Ms('Last updated'),
    peakProfitBps: Type.Number(),
    updateCount: Type.Integer(),
  },
  { title: 'Opportunity' },
);

export const ClosedOpportunitySchema = Type.Object(
  {
    opportunity: OpportunitySchema,
    reason: Type.Enum(OPPORTUNITY_CLOSE_REASONS),
    lifetimeMs: Type.Number(),
    closedMs: Ms('Closed'),
  },
  { title: 'ClosedOpportunity' },
);

export const FundingBookedSchema = Type.Object(
  {
    fundingMs: Ms('The settlement'),
    rate: Type.Number({ description: 'Fraction per the leg\'s funding interval; positive = longs pay shorts' }),
    price: Type.Number({ description: 'Price per unit of the underlying the position was valued at' }),
    priceSource: Type.Enum(['reference', 'book'], {
      description: "`reference` = the venue's funding reference price (its mark price; the oracle price on a venue that pays funding on that); `book` = the leg's close-side book price (no fresh reference price)",
    }),
    quantity: Type.Number({ description: 'Base units held' }),
    amountUsd: Type.Number({ description: 'Signed for the holder (negative = paid): ∓ rate × quantity × price' }),
  },
  { title: 'FundingBooked', description: 'The last funding settlement booked on a leg' },
);

export const LegSchema = Type.Object(
  {
    exchange: ExchangeEnum,
    symbol: Type.String(),
    settle: Type.Optional(Type.Enum(SETTLE_CURRENCIES, { description: 'Settle currency of the leg market; absent = USDT' })),
    side: Type.Enum(['long', 'short']),
    quantity: Type.Number({ description: 'Base units' }),
    entryPrice: Type.Number(),
    markPrice: Type.Number({ description: 'Bid for a long, ask for a short' }),
    marginUsd: Type.Number(),
    liquidationPrice: Type.Number(),
    liquidationDistancePct: Type.Number(),
    fundingUsd: Type.Number(),
    feesUsd: Type.Number(),
    unrealisedPnlUsd: Type.Number(),
    nextFundingMs: Ms('Next funding settlement not yet accrued; 0 when unknown'),
    fundingRate: Type.Optional(Type.Number({ description: 'Fraction per its interval' })),
    fundingIntervalMs: Type.Optional(Type.Number()),
    lastFunding: Type.Optional(FundingBookedSchema),
  },
  { title: 'Leg' },
);

const PositionStateEnum = Type.Enum(['opening', 'open', 'closing', 'closed', 'broken']);

export const PositionTransitionSchema = Type.Object({
  from: Nullable(PositionStateEnum),
  to: PositionStateEnum,
  reason: Type.String(),
  tsMs: Ms('When'),
});

export const PositionSchema = Type.Object(
  {
    id: Type.String(),
    instrument: Type.String(),
    opportunityId: Type.String(),
    state: PositionStateEnum,
    long: LegSchema,
    short: LegSchema,
    notionalUsd: Type.Number(),
    openedMs: Ms('Opened'),
    closedMs: Nullable(Ms('Closed')),
    entrySpreadBps: Type.Number(),
    currentSpreadBps: Type.Number({ description: 'Close-side spread in the entry spread’s sign, bps' }),
    entryProjectedProfitBps: Type.Number(),
    entryFundingDelta8h: Type.Optional(Type.Number()),
    realisedPnlUsd: Type.Number(),
    unrealisedPnlUsd: Type.Number(),
    fundingUsd: Type.Number(),
    feesUsd: Type.Number(),
    exitReason: Nullable(Type.Enum(EXIT_REASONS)),
    transitions: Type.Array(PositionTransitionSchema),
    markStale: Type.Optional(Type.Boolean({ description: 'Marks are from before a restart (or no usable quote yet): unrealised PnL is not current' })),
    action: Type.Optional(Nullable(Type.String({ description: 'What the strategy is doing about this position (e.g. unwinding a naked leg, waiting for a venue)' }))),
    warning: Type.Optional(Nullable(Type.String({ description: 'A problem the trader should know (e.g. a venue not live after the wait bound)' }))),
  },
  { title: 'Position' },
);

export const FillSchema = Type.Object(
  {
    id: Type.String(),
    positionId: Type.String(),
    instrument: Type.String(),
    exchange: ExchangeEnum,
    symbol: Type.String(),
    side: Type.Enum(['buy', 'sell']),
    purpose: Type.Enum(['entry', 'exit', 'unwind']),
    price: Type.Number({ description: 'Volume-weighted over the levels walked' }),
    quantity: Type.Number({ description: 'Base units' }),
    notionalUsd: Type.Number(),
    feeUsd: Type.Number(),
    decisionMs: Ms('Decision'),
    fillMs: Ms('Fill'),
    latencyUs: Type.Number({ description: 'Decision to fill, µs' }),
  },
  { title: 'Fill' },
);

export const RiskRejectionSchema = Type.Object(
  {
    tsMs: Ms('When'),
    opportunityId: Type.String(),
    instrument: Type.String(),
    reason: Type.String({ description: 'Machine-readable, e.g. max_open_positions, trading_halted, cooldown' }),
    detail: Type.String(),
  },
  { title: 'RiskRejection' },
);

export const PortfolioSchema = Type.Object(
  {
    tsMs: Ms('As of'),
    startingCapitalUsd: Usd('Starting capital'),
    equityUsd: Usd('Starting capital + realised + unrealised PnL'),
    availableCapitalUsd: Usd('Equity not reserved as margin'),
    reservedMarginUsd: Usd('Margin of open legs'),
    grossExposureUsd: Usd('Notional across open legs'),
    exposureByInstrument: Type.Record(Type.String(), Type.Number()),
    exposureByExchange: Type.Partial(Type.Record(ExchangeEnum, Type.Number())),
    realisedPnlUsd: Usd('Realised PnL'),
    unrealisedPnlUsd: Usd('Unrealised PnL at current marks'),
    feesPaidUsd: Usd('Fees paid'),
    fundingUsd: Usd('Funding received (negative: paid)'),
    dailyPnlUsd: Usd('PnL of the current UTC day'),
    openPositions: Type.Integer(),
    tradingState: TradingStateEnum,
    staleMarkPositions: Type.Optional(Type.Integer({ description: 'Live positions whose marks are not current' })),
  },
  { title: 'Portfolio' },
);

export const FeedErrorSchema = Type.Object(
  {
    code: Type.String({ description: 'The cause: an OS error code (ECONNREFUSED, ENOTFOUND, …), `HTTP <status>`, or CLOSED, SILENT, NOT_LISTED, NO_ENDPOINTS, ERROR' }),
    message: Type.String({ description: 'Human-readable, naming the step that failed' }),
    atMs: Ms('When it failed'),
  },
  { title: 'FeedError' },
);

export const FeedDiscoverySchema = Type.Object(
  {
    listed: Type.Integer({ description: 'Linear perpetuals the venue lists with status trading' }),
    subscribed: Type.Integer({ description: 'Venue symbols subscribed (in the scanned universe)' }),
    skipped: Type.Record(Type.String(), Type.Integer(), { description: 'Entries of the instruments response skipped, by reason' }),
    refreshedMs: Nullable(Ms('When the last good discovery arrived; null before the first')),
    failures: Type.Integer({ description: 'Failed discoveries since the last good one (its table is kept meanwhile)' }),
  },
  { title: 'FeedDiscovery' },
);

export const FeedStateSchema = Type.Object(
  {
    exchange: ExchangeEnum,
    status: Type.Enum(['connecting', 'live', 'stale', 'backoff', 'stopped']),
    connections: Type.Integer({ description: 'Open sockets for this venue' }),
    subscriptions: Type.Integer(),
    lastMessageAgeMs: Nullable(Type.Number({ description: 'ms since the last message; null before the first' })),
    messages: Type.Integer(),
    messagesPerSec: Type.Number(),
    errors: Type.Record(Type.String(), Type.Integer(), { description: 'Malformed or unknown messages dropped, by reason' }),
    reconnects: Type.Integer(),
    metadata: Type.Enum(['loading', 'loaded', 'failed']),
    lastError: Nullable(FeedErrorSchema),
    downSinceMs: Nullable(Ms('Not live since (from start until the first data); null while live')),
    unlisted: Type.Optional(Type.Array(Type.String(), { description: 'Configured instrument keys (explicit list) this venue does not list' })),
    discovery: Type.Optional(FeedDiscoverySchema),
    removed: Type.Optional(Type.Literal(true, { description: 'The venue was removed from the config: this is its last state' })),
  },
  { title: 'FeedState' },
);

export const LatencySummarySchema = Type.Object({ p50Us: Type.Number(), p99Us: Type.Number(), count: Type.Integer() });

export const EngineStatsSchema = Type.Object(
  {
    tsMs: Ms('As of'),
    updatesPerSec: Type.Number(),
    updatesTotal: Type.Integer(),
    pipelineDropped: Type.Integer(),
    rejected: Type.Record(Type.String(), Type.Integer(), { description: 'Updates rejected for insane values, by reason' }),
    busMissed: Type.Record(Type.String(), Type.Integer(), { description: 'Events missed by slow bus subscribers, by subscriber' }),
    opportunitiesOpen: Type.Integer(),
    wsClients: Type.Integer(),
    latency: Type.Partial(Type.Record(Type.Enum(LATENCY_STAGES), LatencySummarySchema)),
    quarantine: Type.Object(
      {
        total: Type.Integer({ description: 'Quotes quarantined since start' }),
        byExchange: Type.Partial(Type.Record(ExchangeEnum, Type.Partial(Type.Record(Type.Enum(QUARANTINE_REASONS), Type.Integer())))),
        active: Type.Partial(Type.Record(ExchangeEnum, Type.Integer({ description: 'Symbols whose latest quote is held now' }))),
        review: Type.Array(
          Type.Object({
            instrument: Type.String(),
            exchange: ExchangeEnum,
            symbol: Type.String(),
            settle: Type.String({ description: 'Settle currency of the venue market' }),
            price: Type.Number({ description: 'Mid of its latest held quote' }),
            consensusPrice: Type.Union([Type.Number(), Type.Null()], { description: 'Median mid of the other venues (null: none fresh)' }),
            deviationPct: Type.Union([Type.Number(), Type.Null()], { description: 'price / consensusPrice − 1, %' }),
            sinceMs: Ms('Held off-consensus without a break since'),
            lastQuoteMs: Ms('Latest held quote received at'),
          }),
          { description: 'Symbols flagged for review: off the consensus for longer than detector.reviewAfterMs (same ticker, another token?)' },
        ),
      },
      { description: 'Implausible quotes held out of detection (server/engine/quarantine.ts)' },
    ),
  },
  { title: 'EngineStats' },
);

/**
 * True when A and B have the same keys and each is assignable to the other (a field added to, dropped
 * from or retyped in only one of them makes it false).
 */
export type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? ([keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false) : false) : false;

// A compile error on one of these lines: the interface and its schema above disagree; change both.
const schemaMatchesType: {
  opportunity: SameShape<Static<typeof OpportunitySchema>, Opportunity>;
  closed: SameShape<Static<typeof ClosedOpportunitySchema>, ClosedOpportunity>;
  leg: SameShape<Static<typeof LegSchema>, Leg>;
  transition: SameShape<Static<typeof PositionTransitionSchema>, PositionTransition>;
  position: SameShape<Static<typeof PositionSchema>, Position>;
  fill: SameShape<Static<typeof FillSchema>, Fill>;
  rejection: SameShape<Static<typeof RiskRejectionSchema>, RiskRejection>;
  portfolio: SameShape<Static<typeof PortfolioSchema>, Portfolio>;
  feedError: SameShape<Static<typeof FeedErrorSchema>, FeedError>;
  feed: SameShape<Static<typeof FeedStateSchema>, FeedState>;
  latency: SameShape<Static<typeof LatencySummarySchema>, LatencySummary>;
  stats: SameShape<Static<typeof EngineStatsSchema>, EngineStats>;
} = {
  opportunity: true,
  closed: true,
  leg: true,
  transition: true,
  position: true,
  fill: true,
  rejection: true,
  portfolio: true,
  feedError: true,
  feed: true,
  latency: true,
  stats: true,
};
void schemaMatchesType;
