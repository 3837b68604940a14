/**
 * Gate checks that need more than one frame or a clock: the funding interval as live data through a
 * settlement (the twin changes a contract's interval; the post-settlement REST refresh, not a manual one,
 * brings it), and the depth socket's handling of the frames it shares with the quote socket
 * (`futures.system` notices, an error without a channel, pushes with `time_ms` only). Frame shapes:
 * test/fixtures/gate/SOURCES.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import { FrameRecorder } from '../../server/feeds/recorder.js';
import { startSimulator, type Simulator } from '../../server/simulator/index.js';
import { FeedManager } from '../../server/feeds/manager.js';
import { createFetchJson } from '../../server/feeds/metadata.js';
import type { FetchJson } from '../../server/feeds/adapter.js';
import { GATE_CONTRACTS_PATH } from '../../server/venues/gate/adapter.js';
import { Engine } from '../../server/engine/engine.js';
import { DEFAULT_CONFIG } from '../../shared/config.js';
import { nextFundingMs } from '../../server/simulator/market.js';
import { GateDepthParser } from '../../server/venues/gate/depth.js';
import type { DepthSink } from '../../server/depth/types.js';
import { fixture, table, waitFor } from '../feeds/helpers.js';

const H = 3_600_000;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * A FeedManager on the Gate twin with a clock a few seconds before an 8 h boundary (a settlement for every
 * interval the twin uses). `restLateMs`: for that long after the boundary the contracts list still shows the
 * state from before it (the passed next time, the old interval), as Gate's REST does (its settlement stamps
 * land about 3 s late).
 */
async function throughSettlement(restLateMs: number) {
  const lead = 4_000;
  const boundary = Math.ceil((Date.now() + 60_000) / (8 * H)) * 8 * H;
  const offset = boundary - lead - Date.now();
  const clock = () => Date.now() + offset;
  const sim: Simulator = await startSimulator({ seed: 12, exchanges: ['gate'], instruments: ['BTC-PERP'], now: clock, timings: { fundingPushMs: 150 } });
  cleanups.push(() => sim.close());
  const pair = sim.model.findListed('gate', 'BTC_USDT')!;
  const before = pair.fundingIntervalMs;
  const real = createFetchJson();
  const contractReads: Array<{ atMs: number; nextApplyS: number; intervalS: number }> = [];
  const fetchJson: FetchJson = async (url, init) => {
    const body = await real(url, init);
    if (!url.endsWith(GATE_CONTRACTS_PATH) || !Array.isArray(body)) return body;
    const now = clock();
    const late = now >= boundary && now < boundary + restLateMs;
    const out = (body as Array<Record<string, unknown>>).map((c) => (late && c.name === 'BTC_USDT' ? { ...c, funding_next_apply: boundary / 1000, funding_interval: before / 1000 } : c));
    for (const c of out) if (c.name === 'BTC_USDT') contractReads.push({ atMs: now, nextApplyS: Number(c.funding_next_apply), intervalS: Number(c.funding_interval) });
    return out;
  };
  const engine = new Engine({ config: DEFAULT_CONFIG, now: clock });
  const fm = new FeedManager({
    engine,
    exchanges: ['gate'],
    instruments: ['BTC-PERP'],
    endpoints: sim.endpoints,
    fetchJson,
    now: clock,
    backoff: { initialMs: 50, maxMs: 400, factor: 2 },
    settlementRefreshDelayMs: 300,
    settlementRefreshJitterMs: 0,
    settlementRetryMs: 1_000,
    discoveryRefreshMs: 3_600_000, // the periodic refresh stays out of the way
  });
  cleanups.push(() => fm.stop());
  let manualRefreshes = 0;
  const refresh = fm.refreshDiscovery.bind(fm);
  fm.refreshDiscovery = async () => {
    manualRefreshes++;
    return refresh();
  };
  await fm.start();
  const funding = () => engine.quote('BTC-PERP', 'gate');
  await waitFor('gate funding before the settlement', () => funding()?.nextFundingMs === boundary, 3_000);
  expect(clock()).toBeLessThan(boundary);
  expect(funding()!.fundingIntervalMs).toBe(before);
  // The venue changes the contract's interval; its ticker does not carry the interval, only REST does.
  const changed = before === 4 * H ? 8 * H : 4 * H;
  pair.fundingIntervalMs = changed;
  await waitFor('the settlement to pass', () => clock() > boundary + 100, lead + 2_000);
  expect(funding()!.fundingIntervalMs).toBe(before); // not known before the venue is re-read
  return { engine, clock, boundary, before, changed, pair, funding, contractReads, manualRefreshes: () => manualRefreshes };
}

