/**
 * Replay as a library: recorded raw frames (or normalised MarketRecords from persistence) go through
 * the same adapters' parsers and the engine, on the RECORDING's clock (engine `now` = frame receive
 * time, recvUs = frame time), so the same input gives the same output every time.
 *
 *   const r = createReplay({ config });
 *   for await (const f of readRecording(file)) await r.feed(f);
 *   r.engine.opportunities(); r.stats();
 *
 * Metadata per venue, first that applies: an instruments file (`instruments`), the REST responses the
 * recording carries (`rest` frames, loaded through the venue's own adapter before its next socket frame:
 * only `feed` does this, as it is async), else the built-in defaults.
 */
import type { Config } from '../../shared/config.js';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import { Engine } from '../engine/engine.js';
import { type InstrumentMeta, type MetadataTable, type ParseOutcome, type UpdateSink, type VenueOptions, type VenueParser, DEFAULT_FUNDING_INTERVAL_MS, count, knownFundingIntervalMs } from '../feeds/adapter.js';
import { defaultSymbol, symbolBaseQuote } from '../venues/index.js';
import { instrumentKey, normaliseInstrumentKey, parseInstrumentKey } from '../venues/symbology.js';
import { ADAPTERS } from '../feeds/endpoints.js';
import { cloneTable, DEFAULT_INSTRUMENT_KEYS, defaultMetadata } from '../feeds/metadata.js';
import type { RecordedFrame } from '../feeds/recorder.js';
import { applyRefreshedMeta, type FundingTiming, type LastFunding, timingPush } from '../feeds/funding-timing.js';
import type { MarketRecord } from '../persistence/persistence.js';
import { RecordedMetadata } from './recorded-metadata.js';

/** One normalised update, as `--emit quotes` prints it. */
export type ReplayUpdate =
  | { t: number; ex: Exchange; symbol: string; instrument: string; kind: 'quote'; bid: number; ask: number; bidSize: number; askSize: number; exchangeTsMs: number }
  | { t: number; ex: Exchange; symbol: string; instrument: string; kind: 'funding'; rate: number; intervalMs: number; nextFundingMs: number; predicted: boolean; exchangeTsMs: number };

export interface ReplayOptions {
  config: Config;
  /** Metadata per venue (e.g. from `loadInstrumentsFile`); a venue not given uses the built-in defaults. */
  instruments?: Partial<Record<Exchange, MetadataTable>>;
  /** Called for every normalised update pushed to the engine (for `--emit quotes`). */
  onUpdate?: (update: ReplayUpdate) => void;
  /** Run `engine.sweep` every this many ms of recording time (stale-quote closes). Default 250; 0 = never. */
  sweepEveryMs?: number;
  /** Engine pipeline capacity (default: the engine's). */
  pipelineCapacity?: number;
}

export interface ReplayStats {
  frames: number;
  /** Frames per venue by parse outcome. */
  outcomes: Record<Exchange, Partial<Record<ParseOutcome, number>>>;
  /** Dropped frames per venue by reason. */
  errors: Record<Exchange, Record<string, number>>;
  quotes: number;
  fundings: number;
  records: number;
  /** Recording time of the first and last frame (epoch ms). */
  firstMs: number | null;
  lastMs: number | null;
  /** Frames whose time went backwards (fed at the previous clock). */
  outOfOrder: number;
  /** Persisted records skipped because their symbol is not a recognised venue symbol, per venue. */
  unknownRecords: Record<string, number>;
  /** REST metadata responses read from the recording (`rest` frames; not counted in `frames`). */
  restResponses: number;
  /** Where each venue's metadata came from. */
  metadata: Record<Exchange, 'file' | 'recorded' | 'defaults'>;
  /** Why a venue's recorded REST metadata could not be used (it kept its previous metadata). */
  metadataErrors: Partial<Record<Exchange, string>>;
}

export interface Replay {
  readonly engine: Engine;
  /**
   * Parse one recorded frame, push its updates, drain the engine at the frame's time. A `rest` frame is
   * kept for `feed` (returns 'ignored'): a synchronous caller replays with the metadata it already has.
   */
  feedFrame(frame: RecordedFrame): ParseOutcome;
  /** Like feedFrame, but first loads the venue's metadata from the REST responses recorded before this frame. */
  feed(frame: RecordedFrame): Promise<ParseOutcome>;
  /** Push one normalised record (from persistence) at its receive time. */
  feedRecord(record: MarketRecord): void;
  /** The replay clock (epoch ms of the last frame). */
  now(): number;
  stats(): ReplayStats;
}

function perExchange<T>(make: () => T): Record<Exchange, T> {
  return Object.fromEntries(EXCHANGES.map((ex) => [ex, make()])) as Record<Exchange, T>;
}

