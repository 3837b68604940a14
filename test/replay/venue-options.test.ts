/**
 * Replay hands each venue's discovery the venue options of its config (config.venues), as the live feeds
 * do: a recording of a run that scanned a Hyperliquid builder dex (`venues.hyperliquid.dexes`) replays
 * with that dex's perps listed, quoted and funded; the same recording under a config without the dex
 * does not list them (the live run would not have either).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type Config } from '../../shared/config.js';
import { FrameRecorder, readRecording, type RecordedFrame } from '../../server/feeds/recorder.js';
import { createReplay, type ReplayUpdate } from '../../server/replay/replay.js';

const FIX = fileURLToPath(new URL('../fixtures/hyperliquid/', import.meta.url));
const fixture = (name: string): string => readFileSync(join(FIX, name), 'utf8').trim();
const T = 1_764_590_390_000; // just before the fixtures' frames (bbo-dex.json is stamped 1764590399723)
const dir = mkdtempSync(join(tmpdir(), 'perpscan-replay-opts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A run's recording as the live feed writes it: discovery's POSTs (main dex, then `xyz`), then frames. */
async function recording(): Promise<RecordedFrame[]> {
  const file = join(dir, 'hl-dex.jsonl');
  const rec = new FrameRecorder(file);
  rec.recordRest('hyperliquid', 'https://api.hyperliquid.xyz/info', JSON.parse(fixture('rest-metaAndAssetCtxs.json')), T, { type: 'metaAndAssetCtxs' });
  rec.recordRest('hyperliquid', 'https://api.hyperliquid.xyz/info', JSON.parse(fixture('rest-metaAndAssetCtxs-xyz.json')), T, { type: 'metaAndAssetCtxs', dex: 'xyz' });
  rec.record('hyperliquid', fixture('bbo-dex.json'), T + 9_723);
  rec.record('hyperliquid', fixture('assetCtxs-dex.json'), T + 10_000);
  rec.record('hyperliquid', fixture('bbo.json'), T + 11_000);
  await rec.close();
  const out: RecordedFrame[] = [];
  for await (const f of readRecording(file)) out.push(f);
  return out;
}

async function replay(config: Config): Promise<{ updates: ReplayUpdate[]; metadata: string }> {
  const updates: ReplayUpdate[] = [];
  const r = createReplay({ config, onUpdate: (u) => updates.push(u) });
  for (const f of await recording()) await r.feed(f);
  return { updates, metadata: r.stats().metadata.hyperliquid };
}

const base: Config = { ...DEFAULT_CONFIG, market: { ...DEFAULT_CONFIG.market, instruments: 'all' } };
const withDex: Config = { ...base, venues: { ...base.venues, hyperliquid: { dexes: ['xyz'] } } };

describe('replay with the config’s venue options', () => {
  it('a builder dex selected in venues.hyperliquid.dexes is discovered from the recorded responses: its perps quote and fund', async () => {
    const { updates, metadata } = await replay(withDex);
    expect(metadata).toBe('recorded');
    const tsla = updates.filter((u) => u.symbol === 'xyz:TSLA');
    // bbo-dex.json: xyz:TSLA 421.37 / 421.52; assetCtxs-dex.json: its funding −0.0000031 per hour (position 1 of dex xyz).
    expect(tsla.find((u) => u.kind === 'quote')).toMatchObject({ instrument: 'TSLA-PERP', bid: 421.37, ask: 421.52 });
    expect(tsla.find((u) => u.kind === 'funding')).toMatchObject({ instrument: 'TSLA-PERP', rate: -0.0000031, intervalMs: 3_600_000 });
    // The other listed xyz perps are funded from the same frame; xyz:BTC (BTC already on the main dex) is not.
    const funded = new Set(updates.filter((u) => u.kind === 'funding').map((u) => u.symbol));
    expect(['xyz:XYZ100', 'xyz:NVDA'].every((s) => funded.has(s))).toBe(true);
    expect(funded.has('xyz:BTC')).toBe(false);
    // The main dex is unaffected.
    expect(updates.some((u) => u.symbol === 'BTC' && u.kind === 'quote')).toBe(true);
  });

  it('without the option the same recording lists no builder-dex perp (as a live run without it)', async () => {
    const { updates, metadata } = await replay(base);
    expect(metadata).toBe('recorded');
    expect(updates.filter((u) => u.symbol.startsWith('xyz:'))).toEqual([]);
    expect(updates.some((u) => u.symbol === 'BTC' && u.kind === 'quote')).toBe(true);
  });
});