describe('gate: the funding interval through a settlement', () => {
  it('the twin moves BTC_USDT to another interval; the refresh armed for the settlement brings the new interval and next time, and later ticker frames keep them', { timeout: 30_000 }, async () => {
    const { engine, clock, boundary, changed, pair, funding, manualRefreshes } = await throughSettlement(0);
    await waitFor('the new interval from the post-settlement refresh', () => funding()?.fundingIntervalMs === changed, 5_000);
    expect(funding()!.nextFundingMs).toBe(boundary + changed);
    expect(funding()!.nextFundingMs).toBe(nextFundingMs(pair, clock()));
    // Later funding frames (pushed every 150 ms) read the refreshed table: the new interval stays.
    const receivedAt = () => engine.funding('BTC-PERP', 'gate')?.receivedMs ?? 0;
    const seenAt = receivedAt();
    await waitFor('later ticker frames', () => receivedAt() > seenAt + 300, 3_000);
    expect(funding()).toMatchObject({ fundingIntervalMs: changed, nextFundingMs: boundary + changed, fundingPredicted: false });
    expect(manualRefreshes()).toBe(0);
  });

  it('REST still shows the passed next time (and old interval) at the post-settlement read: the read is retried and the new interval comes then, not at the periodic refresh', { timeout: 30_000 }, async () => {
    const restLateMs = 1_500;
    const { engine, clock, boundary, before, changed, funding, contractReads, manualRefreshes } = await throughSettlement(restLateMs);
    await waitFor('the new interval after REST caught up', () => funding()?.fundingIntervalMs === changed, 6_000);
    expect(funding()!.nextFundingMs).toBe(boundary + changed);
    // The first read after the settlement saw the stale answer; a retry, after REST caught up, the new one.
    const after = contractReads.filter((r) => r.atMs >= boundary);
    expect(after[0]).toMatchObject({ nextApplyS: boundary / 1000, intervalS: before / 1000 });
    expect(after[0]!.atMs).toBeLessThan(boundary + restLateMs);
    expect(after.at(-1)).toMatchObject({ nextApplyS: (boundary + changed) / 1000, intervalS: changed / 1000 });
    expect(after.at(-1)!.atMs).toBeGreaterThanOrEqual(boundary + restLateMs);
    // Meanwhile the stream's figures rolled on with the interval in force (never a settlement in the past).
    expect(engine.stats().rejectedTotal).toBe(0);
    const receivedAt = () => engine.funding('BTC-PERP', 'gate')?.receivedMs ?? 0;
    const seenAt = receivedAt();
    await waitFor('later ticker frames', () => receivedAt() > seenAt + 300, 3_000);
    expect(funding()).toMatchObject({ fundingIntervalMs: changed, nextFundingMs: boundary + changed });
    expect(clock()).toBeLessThan(boundary + 60_000);
    expect(manualRefreshes()).toBe(0);
  });
});

describe('gate: the depth socket reads the shared frames as the quote socket does', () => {
  const parser = () => new GateDepthParser(table('gate', [{ symbol: 'BTC_USDT', base: 'BTC', contractValue: 0.0001 }]), 50, 50);
  const sink = (): DepthSink & { books: number } => {
    const s = { books: 0, book: () => void s.books++, resync: () => undefined, snapshotNeeded: () => undefined };
    return s;
  };

  it('futures.system: an upgrade notice (or event "upgrade") asks for a reconnect; another notice is ignored', () => {
    const p = parser();
    expect(p.parse(fixture('gate', 'system-upgrade.json'), sink())).toBe('reconnect_notice');
    expect(p.parse(`{"time":1796155241,"time_ms":1796155241007,"channel":"futures.system","event":"update","result":{"type":"invalid_sbe_schema_id","msg":"x"}}`, sink())).toBe('ignored');
    expect(p.parse(`{"time":1796155242,"time_ms":1796155242100,"channel":"futures.obu","event":"upgrade","result":{}}`, sink())).toBe('reconnect_notice');
    expect(p.errors).toEqual({});
  });

  it('an error reply counts as a venue error with or without a channel', () => {
    const p = parser();
    expect(p.parse(fixture('gate', 'depth-error-duplicate.json'), sink())).toBe('venue_error');
    expect(p.parse(`{"time":1796155300,"time_ms":1796155300004,"error":{"code":1,"message":"invalid argument struct"},"result":null}`, sink())).toBe('venue_error');
    expect(p.errors).toEqual({ 'venue_error:2': 1, 'venue_error:1': 1 });
  });

  it('a full push with `time_ms` and no `time` (as in the docs) is a book; one with `time_ms` in seconds is not', () => {
    const p = parser();
    const s = sink();
    const full = JSON.parse(fixture('gate', 'depth-full.json')) as Record<string, unknown>;
    delete full.time;
    expect(p.parse(JSON.stringify(full), s)).toBe('data');
    expect(s.books).toBe(1);
    full.time_ms = 1796155200;
    expect(p.parse(JSON.stringify(full), s)).toBe('rejected');
    expect(p.errors).toEqual({ bad_timestamp: 1 });
  });
});

describe('gate: sizes as decimal strings', () => {
  it('the sockets send X-Gate-Size-Decimal: 1 (without it Gate rounds fractional sizes down), so the twin pushes string sizes, which parse', { timeout: 20_000 }, async () => {
    const sim: Simulator = await startSimulator({ seed: 3, exchanges: ['gate'], instruments: ['BTC-PERP'] });
    cleanups.push(() => sim.close());
    const dir = mkdtempSync(join(tmpdir(), 'perpscan-gate-'));
    const frames: string[] = [];
    class Capture extends FrameRecorder {
      override record(exchange: Exchange, raw: string, recvMs: number): void {
        if (frames.length < 500) frames.push(raw);
        super.record(exchange, raw, recvMs);
      }
    }
    const recorder = new Capture(join(dir, 'gate.jsonl.gz'));
    cleanups.push(async () => {
      await recorder.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const engine = new Engine({ config: DEFAULT_CONFIG });
    const fm = new FeedManager({ engine, exchanges: ['gate'], instruments: ['BTC-PERP'], endpoints: sim.endpoints, recorder });
    cleanups.push(() => fm.stop());
    await fm.start();
    await waitFor('a gate quote', () => engine.quote('BTC-PERP', 'gate')?.usable === true, 10_000);
    const tickers = frames.filter((f) => f.includes('"futures.book_ticker"') && f.includes('"update"')).map((f) => JSON.parse(f) as { result: { B: unknown; A: unknown } });
    expect(tickers.length).toBeGreaterThan(0);
    for (const t of tickers) expect([typeof t.result.B, typeof t.result.A]).toEqual(['string', 'string']);
    expect(engine.quote('BTC-PERP', 'gate')!.bidSize).toBeGreaterThan(0);
  });
});
