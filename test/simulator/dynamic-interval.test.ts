/**
 * Dynamic funding intervals in the simulator (issue 12): on a venue whose profile has
 * `dynamicFundingCap`, a pair whose rate is at the cap at a settlement settles hourly from then on and
 * returns to its own interval after DYNAMIC_REVERT_SETTLEMENTS quiet hourly settlements; other venues
 * keep their intervals. Then end to end over sockets: the Bybit twin's `fundingIntervalHour` and the
 * Binance twin's markPrice `T` / fundingInfo carry the switch through the real FeedManager to the engine.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { applyConfigPatch, DEFAULT_CONFIG } from '../../shared/config.js';
import type { Exchange } from '../../shared/exchanges.js';
import { Engine } from '../../server/engine/index.js';
import { FeedManager } from '../../server/feeds/manager.js';
import { createFetchJson } from '../../server/feeds/metadata.js';
import { DYNAMIC_REVERT_SETTLEMENTS, MarketModel, nextFundingMs, type Pair } from '../../server/simulator/market.js';
import { startSimulator, type Simulator } from '../../server/simulator/index.js';
import { waitFor } from '../feeds/helpers.js';

const H = 3_600_000;
const INSTRUMENTS = ['BTC-PERP', 'ETH-PERP', 'SOL-PERP'];

function atCap(pair: Pair): void {
  pair.fundingIntervalMs = 8 * H;
  pair.funding8h = pair.fundingMean8h = 0.003; // the simulator's ceiling: 0.3 % per 8 h ≥ the twins' 0.2 % cap
}

describe('MarketModel.settleFunding (no sockets)', () => {
  it('at the cap at a settlement: 1 h from then on on a dynamic venue only; back after the quiet hourly settlements', () => {
    const m = new MarketModel({ seed: 3, exchanges: ['bybit', 'okx'], instruments: INSTRUMENTS, dislocationsPerMin: 0 });
    const bybit = m.byExchange.bybit.find((p) => p.spec.key === 'ETH-PERP')!;
    const okx = m.byExchange.okx.find((p) => p.spec.key === 'ETH-PERP')!;
    atCap(bybit);
    atCap(okx);
    const S = Date.UTC(2026, 11, 1, 8); // an 8 h settlement
    m.settleFunding(S - 30 * 60_000); // first look: nothing has settled while watched
    expect(bybit.fundingIntervalMs).toBe(8 * H);
    m.settleFunding(S + 1);
    expect(bybit.fundingIntervalMs).toBe(H);
    expect(nextFundingMs(bybit, S + 1)).toBe(S + H);
    expect(okx.fundingIntervalMs).toBe(8 * H); // no dynamic intervals on this venue
    // Still at the cap: stays hourly.
    m.settleFunding(S + H + 1);
    expect(bybit.fundingIntervalMs).toBe(H);
    // Quiet from now on: reverts after DYNAMIC_REVERT_SETTLEMENTS hourly settlements.
    bybit.funding8h = bybit.fundingMean8h = 0.0001;
    for (let k = 2; k < 2 + DYNAMIC_REVERT_SETTLEMENTS - 1; k++) m.settleFunding(S + k * H + 1);
    expect(bybit.fundingIntervalMs).toBe(H);
    m.settleFunding(S + (1 + DYNAMIC_REVERT_SETTLEMENTS) * H + 1);
    expect(bybit.fundingIntervalMs).toBe(8 * H);
    expect(m.intervalSwitches).toBe(2);
    // Between hour boundaries it does nothing (O(1)).
    atCap(bybit);
    m.settleFunding(S + (1 + DYNAMIC_REVERT_SETTLEMENTS) * H + 30 * 60_000);
    expect(bybit.fundingIntervalMs).toBe(8 * H);
  });

  it('is deterministic: the same seed and funding path give the same switches', () => {
    const run = () => {
      const m = new MarketModel({ seed: 9, exchanges: ['bybit', 'binance'], instruments: INSTRUMENTS, dislocationsPerMin: 0 });
      for (const p of m.pairs) p.fundingMean8h = p.funding8h = 0.0028;
      const out: number[] = [];
      for (let h = 0; h < 40; h++) {
        m.driftFunding(3600);
        m.settleFunding(Date.UTC(2026, 11, 1) + h * H + 1);
        out.push(...m.pairs.map((p) => p.fundingIntervalMs));
      }
      expect(m.intervalSwitches).toBeGreaterThan(0);
      return out;
    };
    expect(run()).toEqual(run());
  });
});

describe('twin over sockets → real FeedManager → engine', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('Bybit (ticker fundingIntervalHour) and Binance (markPrice T, fundingInfo re-read after the settlement): the switch to 1 h reaches the engine', async () => {
    // A clock a few seconds before an 8 h settlement, shared by the simulator, the feeds and the engine.
    const lead = 8000;
    const boundary = Math.ceil((Date.now() + lead) / (8 * H)) * 8 * H;
    const offset = boundary - lead - Date.now();
    const now = () => Date.now() + offset;
    const sim: Simulator = await startSimulator({ seed: 5, messagesPerSec: 400, instruments: INSTRUMENTS, exchanges: ['bybit', 'binance'], now });
    cleanups.push(() => sim.close());
    const venues: Exchange[] = ['bybit', 'binance'];
    for (const ex of venues) atCap(sim.model.byExchange[ex].find((p) => p.spec.key === 'ETH-PERP')!);
    const r = applyConfigPatch(DEFAULT_CONFIG, { detector: { staleAfterMs: 60_000 } });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const engine = new Engine({ config: r.config, now });
    let fundingInfoReads = 0;
    const realFetch = createFetchJson();
    const fm = new FeedManager({
      engine,
      exchanges: venues,
      instruments: ['ETH-PERP'],
      endpoints: sim.endpoints,
      now,
      settlementRefreshDelayMs: 200,
      settlementRefreshJitterMs: 100,
      fetchJson: (url, init) => {
        if (url.includes('/fapi/v1/fundingInfo')) fundingInfoReads++;
        return realFetch(url, init);
      },
    });
    cleanups.push(() => fm.stop());
    await fm.start();
    const funding = (ex: Exchange) => engine.quote('ETH-PERP', ex);
    await waitFor('8 h funding on both venues before the settlement', () => venues.every((ex) => funding(ex)?.fundingIntervalMs === 8 * H && funding(ex)?.nextFundingMs === boundary), lead);
    expect(now()).toBeLessThan(boundary);
    const readsBefore = fundingInfoReads;
    await waitFor('1 h funding on both venues after the settlement', () => venues.every((ex) => funding(ex)?.fundingIntervalMs === H && funding(ex)?.nextFundingMs === boundary + H), lead + 10_000);
    expect(sim.model.intervalSwitches).toBeGreaterThanOrEqual(2);
    // Binance: fundingInfo was re-read shortly after the settlement and now lists the symbol at 1 h.
    await waitFor('binance metadata at 1 h', () => fm.metadata().binance?.get('ETHUSDT')?.fundingIntervalMs === H, 5000);
    expect(fundingInfoReads).toBeGreaterThan(readsBefore);
    // Bybit: instruments-info's fundingInterval follows on the next refresh too.
    await fm.refreshDiscovery();
    expect(fm.metadata().bybit?.get('ETHUSDT')?.fundingIntervalMs).toBe(H);
    expect(funding('bybit')?.fundingIntervalMs).toBe(H);
  }, 40_000);
});
