/**
 * A recording of a live run carries the REST metadata the feeds loaded (instruments, contract values,
 * funding intervals, next funding times, seeded funding), and replaying it reproduces the run's
 * decisions: the same opportunity closures (id, reason, time).
 *
 * The live run is the real server wiring (buildApp, FeedManager, real sockets) against the in-process
 * simulator on 127.0.0.1, recording with `recorder`. Its business clock is the receive time of the frame
 * being handled (Date.now otherwise): the replay's clock by definition, so closure times compare exactly
 * instead of differing by the few µs–ms between a frame's arrival and its drain.
 */
import { DEFAULT_INSTRUMENT_KEYS } from '../../server/feeds/metadata.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type Config } from '../../shared/config.js';
import { perVenue, type Exchange } from '../../shared/exchanges.js';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import { buildApp } from '../../server/app.js';
import { FrameRecorder, parseRecordLine, readRecording, type RecordedFrame } from '../../server/feeds/recorder.js';
import { createReplay } from '../../server/replay/replay.js';
import { startSimulator } from '../../server/simulator/index.js';
import { REPO_ROOT } from '../helpers/server.js';

const LIVE_RUN_MS = 9000;
// BNB and ADA are not among the built-in replay defaults for the contract venues (OKX, KuCoin), and the
// simulator gives some pairs 1 h / 4 h funding intervals: without the recorded metadata a replay differs.
const config: Config = {
  ...DEFAULT_CONFIG,
  market: { ...DEFAULT_CONFIG.market, instruments: [...DEFAULT_INSTRUMENT_KEYS, 'BNB-PERP', 'ADA-PERP'] },
};

interface Closure {
  tsMs: number;
  id: string;
  reason: string;
}

const closuresOf = (events: OpportunityEvent[]): Closure[] =>
  events
    .flatMap((e) => (e.kind === 'closed' ? [{ tsMs: e.tsMs, id: e.opportunity.id, reason: e.reason }] : []))
    .sort((a, b) => a.tsMs - b.tsMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/** Latches the business clock to the receive time of the frame being handled, for the rest of that tick. */
class FrameClockRecorder extends FrameRecorder {
  private latchedMs: number | null = null;
  readonly now = (): number => this.latchedMs ?? Date.now();
  lastFrameMs = 0;

  override record(exchange: Exchange, raw: string, recvMs: number): void {
    this.latchedMs = recvMs;
    this.lastFrameMs = recvMs;
    queueMicrotask(() => (this.latchedMs = null));
    super.record(exchange, raw, recvMs);
  }
}

let dir = '';
let file = '';
let live: Closure[] = [];
/** Closures are compared up to here: what happens while the run shuts down is not part of it. */
let cutoffMs = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'perpscan-live-rec-'));
  file = join(dir, 'live.jsonl.gz');
  const sim = await startSimulator({ seed: 11, instruments: [...DEFAULT_INSTRUMENT_KEYS, 'BNB-PERP', 'ADA-PERP'], messagesPerSec: 500, dislocationsPerMin: 150 });
  const recorder = new FrameClockRecorder(file);
  const perpscan = await buildApp({ config, feeds: { endpoints: sim.endpoints }, recorder, now: recorder.now, staticDir: null, logger: false, start: false });
  const sub = perpscan.engine.bus.subscribe('test');
  const events: OpportunityEvent[] = [];
  const pump = setInterval(() => events.push(...sub.popBatch(Number.MAX_SAFE_INTEGER)), 50);
  await perpscan.start();
  await new Promise((r) => setTimeout(r, LIVE_RUN_MS));
  cutoffMs = recorder.lastFrameMs;
  await perpscan.close();
  clearInterval(pump);
  events.push(...sub.popBatch(Number.MAX_SAFE_INTEGER));
  expect(sub.missed).toBe(0);
  await recorder.close();
  await sim.close();
  expect(recorder.restResponses).toBeGreaterThan(0);
  live = closuresOf(events).filter((c) => c.tsMs <= cutoffMs);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function recordedFrames(): Promise<RecordedFrame[]> {
  const out: RecordedFrame[] = [];
  for await (const f of readRecording(file)) out.push(f);
  return out;
}

