/**
 * Builds a real perpscan app in-process (real engine, strategy, memory persistence, no feeds) and drives
 * the real engine with quotes, so routes and the stream see genuine opportunities and positions.
 */
import { applyConfigPatch, type Config, DEFAULT_CONFIG } from '../../shared/config.js';
import type { Exchange } from '../../shared/exchanges.js';
import { buildApp, type BuildAppOptions, type PerpscanApp } from '../../server/app.js';
import { nowUs } from '../../server/engine/index.js';

const EIGHT_HOURS_MS = 8 * 3_600_000;

export function testConfig(patch: unknown = {}): Config {
  const base = applyConfigPatch(DEFAULT_CONFIG, {
    strategy: { minOpportunityAgeMs: 0, cooldownMs: 0 },
    market: { exchanges: ['bybit', 'okx', 'kucoin', 'binance'], instruments: ['BTC-PERP', 'ETH-PERP', 'SOL-PERP'] },
  });
  if (!base.ok) throw new Error('bad base test config');
  const r = applyConfigPatch(base.config, patch);
  if (!r.ok) throw new Error(`bad test config: ${JSON.stringify(r.errors)}`);
  return r.config;
}

export interface TestApp extends PerpscanApp {
  /** Pushes one top-of-book quote and drains the engine (detection on the same tick). */
  quote(instrument: string, exchange: Exchange, bid: number, ask: number, size?: number): void;
  /** Sets all venues of an instrument to the same tight market (no opportunity). */
  flat(instrument: string, mid: number): void;
  /** Opens (or moves) a spread: `longEx` cheap, `shortEx` rich, `bps` apart. */
  spread(instrument: string, longEx: Exchange, shortEx: Exchange, mid: number, bps: number): void;
}

export async function buildTestApp(opts: BuildAppOptions = {}): Promise<TestApp> {
  const built = await buildApp({ feeds: 'none', staticDir: null, start: false, config: testConfig(), ...opts });
  const engine = built.engine;
  const now = opts.now ?? Date.now;
  const funded = new Set<number>();
  const quote = (instrument: string, exchange: Exchange, bid: number, ask: number, size = 100) => {
    const id = engine.instruments.idFor(instrument, exchange);
    if (id < 0) throw new Error(`instrument ${instrument} on ${exchange} not registered`);
    if (!funded.has(id)) {
      // A live venue publishes funding with its quotes; the detector does not score a leg whose funding is
      // unknown (detector.requireFunding). Zero funding on an 8 h interval keeps these tests about prices.
      funded.add(id);
      engine.pushFunding(id, 0, EIGHT_HOURS_MS, (Math.floor(now() / EIGHT_HOURS_MS) + 1) * EIGHT_HOURS_MS, false, now(), nowUs());
    }
    engine.pushQuote(id, bid, ask, size, size, now(), nowUs());
    engine.drain();
  };
  const flat = (instrument: string, mid: number) => {
    for (const ex of built.config.config.market.exchanges) quote(instrument, ex, mid * (1 - 0.00005), mid * (1 + 0.00005));
  };
  const spread = (instrument: string, longEx: Exchange, shortEx: Exchange, mid: number, bps: number) => {
    const half = (mid * bps) / 2e4;
    quote(instrument, longEx, mid - half - mid * 0.0001, mid - half);
    quote(instrument, shortEx, mid + half, mid + half + mid * 0.0001);
  };
  return Object.assign(built, { quote, flat, spread });
}

/**
 * Test apps a test file builds, all closed by `closeAll` (register it with `afterEach` at the file's top
 * level, after whatever must go first, e.g. client sockets). `serve` also listens on 127.0.0.1.
 */
export function trackApps(): {
  make(opts?: BuildAppOptions): Promise<TestApp>;
  serve(opts?: BuildAppOptions): Promise<{ a: TestApp; port: number }>;
  closeAll(): Promise<void>;
} {
  const apps: TestApp[] = [];
  const make = async (opts: BuildAppOptions = {}): Promise<TestApp> => {
    const a = await buildTestApp(opts);
    apps.push(a);
    return a;
  };
  const serve = async (opts: BuildAppOptions = {}): Promise<{ a: TestApp; port: number }> => {
    const a = await make(opts);
    await a.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = a.app.server.address();
    if (!addr || typeof addr !== 'object') throw new Error('not listening');
    return { a, port: addr.port };
  };
  const closeAll = async (): Promise<void> => {
    while (apps.length) await apps.pop()!.close();
  };
  return { make, serve, closeAll };
}
