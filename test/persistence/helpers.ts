/**
 * Helpers for the persistence suites: unique key prefixes on the shared Redis (cleaned up after), a
 * PRIVATE redis-server on a free loopback port that a test may stop and start (never the shared one),
 * fixtures, and a TCP proxy that can lose a reply (to test retried batches).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { DEFAULT_CONFIG, type VersionedConfig } from '../../shared/config.js';
import type { Exchange } from '../../shared/exchanges.js';
import { opportunityId, type Opportunity, type OpportunityEvent, type SettleCurrency } from '../../shared/opportunity.js';
import type { Fill, Position } from '../../shared/position.js';
import type { MarketRecord, PortfolioState } from '../../server/persistence/persistence.js';
import type { ServerProcess } from '../helpers/server.js';

export const SHARED_REDIS_URL = process.env.REDIS_URL ?? '';

export function uniquePrefix(name: string): string {
  return `perpscan-test:${name}:${process.pid}:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}:`;
}

/** Deletes every key under `prefix` on the Redis at `url`. */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** A JSON request to the server process's /api (no token); resolves the status and the parsed body. */
export async function serverApi<T>(s: ServerProcess, path: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: T }> {
  const res = await fetch(`${s.baseUrl}/api${path}`, {
    method: init?.method ?? 'GET',
    headers: init?.body === undefined ? {} : { 'content-type': 'application/json' },
    body: init?.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A redis-server of this test's own on 127.0.0.1:port (no persistence to disk), stoppable and restartable. */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'perpscan-redis-'));
  private constructor(
    readonly port: number,
    private readonly durable: boolean,
  ) {}

  /** `durable`: append-only file (fsync always) in a temp dir, so acknowledged writes survive a kill and restart. */
  static async start(opts: { durable?: boolean } = {}): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort(), opts.durable ?? false);
    await r.start();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.child) return;
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--dir', this.dir,
        ...(this.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'])],
      { stdio: 'ignore' },
    );
    this.child = child;
    await waitFor(() => ping(this.port), 10_000, `redis-server on ${this.port}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(300, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/**
 * A loopback TCP proxy in front of a Redis. `loseNextExecReply()`: the next transaction reaches Redis and
 * is executed, but its reply never reaches the client (the connection is cut) — a lost acknowledgement.
 */
export class ReplyLosingProxy {
  private armed = false;
  private readonly sockets = new Set<net.Socket>();
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<ReplyLosingProxy> {
    const port = await freePort();
    let proxy: ReplyLosingProxy | null = null;
    const server = net.createServer((client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
      const p = proxy as ReplyLosingProxy;
      p.sockets.add(client);
      p.sockets.add(upstream);
      let cutting = false;
      client.on('data', (d) => {
        upstream.write(d);
        if (p.armed && /\$4\r\nexec\r\n/i.test(d.toString('latin1'))) {
          p.armed = false;
          cutting = true;
          // Give Redis time to execute the transaction, then cut the client before any reply passes.
          setTimeout(() => {
            client.destroy();
            upstream.destroy();
          }, 100);
        }
      });
      upstream.on('data', (d) => {
        if (!cutting) client.write(d);
      });
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close);
      upstream.on('error', close);
      client.on('close', close);
      upstream.on('close', close);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    proxy = new ReplyLosingProxy(server, port);
    return proxy;
  }

  loseNextExecReply(): void {
    this.armed = true;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ---- fixtures --------------------------------------------------------------------------------------

export function versionedConfig(version: number): VersionedConfig {
  return { version, config: { ...DEFAULT_CONFIG, thresholds: { ...DEFAULT_CONFIG.thresholds, minSpreadBps: 3 + version / 10 } } };
}

export function opportunity(
  instrument: string,
  longExchange: Exchange,
  shortExchange: Exchange,
  tsMs: number,
  spreadBps = 12.5,
  longSettle: SettleCurrency = 'USDT',
  shortSettle: SettleCurrency = 'USDT',
): Opportunity {
  return {
    id: opportunityId(instrument, longExchange, shortExchange, longSettle, shortSettle),
    instrument,
    longExchange,
    shortExchange,
    longSymbol: instrument.replace(/-/g, ''),
    shortSymbol: instrument.replace(/-/g, ''),
    longSettle,
    shortSettle,
    crossQuote: longSettle !== shortSettle,
    longAsk: 100_000.1,
    shortBid: 100_125.3,
    longAskSize: 0.75,
    shortBidSize: 1.25,
    spreadBps,
    longFundingRate8h: 0.0001,
    shortFundingRate8h: 0.00025,
    fundingDelta8h: 0.00015,
    fundingAprPct: 16.425,
    longNextFundingMs: tsMs + 3_600_000,
    shortNextFundingMs: tsMs + 3_600_000,
    longFundingIntervalMs: 28_800_000,
    shortFundingIntervalMs: 28_800_000,
    feesBps: 21,
    slippageBps: 0.4,
    expectedFundingBps: 1.5,
    projectedProfitBps: spreadBps + 1.5 - 21 - 0.4,
    projectedProfitUsd: ((spreadBps + 1.5 - 21 - 0.4) / 1e4) * 1000,
    notionalUsd: 1000,
    confidence: 61.2,
    breakEvenHours: 7.3,
    longQuoteAgeMs: 3,
    shortQuoteAgeMs: 5,
    firstSeenMs: tsMs - 1000,
    updatedMs: tsMs,
    peakProfitBps: 14.1,
    updateCount: 7,
  };
}

export function oppEvent(seq: number, tsMs: number, kind: OpportunityEvent['kind'] = 'updated', instrument = 'BTC-PERP'): OpportunityEvent {
  const opp = opportunity(instrument, 'bybit', 'okx', tsMs, 10 + (seq % 7));
  if (kind === 'closed') return { kind, seq, tsMs, recvUs: tsMs * 1000 + 17, opportunity: opp, reason: 'spread_below_min', lifetimeMs: 1234 + seq };
  return { kind, seq, tsMs, recvUs: tsMs * 1000 + 17, opportunity: opp };
}

export function marketRecord(i: number, exchange: Exchange, recvMs: number): MarketRecord {
  if (i % 5 === 4) {
    return {
      exchange,
      symbol: 'BTCUSDT',
      kind: 'funding',
      recvMs,
      exchangeTsMs: recvMs - 3,
      fundingRate: 0.0001 + i * 1e-9,
      fundingIntervalMs: 28_800_000,
      nextFundingMs: recvMs + 3_600_000,
      predicted: i % 2 === 0,
    };
  }
  return { exchange, symbol: 'BTCUSDT', kind: 'quote', recvMs, exchangeTsMs: recvMs - 2, bid: 100_000 + i / 10, ask: 100_000.1 + i / 10, bidSize: 0.123 + i, askSize: 1 / 3 };
}

function leg(exchange: Exchange, side: 'long' | 'short', price: number) {
  return {
    exchange,
    symbol: 'BTCUSDT',
    side,
    quantity: 0.01,
    entryPrice: price,
    markPrice: price + 0.1,
    marginUsd: 200.02,
    liquidationPrice: side === 'long' ? price * 0.8 : price * 1.2,
    liquidationDistancePct: 19.99,
    fundingUsd: 0.0123456789,
    feesUsd: 0.55,
    unrealisedPnlUsd: -0.1 / 3,
    nextFundingMs: 1_764_000_000_000,
  };
}

export function position(id: string, openedMs: number, state: Position['state'] = 'open', closedMs: number | null = null): Position {
  return {
    id,
    instrument: 'BTC-PERP',
    opportunityId: 'BTC-PERP|bybit|okx',
    state,
    long: leg('bybit', 'long', 100_000.1),
    short: leg('okx', 'short', 100_125.3),
    notionalUsd: 1000,
    openedMs,
    closedMs,
    entrySpreadBps: 12.52,
    currentSpreadBps: 3.1,
    entryProjectedProfitBps: 5.02,
    realisedPnlUsd: state === 'closed' ? 1.2345678901 : 0,
    unrealisedPnlUsd: 0.1 + 0.2,
    fundingUsd: 0.0246913578,
    feesUsd: 2.1,
    exitReason: state === 'closed' ? 'spread_converged' : null,
    transitions: [
      { from: null, to: 'opening', reason: 'entry', tsMs: openedMs },
      { from: 'opening', to: 'open', reason: 'filled', tsMs: openedMs + 1 },
    ],
  };
}

export function fill(id: string, positionId: string, fillMs: number): Fill {
  return {
    id,
    positionId,
    instrument: 'BTC-PERP',
    exchange: 'bybit',
    symbol: 'BTCUSDT',
    side: 'buy',
    purpose: 'entry',
    price: 100_000.1 + 1 / 7,
    quantity: 0.01,
    notionalUsd: 1000.001,
    feeUsd: 0.55000001,
    decisionMs: fillMs - 1,
    fillMs,
    latencyUs: 123.5,
  };
}

export function portfolioState(updatedMs: number): PortfolioState {
  return {
    startingCapitalUsd: 100_000,
    realisedPnlUsd: 12.345678901234,
    feesPaidUsd: 4.2,
    fundingUsd: -0.1 - 0.2,
    day: '2026-11-25',
    dailyRealisedPnlUsd: 1 / 3,
    tradingState: 'reducing',
    cooldownUntilMs: { 'BTC-PERP': updatedMs + 30_000 },
    updatedMs,
  };
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The book of a position: what a restart must not change (marks and the current spread move with the market). */
export function book(p: Position): unknown {
  const leg = (l: Position['long']) => ({ exchange: l.exchange, quantity: l.quantity, entryPrice: l.entryPrice, feesUsd: l.feesUsd, fundingUsd: l.fundingUsd, marginUsd: l.marginUsd, liquidationPrice: l.liquidationPrice });
  return {
    id: p.id,
    state: p.state,
    long: leg(p.long),
    short: leg(p.short),
    feesUsd: p.feesUsd,
    fundingUsd: p.fundingUsd,
    realisedPnlUsd: p.realisedPnlUsd,
    exitReason: p.exitReason,
    transitions: p.transitions,
  };
}

export const openBooks = (ps: Position[]) => ps.filter((p) => p.state === 'open').map(book).sort((a, b) => ((a as { id: string }).id < (b as { id: string }).id ? -1 : 1));

/**
 * Waits until Redis under `prefix` holds `books` (openBooks of what the API showed), none opening or closing,
 * and `fills` fills when given: a kill -9 after this tests what was acknowledged. The writer flushes every
 * 50 ms, but runs at nice 5 and is the first thing starved on a loaded machine, so a fixed sleep is not enough.
 */
export async function untilRedisHolds(prefix: string, books: ReturnType<typeof openBooks>, fills?: number): Promise<void> {
  const probe = new Redis(SHARED_REDIS_URL);
  try {
    await expect
      .poll(
        async () => {
          const stored = Object.values(await probe.hgetall(`${prefix}positions`)).map((x) => JSON.parse(x) as Position);
          const settling = stored.filter((p) => p.state === 'opening' || p.state === 'closing').length;
          return fills === undefined ? { books: openBooks(stored), settling } : { books: openBooks(stored), settling, fills: await probe.hlen(`${prefix}fills`) };
        },
        { timeout: 10_000, interval: 50, message: 'Redis holds the books (and fills) the API showed' },
      )
      .toEqual(fills === undefined ? { books, settling: 0 } : { books, settling: 0, fills });
  } finally {
    probe.disconnect();
  }
}
