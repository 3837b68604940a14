/**
 * Fees per venue: a published tier (from the venue's facts.ts) or custom. The config keeps tier, taker and
 * maker in step; the first release's `fees.takerBps` still works (it makes the venue custom); a bad tier or a
 * figure that contradicts the tier in the same change is a 400 naming the field; the opportunity says which
 * tier applied per leg and its taker fee.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { applyConfigPatch, DEFAULT_CONFIG } from '../../shared/config.js';
import { EXCHANGES, venueFacts, type Exchange } from '../../shared/exchanges.js';
import { CUSTOM_FEE_TIER, resolveFees } from '../../shared/fees.js';
import { feeBreakdownText } from '../../web/src/lib/fees.js';
import { configSections } from '../../web/src/lib/config-form.js';
import { trackApps } from './harness.js';

const { make, closeAll } = trackApps();
afterEach(closeAll);

/** A venue with at least two published tiers (a VIP level), and one other venue of the test app. */
const TIERED = EXCHANGES.find((ex) => venueFacts(ex).feeTiers.length > 1) as Exchange;

describe('fee tiers in venue facts', () => {
  it('every venue lists its regular tier first, equal to its takerFeeBps; ids are unique config words', () => {
    for (const ex of EXCHANGES) {
      const f = venueFacts(ex);
      expect(f.feeTiers.length, ex).toBeGreaterThan(0);
      expect(f.feeTiers[0].takerBps, ex).toBe(f.takerFeeBps);
      const ids = f.feeTiers.map((t) => t.id);
      expect(new Set(ids).size, ex).toBe(ids.length);
      for (const t of f.feeTiers) {
        expect(t.id, ex).toMatch(/^[a-z0-9]+$/);
        expect(t.id).not.toBe(CUSTOM_FEE_TIER);
        expect(t.takerBps, ex).toBeGreaterThan(0);
        expect(t.makerBps, ex).toBeLessThanOrEqual(t.takerBps);
      }
    }
    expect(TIERED).toBeDefined();
  });

  it('defaults: every venue on its regular tier with that tier’s taker and maker', () => {
    for (const ex of EXCHANGES) {
      const r = venueFacts(ex).feeTiers[0];
      expect(DEFAULT_CONFIG.fees.tier[ex]).toBe(r.id);
      expect(DEFAULT_CONFIG.fees.takerBps[ex]).toBe(r.takerBps);
      expect(DEFAULT_CONFIG.fees.makerBps[ex]).toBe(r.makerBps);
    }
  });
});

