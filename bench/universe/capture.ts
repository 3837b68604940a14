/**
 * The same frames for the yardsticks: connects the server's own feed code (FeedManager with a real Engine and
 * an in-memory recorder) to a running simulator for a few seconds and returns every venue's recorded frames and
 * metadata; then runs them through ccxt.pro's handler and through our parser + engine in this process.
 */
import { DEFAULT_CONFIG } from '../../shared/config.js';
import { EXCHANGES, type Exchange, perVenue } from '../../shared/exchanges.js';
import { Engine } from '../../server/engine/engine.js';
import type { InstrumentMeta, MetadataTable, UpdateSink, VenueEndpoints } from '../../server/feeds/adapter.js';
import { ADAPTERS } from '../../server/feeds/endpoints.js';
import { FeedManager } from '../../server/feeds/manager.js';
import { FrameRecorder } from '../../server/feeds/recorder.js';
import { ccxtHandler, ccxtIdOf, ccxtMarket, throughput } from '../ingest/ccxt.js';

export interface Captured {
  frames: Record<Exchange, string[]>;
  meta: Record<Exchange, MetadataTable>;
}

const configFor = (instruments: string[]) => ({ ...DEFAULT_CONFIG, market: { ...DEFAULT_CONFIG.market, instruments } });

/**
 * The feed's recorder hook, kept in memory: records nothing until `recording` is set (the venues start at
 * different times), then up to `max` frames per venue. Nothing is written to disk.
 */
class CaptureRecorder extends FrameRecorder {
  readonly captured = perVenue((): string[] => []);
  recording = false;
  constructor(private readonly max: number) {
    super('/dev/null');
  }
  override record(exchange: Exchange, raw: string): void {
    const list = this.captured[exchange];
    if (this.recording && list.length < this.max) list.push(raw);
  }
  override recordRest(): void {}
}

/** Records `seconds` of every venue's frames as the server's feed code receives them, once every venue is live. */
export async function captureFrames(endpoints: Record<Exchange, VenueEndpoints>, instruments: string[], seconds: number, perVenueMax = 30_000): Promise<Captured> {
  const recorder = new CaptureRecorder(perVenueMax);
  const engine = new Engine({ config: configFor(instruments) });
  const feeds = new FeedManager({ engine, exchanges: [...EXCHANGES], instruments, endpoints, recorder });
  void feeds.start();
  while (!feeds.states().every((f) => f.status === 'live')) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1000)); // the last topics' snapshots
  recorder.recording = true;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  recorder.recording = false;
  await feeds.stop();
  await recorder.close();
  const meta = feeds.metadata();
  return { frames: recorder.captured, meta: perVenue((ex) => meta[ex] ?? new Map()) };
}

export interface YardstickResult {
  frames: number;
  /** ccxt.pro: JSON.parse + handleMessage, CPU µs per frame. */
  ccxt_us_per_msg: number;
  ccxt_threw: number;
  /** Our adapter parse + engine push + drain (detection) in this process, CPU µs per frame. */
  parse_engine_us_per_msg: number;
}

/** Per venue: ccxt's handler and our parse + engine on the captured frames; plus the frame-weighted mean. */
export async function yardsticks(c: Captured, instruments: string[], seconds: number): Promise<{ perVenue: Partial<Record<Exchange, YardstickResult | { error: string }>>; ccxt_us_per_msg: number; parse_engine_us_per_msg: number }> {
  const out: Partial<Record<Exchange, YardstickResult | { error: string }>> = {};
  let n = 0;
  let ccxtSum = 0;
  let oursSum = 0;
  for (const ex of EXCHANGES) {
    const frames = c.frames[ex];
    if (frames.length === 0) {
      out[ex] = { error: 'no frames captured' };
      continue;
    }
    const metas = [...c.meta[ex].values()];
    const ccxtId = await ccxtIdOf(ex);
    if (ccxtId === null) continue;
    const run = ccxtHandler(ccxtId, metas.map((m) => ccxtMarket(m.symbol, m.base, m.contractValue, m.quote)), frames);
    if ('error' in run) {
      out[ex] = { error: `ccxt: ${run.error}` };
      continue;
    }
    const ccxtUs = 1e6 / throughput(frames.length, run.step, seconds);
    // Ours: a fresh engine, the venue's parser on a copy of its metadata registered there (as FeedManager does).
    const engine = new Engine({ config: configFor(instruments) });
    const table: MetadataTable = new Map();
    for (const m of metas) table.set(m.symbol, { ...m, id: engine.registerInstrument(ex, m.symbol, { base: m.base, quote: m.quote }) });
    const parser = ADAPTERS[ex].createParser(table);
    const sink: UpdateSink = {
      quote: (m: InstrumentMeta, bid, ask, bs, as, ts) => void engine.pushQuote(m.id, bid, ask, bs, as, ts, ts * 1000),
      funding: (m: InstrumentMeta, rate, iv, next, predicted, ts) => void engine.pushFunding(m.id, rate, iv, next, predicted, ts, ts * 1000),
    };
    const oursUs = 1e6 / throughput(frames.length, (i) => {
      if (parser.parse(frames[i], sink) === 'data') engine.drain();
    }, seconds);
    out[ex] = { frames: frames.length, ccxt_us_per_msg: ccxtUs, ccxt_threw: run.threw(), parse_engine_us_per_msg: oursUs };
    n += frames.length;
    ccxtSum += ccxtUs * frames.length;
    oursSum += oursUs * frames.length;
  }
  return { perVenue: out, ccxt_us_per_msg: ccxtSum / n, parse_engine_us_per_msg: oursSum / n };
}