describe('replay of a live run', () => {
  it('the recording carries every venue’s REST metadata responses', async () => {
    const rest = (await recordedFrames()).filter((f) => f.rest !== undefined);
    expect(new Set(rest.map((f) => f.ex))).toEqual(new Set(config.market.exchanges));
    expect(rest.map((f) => `${f.ex} ${f.rest!.split('?')[0]}`)).toEqual(
      expect.arrayContaining(['bybit /v5/market/instruments-info', 'okx /api/v5/public/instruments', 'kucoin /api/v1/contracts/active', 'binance /fapi/v1/exchangeInfo', 'binance /fapi/v1/fundingInfo']),
    );
    for (const f of rest) expect(() => JSON.parse(f.raw) as unknown).not.toThrow();
  });

  it('`npm run replay` of the file gives the same opportunity closures (id, reason, time)', { timeout: 120_000 }, () => {
    expect(live.length).toBeGreaterThanOrEqual(5);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'server/replay/main.ts'), file, '--speed', 'max', '--config', writeConfig()], { cwd: REPO_ROOT, maxBuffer: 256 << 20 });
    expect(r.status, r.stderr.toString()).toBe(0);
    const events = r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as OpportunityEvent);
    const summary = JSON.parse(r.stderr.toString().slice(r.stderr.toString().indexOf('{'))) as { metadata: Record<Exchange, string>; restResponses: number };
    expect(summary.metadata).toEqual(perVenue(() => 'recorded'));
    expect(closuresOf(events).filter((c) => c.tsMs <= cutoffMs)).toEqual(live);
  });

  it('replayed with the built-in defaults instead, the closures differ (the metadata matters)', async () => {
    const replay = createReplay({ config });
    const sub = replay.engine.bus.subscribe('defaults');
    const events: OpportunityEvent[] = [];
    for (const f of await recordedFrames()) {
      replay.feedFrame(f); // synchronous: REST frames are kept but never loaded
      events.push(...sub.popBatch(Number.MAX_SAFE_INTEGER));
    }
    expect(replay.stats().metadata).toEqual(perVenue(() => 'defaults'));
    expect(closuresOf(events).filter((c) => c.tsMs <= cutoffMs)).not.toEqual(live);
  });
});

describe('REST frames in a recording', () => {
  it('store the request path without the origin and the body as JSON text; a malformed one is a bad line', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'perpscan-rest-frame-')), 'r.jsonl');
    const rec = new FrameRecorder(path);
    rec.recordRest('okx', 'http://127.0.0.1:4567/api/v5/public/instruments?instType=SWAP', { code: '0', data: [{ instId: 'BTC-USDT-SWAP', ctVal: '0.01' }] }, 1_700_000_000_000);
    rec.record('okx', '{"event":"subscribe"}', 1_700_000_000_005);
    await rec.close();
    expect(readFileSync(path, 'utf8').split('\n')[0]).toBe(
      '{"t":1700000000000,"ex":"okx","rest":"/api/v5/public/instruments?instType=SWAP","raw":"{\\"code\\":\\"0\\",\\"data\\":[{\\"instId\\":\\"BTC-USDT-SWAP\\",\\"ctVal\\":\\"0.01\\"}]}"}',
    );
    const back: RecordedFrame[] = [];
    for await (const f of readRecording(path)) back.push(f);
    expect(back).toEqual([
      { t: 1_700_000_000_000, ex: 'okx', rest: '/api/v5/public/instruments?instType=SWAP', raw: '{"code":"0","data":[{"instId":"BTC-USDT-SWAP","ctVal":"0.01"}]}' },
      { t: 1_700_000_000_005, ex: 'okx', raw: '{"event":"subscribe"}' },
    ]);
    expect(parseRecordLine('{"t":1,"ex":"okx","rest":"no-slash","raw":"{}"}')).toBeNull();
    expect(parseRecordLine('{"t":1,"ex":"okx","rest":5,"raw":"{}"}')).toBeNull();
  });
});

function writeConfig(): string {
  const path = join(dir, 'config.json');
  // The replay CLI takes a config patch; the market section is what differs from the defaults.
  writeFileSync(path, JSON.stringify({ market: config.market }));
  return path;
}