describe('config fees', () => {
  const apply = (patch: unknown, base = DEFAULT_CONFIG) => applyConfigPatch(base, patch);

  it('choosing a tier sets both figures; choosing custom keeps them; setting a figure alone makes the venue custom', () => {
    const vip = venueFacts(TIERED).feeTiers[1];
    const r = apply({ fees: { tier: { [TIERED]: vip.id } } });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.config.fees.takerBps[TIERED]).toBe(vip.takerBps);
    expect(r.config.fees.makerBps[TIERED]).toBe(vip.makerBps);

    const legacy = apply({ fees: { takerBps: { [TIERED]: 2.25 } } }, r.config);
    if (!legacy.ok) throw new Error(JSON.stringify(legacy.errors));
    expect(legacy.config.fees.tier[TIERED]).toBe(CUSTOM_FEE_TIER);
    expect(legacy.config.fees.takerBps[TIERED]).toBe(2.25);
    expect(legacy.config.fees.makerBps[TIERED]).toBe(vip.makerBps);

    const maker = apply({ fees: { makerBps: { [TIERED]: -0.5 } } }, legacy.config);
    if (!maker.ok) throw new Error(JSON.stringify(maker.errors));
    expect(maker.config.fees).toMatchObject({ tier: { [TIERED]: CUSTOM_FEE_TIER }, takerBps: { [TIERED]: 2.25 }, makerBps: { [TIERED]: -0.5 } });

    const back = apply({ fees: { tier: { [TIERED]: 'regular' } } }, maker.config);
    if (!back.ok) throw new Error(JSON.stringify(back.errors));
    expect(back.config.fees.takerBps[TIERED]).toBe(venueFacts(TIERED).feeTiers[0].takerBps);
  });

  it('a figure equal to the tier’s keeps the tier; an old saved config (takerBps only) migrates per venue', () => {
    const same = apply({ fees: { takerBps: { [TIERED]: DEFAULT_CONFIG.fees.takerBps[TIERED] } } });
    expect(same.ok && same.config.fees.tier[TIERED]).toBe('regular');
    // a first-release config: no tier, no makerBps; one venue changed by hand
    const [a, b] = EXCHANGES;
    const old = { fees: { takerBps: { ...Object.fromEntries(EXCHANGES.map((ex) => [ex, venueFacts(ex).takerFeeBps])), [a]: 1 } } };
    const r = apply(old);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.config.fees.tier[a]).toBe(CUSTOM_FEE_TIER);
    expect(r.config.fees.takerBps[a]).toBe(1);
    expect(r.config.fees.tier[b]).toBe(venueFacts(b).feeTiers[0].id);
    // resolveFees on a merged object without tier/maker fills them in
    const merged: Record<string, unknown> = { fees: { takerBps: { ...DEFAULT_CONFIG.fees.takerBps } } };
    expect(resolveFees(merged, {})).toEqual([]);
    expect((merged.fees as { tier: Record<string, string> }).tier[b]).toBe(venueFacts(b).feeTiers[0].id);
  });

  it('PUT /api/config: a bad tier or a contradicting figure is a 400 naming the field', async () => {
    const a = await make();
    const bad = await a.app.inject({ method: 'PUT', url: '/api/config', payload: { fees: { tier: { [TIERED]: 'vip99' } } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe(`fees.tier.${TIERED}`);
    const vip = venueFacts(TIERED).feeTiers[1];
    const clash = await a.app.inject({ method: 'PUT', url: '/api/config', payload: { fees: { tier: { [TIERED]: vip.id }, takerBps: { [TIERED]: vip.takerBps + 1 } } } });
    expect(clash.statusCode).toBe(400);
    expect(clash.json().field).toBe(`fees.takerBps.${TIERED}`);
    const negTaker = await a.app.inject({ method: 'PUT', url: '/api/config', payload: { fees: { takerBps: { [TIERED]: -1 } } } });
    expect(negTaker.statusCode).toBe(400);
    expect(negTaker.json().field).toBe(`fees.takerBps.${TIERED}`);
    const ok = await a.app.inject({ method: 'PUT', url: '/api/config', payload: { fees: { tier: { [TIERED]: vip.id }, takerBps: { [TIERED]: vip.takerBps } } } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().config.fees.makerBps[TIERED]).toBe(vip.makerBps);
  });

  it('the opportunity names the tier that applied per leg and its taker fee; feesBps is their round trip', async () => {
    const [x, y] = ['bybit', 'okx'] as const; // the harness's venues
    const a = await make();
    const vipX = venueFacts(x).feeTiers[1];
    const patch = vipX ? { fees: { tier: { [x]: vipX.id }, takerBps: { [y]: 1.5 } } } : { fees: { takerBps: { [y]: 1.5 } } };
    expect((await a.app.inject({ method: 'PUT', url: '/api/config', payload: patch })).statusCode).toBe(200);
    a.flat('BTC-PERP', 50_000);
    a.spread('BTC-PERP', x, y, 50_000, 80);
    const opp = (await a.app.inject({ method: 'GET', url: '/api/opportunities?instrument=BTC-PERP' })).json().opportunities.find((o: { longExchange: string; shortExchange: string }) => o.longExchange === x && o.shortExchange === y);
    expect(opp).toBeDefined();
    const tierX = vipX ?? venueFacts(x).feeTiers[0];
    expect(opp.longFeeTier).toBe(tierX.id);
    expect(opp.longTakerFeeBps).toBe(tierX.takerBps);
    expect(opp.shortFeeTier).toBe(CUSTOM_FEE_TIER);
    expect(opp.shortTakerFeeBps).toBe(1.5);
    expect(opp.feesBps).toBeCloseTo(2 * (tierX.takerBps + 1.5), 12);
  });
});

describe('dashboard', () => {
  it('the fee cell explains which tier applied per leg; the config form offers each venue’s tiers and custom', () => {
    const [x, y] = EXCHANGES;
    const tierX = venueFacts(x).feeTiers[0];
    const text = feeBreakdownText({ longExchange: x, shortExchange: y, feesBps: 2 * (tierX.takerBps + 3), longFeeTier: tierX.id, shortFeeTier: CUSTOM_FEE_TIER, longTakerFeeBps: tierX.takerBps, shortTakerFeeBps: 3 });
    expect(text).toContain(`${venueFacts(x).displayName} ${tierX.name} ${tierX.takerBps} bps`);
    expect(text).toContain(`${venueFacts(y).displayName} custom 3 bps`);
    const fees = configSections().find((s) => s.key === 'fees')!;
    const tierField = fees.fields.find((f) => f.path === `fees.tier.${TIERED}`)!;
    expect(tierField.kind).toBe('enum');
    expect(tierField.options).toEqual([...venueFacts(TIERED).feeTiers.map((t) => t.id), CUSTOM_FEE_TIER]);
    expect(fees.fields.find((f) => f.path === `fees.makerBps.${TIERED}`)).toMatchObject({ kind: 'number', unit: 'bps' });
  });
});
