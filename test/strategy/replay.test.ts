/**
 * Deterministic end-to-end: a recorded simulator session (raw venue frames) replayed through the
 * adapters' parsers, the engine and the strategy twice gives the same trades and the same final PnL.
 *
 * Source: the first recording in test/fixtures/recording/ when there is one; otherwise a session is
 * recorded here from the local simulator over real WebSockets on 127.0.0.1 (a few seconds).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../shared/config.js';
import type { Fill, Portfolio, Position } from '../../shared/position.js';
import { Engine } from '../../server/engine/engine.js';
import { FeedManager } from '../../server/feeds/manager.js';
import { FrameRecorder, readRecording } from '../../server/feeds/recorder.js';
import { MemoryPersistence } from '../../server/persistence/memory.js';
import { createReplay } from '../../server/replay/replay.js';
import { startSimulator } from '../../server/simulator/index.js';
import { StrategyRunner } from '../../server/strategy/runner.js';
import { testConfig } from './harness.js';

const FIXTURE_DIR = new URL('../fixtures/recording/', import.meta.url).pathname;
const INSTRUMENTS = [...DEFAULT_CONFIG.market.instruments];
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
}

async function replayOnce(file: string): Promise<RunResult> {
  const replay = createReplay({ config });
  const runner = new StrategyRunner({
    engine: replay.engine,
    config,
    persistence: new MemoryPersistence(),
    now: replay.now,
    nowUs: () => replay.now() * 1000, // latency on the recording's clock
  });
  let frames = 0;
  for await (const frame of readRecording(file)) {
    replay.feedFrame(frame);
    runner.step(replay.now());
    frames++;
  }
  runner.setTradingState('halted', { closeAll: true, reason: 'end of session' });
  runner.step(replay.now());
  return { fills: runner.fills(), positions: runner.positions(), portfolio: runner.portfolio(), frames };
}

describe('deterministic end-to-end replay', () => {
  let dir = '';
  let file = '';
  beforeAll(async () => {
    const fixture = fixtureRecording();
    if (fixture) {
      file = fixture;
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
    const a = await replayOnce(file);
    const b = await replayOnce(file);
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
});