export function createReplay(opts: ReplayOptions): Replay {
  let clockMs = 0;
  const engine = new Engine({ config: opts.config, now: () => clockMs, ...(opts.pipelineCapacity ? { pipelineCapacity: opts.pipelineCapacity } : {}) });
  const sweepEvery = opts.sweepEveryMs ?? 250;
  let lastSweepMs = 0;
  const onUpdate = opts.onUpdate;
  const stats: ReplayStats = {
    frames: 0,
    outcomes: perExchange(() => ({})),
    errors: perExchange(() => ({})),
    quotes: 0,
    fundings: 0,
    records: 0,
    firstMs: null,
    lastMs: null,
    outOfOrder: 0,
    unknownRecords: {},
    restResponses: 0,
    metadata: perExchange(() => 'defaults' as const),
    metadataErrors: {},
  };
  const recorded = new RecordedMetadata();
  const venueOptions: Readonly<Record<string, VenueOptions>> = opts.config.venues;

  const tables = {} as Record<Exchange, MetadataTable>;
  const parsers = {} as Record<Exchange, VenueParser>;
  // Replay-only copies for records of symbols the frames' metadata does not list.
  const bySymbol = {} as Record<Exchange, Map<string, InstrumentMeta>>;
  for (const ex of EXCHANGES) {
    const given = opts.instruments?.[ex];
    const table = given && given.size > 0 ? cloneTable(given) : defaultMetadata(ex, opts.config.market.instruments === 'all' ? undefined : opts.config.market.instruments);
    if (given && given.size > 0) stats.metadata[ex] = 'file';
    for (const m of table.values()) m.id = engine.registerInstrument(ex, m.symbol, { base: m.base, quote: m.quote });
    tables[ex] = table;
    bySymbol[ex] = new Map(table);
    parsers[ex] = ADAPTERS[ex].createParser(table);
  }
  stats.errors = Object.fromEntries(EXCHANGES.map((ex) => [ex, parsers[ex].errors])) as Record<Exchange, Record<string, number>>;

  // Persisted records are already normalised (sizes in base units): a symbol outside the metadata
  // only needs its base/quote, which the native symbol gives.
  const unknownRecords = stats.unknownRecords;
  const metaFor = (ex: Exchange, symbol: string): InstrumentMeta | null => {
    const known = bySymbol[ex].get(symbol);
    if (known) return known;
    const bq = symbolBaseQuote(ex, symbol);
    if (!bq) return null;
    const m: InstrumentMeta = { exchange: ex, symbol, key: instrumentKey(bq.base), base: bq.base, quote: bq.quote, contractValue: 1, fundingIntervalMs: DEFAULT_FUNDING_INTERVAL_MS, fundingIntervalAssumed: true, nextFundingMs: 0, id: -1 };
    m.id = engine.registerInstrument(ex, symbol, bq);
    bySymbol[ex].set(symbol, m);
    return m;
  };

  // The last funding pushed per symbol (streamed or seeded): a mid-run REST re-read keeps the fresher figure.
  const lastFunding = new Map<InstrumentMeta, LastFunding>();
  let currentEx: Exchange = EXCHANGES[0];
  let recvUs = 0;
  const sink: UpdateSink = {
    quote(meta, bid, ask, bidSize, askSize, exchangeTsMs) {
      stats.quotes++;
      engine.pushQuote(meta.id, bid, ask, bidSize, askSize, exchangeTsMs, recvUs);
      onUpdate?.({ t: clockMs, ex: currentEx, symbol: meta.symbol, instrument: meta.key, kind: 'quote', bid, ask, bidSize, askSize, exchangeTsMs });
    },
    funding(meta, rate, intervalMs, nextFundingMs, predicted, exchangeTsMs) {
      stats.fundings++;
      const last = lastFunding.get(meta);
      if (last) Object.assign(last, { rate, intervalMs, nextFundingMs, predicted, exchangeTsMs });
      else lastFunding.set(meta, { rate, intervalMs, nextFundingMs, predicted, exchangeTsMs });
      engine.pushFunding(meta.id, rate, intervalMs, nextFundingMs, predicted, exchangeTsMs, recvUs);
      onUpdate?.({ t: clockMs, ex: currentEx, symbol: meta.symbol, instrument: meta.key, kind: 'funding', rate, intervalMs, nextFundingMs, predicted, exchangeTsMs });
    },
    // Open interest, volume and the funding reference price of replayed frames reach the engine as live ones do.
    stats(meta, openInterestUsd, volume24hUsd, exchangeTsMs, fundingPrice) {
      engine.pushStats(meta.id, openInterestUsd, volume24hUsd, exchangeTsMs, recvUs, fundingPrice);
    },
  };

  const advance = (t: number) => {
    if (t < clockMs) stats.outOfOrder++;
    else clockMs = t;
    if (stats.firstMs === null) {
      stats.firstMs = clockMs;
      lastSweepMs = clockMs;
    }
    stats.lastMs = clockMs;
    recvUs = clockMs * 1000;
    if (sweepEvery > 0 && clockMs - lastSweepMs >= sweepEvery) {
      lastSweepMs = clockMs;
      engine.sweep(clockMs);
    }
  };

  /**
   * Applies the venue's recorded REST responses as the live feed did: the first load (before connecting)
   * replaces the metadata, registering the listed symbols and pushing their REST-seeded funding; a later
   * one (a re-read mid-run, e.g. after a settlement) updates known symbols in place and pushes funding
   * only when their timing changed, keeping the fresher of seed and streamed rate (`timingPush`, as live).
   */
  const applyRecordedMetadata = async (ex: Exchange): Promise<void> => {
    let loaded: MetadataTable;
    try {
      const keys = opts.config.market.instruments;
      const symbols = (keys === 'all' ? DEFAULT_INSTRUMENT_KEYS : keys).flatMap((k) => { const bq = parseInstrumentKey(k); return bq ? [defaultSymbol(ex, bq.base)] : []; });
      // The venue's options (config.venues) as the live feeds pass them: a replay must discover what the run did.
      loaded = await recorded.load(ex, ADAPTERS[ex], keys === 'all' ? 'all' : keys.map((k) => normaliseInstrumentKey(k) ?? k), symbols, venueOptions[ex] ?? {});
    } catch (e) {
      stats.metadataErrors[ex] = (e as Error).message;
      return;
    }
    const table = tables[ex]; // the venue's parser reads this same map
    const reread = stats.metadata[ex] === 'recorded';
    const refreshed: Array<[InstrumentMeta, FundingTiming]> = [];
    const added: InstrumentMeta[] = [];
    const next = new Map<string, InstrumentMeta>();
    for (const fresh of loaded.values()) {
      const known = reread ? table.get(fresh.symbol) : undefined;
      if (known) {
        refreshed.push([known, applyRefreshedMeta(known, fresh)]);
        next.set(known.symbol, known);
      } else {
        fresh.id = engine.registerInstrument(ex, fresh.symbol, { base: fresh.base, quote: fresh.quote });
        added.push(fresh);
        next.set(fresh.symbol, fresh);
      }
    }
    table.clear();
    for (const [s, m] of next) {
      table.set(s, m);
      bySymbol[ex].set(s, m);
    }
    currentEx = ex;
    for (const [m, before] of refreshed) {
      const p = timingPush(m, before, lastFunding.get(m), clockMs);
      if (p) sink.funding(m, p.rate, p.intervalMs, p.nextFundingMs, p.predicted, p.exchangeTsMs);
    }
    for (const m of added) {
      const seed = m.seedFunding;
      if (seed) sink.funding(m, seed.rate, seed.intervalMs, seed.nextFundingMs, seed.predicted, seed.tsMs);
    }
    engine.drain();
    stats.metadata[ex] = 'recorded';
  };

  /** A recorded market-statistics read (VenueAdapter.restStats): its figures reach the engine as the live read's did. */
  const replayRestStats = (frame: RecordedFrame): ParseOutcome => {
    const rs = ADAPTERS[frame.ex].restStats;
    let body: unknown;
    try {
      body = JSON.parse(frame.raw);
    } catch {
      return 'rejected';
    }
    const path = rs?.paths.find((p) => p === frame.rest);
    if (!rs || path === undefined) return 'ignored';
    currentEx = frame.ex;
    const n = rs.parse(path, body, tables[frame.ex], sink, frame.t);
    if (n > 0) engine.drain();
    return n < 0 ? 'rejected' : n > 0 ? 'data' : 'ignored';
  };

  const feedFrame = (frame: RecordedFrame): ParseOutcome => {
    if (frame.rest !== undefined) {
      // REST frames do not move the clock (their time is the request's).
      stats.restResponses++;
      if (frame.stats === true) return replayRestStats(frame);
      // Metadata carries no market data: it is loaded before the venue's next socket frame.
      if (stats.metadata[frame.ex] !== 'file') recorded.add({ ...frame, rest: frame.rest });
      return 'ignored';
    }
    advance(frame.t);
    stats.frames++;
    currentEx = frame.ex;
    const outcome = parsers[frame.ex].parse(frame.raw, sink);
    const o = stats.outcomes[frame.ex];
    o[outcome] = (o[outcome] ?? 0) + 1;
    if (outcome === 'data') engine.drain();
    return outcome;
  };

  return {
    engine,
    now: () => clockMs,
    stats: () => stats,
    feedFrame,

    async feed(frame: RecordedFrame): Promise<ParseOutcome> {
      if (frame.rest === undefined && recorded.pending(frame.ex)) await applyRecordedMetadata(frame.ex);
      return feedFrame(frame);
    },

    feedRecord(r: MarketRecord): void {
      advance(r.recvMs);
      stats.records++;
      currentEx = r.exchange;
      const m = metaFor(r.exchange, r.symbol);
      if (m === null) {
        count(unknownRecords, r.exchange);
        return;
      }
      if (r.kind === 'quote') {
        if (r.bid === undefined || r.ask === undefined) return;
        sink.quote(m, r.bid, r.ask, r.bidSize ?? 0, r.askSize ?? 0, r.exchangeTsMs);
      } else {
        if (r.fundingRate === undefined || r.nextFundingMs === undefined) return;
        sink.funding(m, r.fundingRate, r.fundingIntervalMs ?? knownFundingIntervalMs(m), r.nextFundingMs, r.predicted ?? false, r.exchangeTsMs);
      }
      engine.drain();
    },
  };
}

/** Serialises one opportunity event for output (stable key order = the event's own). */
export function formatEvent(event: OpportunityEvent): string {
  return JSON.stringify(event);
}
