/**
 * Record/replay: the shipped simulator recording replays to the same bytes every time, through the
 * same parsers and the real engine; the recorder round-trips frames exactly; `--replay redis` reads
 * the persistence layer's market records; the recording covers every registered venue; a REST response
 * recorded mid-run has the effect the live feed's re-read had.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG } from '../../shared/config.js';
import { EXCHANGES, perVenue } from '../../shared/exchanges.js';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import { loadInstrumentsFile } from '../../server/feeds/metadata.js';
import { FrameRecorder, readRecording, type RecordedFrame } from '../../server/feeds/recorder.js';
import { createReplay, type ReplayUpdate } from '../../server/replay/replay.js';
import { describeWith, REDIS_URL } from '../helpers/services.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RECORDING = join(ROOT, 'test/fixtures/recording/sim.jsonl.gz');
const INSTRUMENTS = join(ROOT, 'test/fixtures/recording/instruments.json');

function cli(args: string[], env: Record<string, string> = {}): { stdout: Buffer; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'server/replay/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 256 << 20 });
  return { stdout: r.stdout, stderr: r.stderr.toString(), status: r.status };
}

async function frames(): Promise<RecordedFrame[]> {
  const out: RecordedFrame[] = [];
  for await (const f of readRecording(RECORDING)) out.push(f);
  return out;
}

describe('replay CLI', () => {
  it('the same recording gives byte-identical opportunity output twice, and a summary on stderr', { timeout: 120_000 }, async () => {
    const all = await frames();
    const a = cli([RECORDING, '--instruments', INSTRUMENTS, '--speed', 'max']);
    const b = cli([RECORDING, '--instruments', INSTRUMENTS, '--speed', 'max']);
    expect(a.status).toBe(0);
    expect(b.status).toBe(0);
    expect(a.stdout.length).toBeGreaterThan(1000);
    expect(Buffer.compare(a.stdout, b.stdout)).toBe(0);
    const events = a.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as OpportunityEvent);
    expect(events.some((e) => e.kind === 'opened')).toBe(true);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const summary = JSON.parse(a.stderr.slice(a.stderr.indexOf('{'))) as { frames: number; errors: Record<string, Record<string, number>> };
    expect(summary.frames).toBe(all.filter((f) => f.rest === undefined).length); // REST responses are not counted
    expect(summary.errors).toEqual(perVenue(() => ({})));
  });

  it('--emit quotes prints normalised updates (OKX/KuCoin sizes in base units via the instruments file)', { timeout: 60_000 }, async () => {
    const r = cli([RECORDING, '--emit', 'quotes', '--instruments', INSTRUMENTS]);
    expect(r.status).toBe(0);
    const updates = r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as ReplayUpdate);
    const all = await frames();
    const okxFrame = all.find((f) => f.ex === 'okx' && f.raw.startsWith('{"arg":{"channel":"tickers","instId":"BTC-USDT-SWAP"}'))!;
    const d = (JSON.parse(okxFrame.raw) as { data: Array<{ bidPx: string; bidSz: string; ts: string }> }).data[0];
    const q = updates.find((u) => u.ex === 'okx' && u.kind === 'quote' && u.symbol === 'BTC-USDT-SWAP' && u.t === okxFrame.t)!;
    expect(q).toMatchObject({ instrument: 'BTC-PERP', bid: Number(d.bidPx), exchangeTsMs: Number(d.ts) });
    if (q.kind !== 'quote') throw new Error('expected a quote');
    expect(q.bidSize).toBeCloseTo(Number(d.bidSz) * loadInstrumentsFile(INSTRUMENTS).okx!.get('BTC-USDT-SWAP')!.contractValue, 12);
    // Every registered venue's frames give quotes.
    expect(new Set(updates.filter((u) => u.kind === 'quote').map((u) => u.ex))).toEqual(new Set(EXCHANGES));
    expect(updates.some((u) => u.kind === 'funding' && u.ex === 'kucoin')).toBe(true);
  });

  it('a bad --config names the field and exits 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-'));
    const cfg = join(dir, 'bad.json');
    writeFileSync(cfg, JSON.stringify({ thresholds: { minSpreadBps: 'five' } }));
    const r = cli([RECORDING, '--config', cfg]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/thresholds\.minSpreadBps/);
    expect(cli(['--emit', 'everything', RECORDING]).stderr).toMatch(/--emit must be quotes or opportunities/);
  });
});

describe('replay library', () => {
  it('the shipped recording has socket frames and REST metadata from every registered venue; replaying it (metadata from the recording) gives quotes for each', async () => {
    const all = await frames();
    expect(new Set(all.filter((f) => f.rest === undefined).map((f) => f.ex))).toEqual(new Set(EXCHANGES));
    expect(new Set(all.filter((f) => f.rest !== undefined).map((f) => f.ex))).toEqual(new Set(EXCHANGES));
    const quotes = new Map<string, number>();
    const r = createReplay({ config: DEFAULT_CONFIG, onUpdate: (u) => { if (u.kind === 'quote') quotes.set(u.ex, (quotes.get(u.ex) ?? 0) + 1); } });
    for (const f of all) await r.feed(f);
    const s = r.stats();
    expect(s.metadata).toEqual(perVenue(() => 'recorded'));
    expect(s.metadataErrors).toEqual({});
    for (const ex of EXCHANGES) {
      expect(quotes.get(ex) ?? 0, ex).toBeGreaterThan(0);
      expect(s.errors[ex], ex).toEqual({});
    }
    expect(s.quotes).toBe([...quotes.values()].reduce((a, b) => a + b, 0));
  });

  it('a REST body recorded mid-run pushes funding only when its timing changed, keeping the fresher of the seed and the streamed rate (as the live feed)', async () => {
    const all = await frames();
    const updates: ReplayUpdate[] = [];
    const r = createReplay({ config: DEFAULT_CONFIG, onUpdate: (u) => updates.push(u) });
    for (const f of all) await r.feed(f);
    const fundings = () => updates.filter((u): u is Extract<ReplayUpdate, { kind: 'funding' }> => u.kind === 'funding' && u.ex === 'gate' && u.symbol === 'BTC_USDT');
    const streamed = fundings().at(-1)!;
    expect(streamed.t).toBeGreaterThan(all[0].t); // a figure from the stream, after the start-up seed
    const rest = all.find((f) => f.ex === 'gate' && f.rest !== undefined)!;
    const pong = all.find((f) => f.ex === 'gate' && f.raw.includes('"futures.pong"'))!;
    const contracts = JSON.parse(rest.raw) as Array<{ name: string; funding_rate: string; funding_next_apply: number }>;
    const nextS = contracts.find((c) => c.name === 'BTC_USDT')!.funding_next_apply;
    const staleRate = streamed.rate + 0.001;
    // Re-read: the contracts body with BTC's rate changed and its next settlement at `next` (s), requested at `t`; a later gate frame applies it.
    const reread = async (t: number, next: number) => {
      const body = contracts.map((c) => (c.name === 'BTC_USDT' ? { ...c, funding_rate: String(staleRate), funding_next_apply: next } : c));
      await r.feed({ t, ex: 'gate', rest: rest.rest, raw: JSON.stringify(body) });
      const before = fundings().length;
      await r.feed({ ...pong, t: r.now() });
      expect(r.stats().metadataErrors).toEqual({});
      return fundings().slice(before);
    };
    const engineRate = () => r.engine.funding(streamed.instrument, 'gate')!.rate;
    expect(engineRate()).toBe(streamed.rate);

    // Same timing, a rate requested before the streamed one: nothing pushed (the old replay pushed the stale seed).
    expect(await reread(streamed.exchangeTsMs - 1000, nextS)).toEqual([]);
    expect(engineRate()).toBe(streamed.rate);

    // The next settlement moved, the seed still older: the streamed rate goes out with the new time.
    const later = await reread(streamed.exchangeTsMs - 1000, nextS + 28_800);
    expect(later).toEqual([{ ...streamed, t: r.now(), nextFundingMs: (nextS + 28_800) * 1000 }]);
    expect(engineRate()).toBe(streamed.rate);

    // Moved again, the seed now the fresher figure: its rate goes out.
    const fresher = await reread(streamed.exchangeTsMs + 1000, nextS + 2 * 28_800);
    expect(fresher).toEqual([{ ...streamed, t: r.now(), rate: staleRate, nextFundingMs: (nextS + 2 * 28_800) * 1000, exchangeTsMs: streamed.exchangeTsMs + 1000 }]);
    expect(engineRate()).toBe(staleRate);
  });

  it('createReplay: deterministic events on the recording clock; a config change changes the result', async () => {
    const all = await frames();
    const instruments = loadInstrumentsFile(INSTRUMENTS);
    const run = (config = DEFAULT_CONFIG) => {
      const r = createReplay({ config, instruments });
      const sub = r.engine.bus.subscribe('t');
      const out: OpportunityEvent[] = [];
      for (const f of all) {
        r.feedFrame(f);
        out.push(...sub.popBatch(1e9));
      }
      return { events: out, stats: r.stats(), now: r.now() };
    };
    const a = run();
    const b = run();
    expect(JSON.stringify(a.events)).toBe(JSON.stringify(b.events));
    expect(a.now).toBe(all[all.length - 1].t);
    expect(a.events.every((e) => e.tsMs >= all[0].t && e.tsMs <= all[all.length - 1].t)).toBe(true);
    expect(a.stats.outcomes.bybit.data).toBeGreaterThan(100);
    const strict = run({ ...DEFAULT_CONFIG, thresholds: { ...DEFAULT_CONFIG.thresholds, minSpreadBps: 1000 } });
    expect(strict.events.filter((e) => e.kind === 'opened').length).toBeLessThan(a.events.filter((e) => e.kind === 'opened').length);
  });

  it('without --instruments the built-in defaults are used (KuCoin funding needs a next time: counted, not guessed)', async () => {
    const r = createReplay({ config: DEFAULT_CONFIG });
    for (const f of await frames()) r.feedFrame(f);
    const s = r.stats();
    expect(s.outcomes.okx.data).toBeGreaterThan(100);
    expect(s.errors.kucoin.no_next_funding_time).toBeGreaterThan(0);
  });
});

describe('FrameRecorder', () => {
  for (const name of ['frames.jsonl', 'frames.jsonl.gz']) {
    it(`round-trips frames exactly (${name})`, async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'rec-')), name);
      const rec = new FrameRecorder(file);
      const raws = ['{"a":"b"}', 'pong', 'quote " and \\ backslash\nnewline', '{"emoji":"€ ✓"}', ''];
      raws.forEach((raw, i) => rec.record(i % 2 ? 'okx' : 'bybit', raw, 1_700_000_000_000 + i));
      await rec.close();
      const back: RecordedFrame[] = [];
      for await (const f of readRecording(file)) back.push(f);
      expect(back).toEqual(raws.map((raw, i) => ({ t: 1_700_000_000_000 + i, ex: i % 2 ? 'okx' : 'bybit', raw })));
      if (!name.endsWith('.gz')) expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('{"t":1700000000000,"ex":"bybit","raw":"{\\"a\\":\\"b\\"}"}');
    });
  }
});

describeWith(['redis'], 'replay --replay redis', () => {
  it('replays the persistence layer market records', { timeout: 60_000 }, async () => {
    const { createPersistence } = await import('../../server/persistence/index.js');
    const prefix = `perpscan-test-replay-${process.pid}-${Date.now()}:`;
    const p = createPersistence({ redisUrl: REDIS_URL, prefix });
    await p.open();
    const t = 1_795_600_000_000;
    p.appendMarketRecord({ exchange: 'bybit', symbol: 'BTCUSDT', kind: 'quote', recvMs: t, exchangeTsMs: t - 5, bid: 100, ask: 100.5, bidSize: 1, askSize: 2 });
    p.appendMarketRecord({ exchange: 'okx', symbol: 'BTC-USDT-SWAP', kind: 'quote', recvMs: t + 1, exchangeTsMs: t - 4, bid: 101, ask: 101.5, bidSize: 3, askSize: 4 });
    p.appendMarketRecord({ exchange: 'okx', symbol: 'BTC-USDT-SWAP', kind: 'funding', recvMs: t + 2, exchangeTsMs: t - 3, fundingRate: 0.0001, fundingIntervalMs: 28_800_000, nextFundingMs: t + 60_000, predicted: false });
    await p.flush(5000);
    try {
      const r = cli(['--replay', 'redis', '--emit', 'quotes'], { REDIS_URL, REDIS_PREFIX: prefix });
      expect(r.stderr).toMatch(/replay summary/);
      expect(r.status).toBe(0);
      const lines = r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as ReplayUpdate);
      expect(lines).toEqual([
        { t, ex: 'bybit', symbol: 'BTCUSDT', instrument: 'BTC-PERP', kind: 'quote', bid: 100, ask: 100.5, bidSize: 1, askSize: 2, exchangeTsMs: t - 5 },
        { t: t + 1, ex: 'okx', symbol: 'BTC-USDT-SWAP', instrument: 'BTC-PERP', kind: 'quote', bid: 101, ask: 101.5, bidSize: 3, askSize: 4, exchangeTsMs: t - 4 },
        { t: t + 2, ex: 'okx', symbol: 'BTC-USDT-SWAP', instrument: 'BTC-PERP', kind: 'funding', rate: 0.0001, intervalMs: 28_800_000, nextFundingMs: t + 60_000, predicted: false, exchangeTsMs: t - 3 },
      ]);
    } finally {
      const { default: Redis } = await import('ioredis');
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
      await p.close();
    }
  });
});
