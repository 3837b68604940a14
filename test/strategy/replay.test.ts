/**
 * Deterministic end-to-end: a recorded simulator session (raw venue frames) replayed through the
 * adapters' parsers, the engine and the strategy twice gives the same trades and the same final PnL.
 *
 * Source: the first recording in test/fixtures/recording/ when there is one; otherwise a session is
 * recorded here from the local simulator over real WebSockets on 127.0.0.1 (a few seconds).
 */
import { DEFAULT_INSTRUMENT_KEYS } from '../../server/feeds/metadata.js';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../shared/config.js';
import type { Fill, Portfolio, Position } from '../../shared/position.js';
import { Engine } from '../../server/engine/engine.js';
import type { Exchange } from '../../shared/exchanges.js';
import type { MetadataTable } from '../../server/feeds/adapter.js';
import { FeedManager } from '../../server/feeds/manager.js';
import { loadInstrumentsFile } from '../../server/feeds/metadata.js';
import { FrameRecorder, readRecording } from '../../server/feeds/recorder.js';
import { MemoryPersistence } from '../../server/persistence/memory.js';
import { createReplay } from '../../server/replay/replay.js';
import { startSimulator } from '../../server/simulator/index.js';
import { StrategyRunner } from '../../server/strategy/runner.js';
import { testConfig } from './harness.js';

const FIXTURE_DIR = new URL('../fixtures/recording/', import.meta.url).pathname;
const INSTRUMENTS = [...DEFAULT_INSTRUMENT_KEYS];
const config = testConfig({
  market: { exchanges: ['bybit', 'okx', 'kucoin', 'binance'], instruments: INSTRUMENTS },
  thresholds: { minSpreadBps: 5, minProfitBps: 0 },
  strategy: { minProfitBps: 1, minOpportunityAgeMs: 0, cooldownMs: 1000 },
  exits: { exitSpreadBps: 0, stopLossUsd: 20, maxHoldingMs: 60_000 },
});

function fixtureRecording(): string | null {
  if (!existsSync(FIXTURE_DIR)) return null;
  const file = readdirSync(FIXTURE_DIR)
    .filter((f) => /\.(jsonl|ndjson)(\.gz)?$/.test(f))
    .sort()[0];
  return file ? join(FIXTURE_DIR, file) : null;
}

/** The venue metadata recorded with the fixture (funding intervals, KuCoin next times), when shipped. */
function fixtureInstruments(): Partial<Record<Exchange, MetadataTable>> | undefined {
  const file = join(FIXTURE_DIR, 'instruments.json');
  return existsSync(file) ? loadInstrumentsFile(file) : undefined;
}

async function recordSession(file: string, ms: number): Promise<void> {
  const sim = await startSimulator({ seed: 11, instruments: INSTRUMENTS, messagesPerSec: 1500, dislocationsPerMin: 600 });
  const recorder = new FrameRecorder(file);
  const engine = new Engine({ config });
  const feeds = new FeedManager({ engine, exchanges: config.market.exchanges, instruments: INSTRUMENTS, endpoints: sim.endpoints, recorder });
  try {
    await feeds.start();
    await new Promise((r) => setTimeout(r, ms));
  } finally {
    await feeds.stop();
    await recorder.close();
    await sim.close();
  }
}

interface RunResult {
  fills: Fill[];
  positions: Position[];
  portfolio: Portfolio;
  frames: number;
  /** The first frame after which a position was open (-1: never). */
  firstOpenFrame: number;
  /** Live positions the restarted strategy restored (restart runs only). */
  restoredLive: number;
}

/** Replays `file` through engine + strategy; with `restartAtFrame`, the strategy restarts from persistence there. */
async function replayOnce(file: string, instruments?: Partial<Record<Exchange, MetadataTable>>, restartAtFrame = -1): Promise<RunResult> {
  const replay = createReplay({ config, instruments });
  const persistence = new MemoryPersistence();
  const makeRunner = () =>
    new StrategyRunner({
      engine: replay.engine,
      config,
      persistence,
      now: replay.now,
      nowUs: () => replay.now() * 1000, // latency on the recording's clock
    });
  let runner = makeRunner();
  let frames = 0;
  let firstOpenFrame = -1;
  let restoredLive = 0;
  for await (const frame of readRecording(file)) {
    if (frames === restartAtFrame) {
      runner.stop();
      runner = makeRunner();
      await runner.restore();
      restoredLive = runner.portfolio().openPositions;
    }
    replay.feedFrame(frame);
    runner.step(replay.now());
    if (firstOpenFrame < 0 && runner.portfolio().openPositions > 0) firstOpenFrame = frames;
    frames++;
  }
  runner.setTradingState('halted', { closeAll: true, reason: 'end of session' });
  runner.step(replay.now());
  return { fills: runner.fills(), positions: runner.positions(), portfolio: runner.portfolio(), frames, firstOpenFrame, restoredLive };
}

describe('deterministic end-to-end replay', () => {
  let dir = '';
  let file = '';
  let instruments: Partial<Record<Exchange, MetadataTable>> | undefined;
  beforeAll(async () => {
    const fixture = fixtureRecording();
    if (fixture) {
      file = fixture;
      instruments = fixtureInstruments();
      return;
    }
    dir = mkdtempSync(join(tmpdir(), 'perpscan-strategy-'));
    file = join(dir, 'session.jsonl');
    await recordSession(file, 4000);
  }, 30_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same trades and final PnL twice', async () => {
    const a = await replayOnce(file, instruments);
    const b = await replayOnce(file, instruments);
    expect(a.frames).toBeGreaterThan(100);
    const entries = a.fills.filter((f) => f.purpose === 'entry');
    expect(entries.length).toBeGreaterThan(0); // the session traded
    expect(b.fills).toEqual(a.fills);
    expect(b.positions).toEqual(a.positions);
    expect(b.portfolio).toEqual(a.portfolio);
    // everything was closed at the end: PnL is realised, and adds up from the fills and funding
    expect(a.portfolio.openPositions).toBe(0);
    const fees = a.fills.reduce((s, f) => s + f.feeUsd, 0);
    expect(a.portfolio.feesPaidUsd).toBeCloseTo(fees, 9);
    expect(a.portfolio.equityUsd).toBeCloseTo(a.portfolio.startingCapitalUsd + a.portfolio.realisedPnlUsd, 9);
    const byPosition = a.positions.reduce((s, p) => s + p.realisedPnlUsd, 0);
    expect(a.portfolio.realisedPnlUsd).toBeCloseTo(byPosition, 9);
  }, 60_000);

  it('a strategy restart from persistence mid-session ends with the same trades and PnL', async () => {
    const straight = await replayOnce(file, instruments);
    expect(straight.firstOpenFrame).toBeGreaterThanOrEqual(0);
    // restart while the first position is open
    const restarted = await replayOnce(file, instruments, straight.firstOpenFrame + 1);
    expect(restarted.restoredLive).toBe(1);
    expect(restarted.fills).toEqual(straight.fills);
    expect(restarted.portfolio).toEqual(straight.portfolio);
    expect(restarted.positions.map((p) => [p.id, p.state, p.exitReason, p.realisedPnlUsd])).toEqual(
      straight.positions.map((p) => [p.id, p.state, p.exitReason, p.realisedPnlUsd]),
    );
  }, 60_000);
});
