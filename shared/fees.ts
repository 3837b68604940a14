/**
 * Fees per venue: a published tier (each venue's facts.ts lists and cites its tiers, regular first) or
 * `custom`. Config `fees` holds, per venue, the tier id and the effective taker and maker fees (bps per fill):
 * with a named tier they are that tier's figures, with `custom` whatever the user set.
 *
 * `resolveFees` keeps the three consistent on every config change (PUT, file, environment, restore):
 * - a change naming a tier sets takerBps/makerBps from it; a taker or maker in the same change that
 *   differs from the tier is an error naming that field;
 * - a change of takerBps or makerBps alone (the first release's `fees.takerBps`, an old persisted config)
 *   switches that venue to `custom` when the value differs from the tier's;
 * - `custom` keeps the figures as they are.
 */
import { EXCHANGES, venueFacts, type Exchange } from './exchanges.js';
import type { FeeTier } from './venue-facts.js';

export const CUSTOM_FEE_TIER = 'custom';

export function feeTiersOf(exchange: Exchange): readonly FeeTier[] {
  return venueFacts(exchange).feeTiers;
}

export function feeTier(exchange: Exchange, id: string): FeeTier | undefined {
  return feeTiersOf(exchange).find((t) => t.id === id);
}

/** What the config form and the opportunity's breakdown show for a tier id. */
export function feeTierLabel(exchange: Exchange, id: string): string {
  return id === CUSTOM_FEE_TIER ? 'custom' : (feeTier(exchange, id)?.name ?? id);
}

const regular = (ex: Exchange): FeeTier => feeTiersOf(ex)[0];

export const DEFAULT_FEES = {
  takerBps: Object.fromEntries(EXCHANGES.map((ex) => [ex, regular(ex).takerBps])) as Record<Exchange, number>,
  makerBps: Object.fromEntries(EXCHANGES.map((ex) => [ex, regular(ex).makerBps])) as Record<Exchange, number>,
  tier: Object.fromEntries(EXCHANGES.map((ex) => [ex, regular(ex).id])) as Record<Exchange, string>,
};

export interface FeeError {
  field: string;
  message: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Makes `merged.fees` consistent (see the module comment), given the change `patch` that produced it.
 * Leaves anything malformed for the schema to report; returns the conflicts it found.
 */
export function resolveFees(merged: unknown, patch: unknown): FeeError[] {
  if (!isObj(merged) || !isObj(merged.fees)) return [];
  const fees = merged.fees;
  const pf = isObj(patch) && isObj(patch.fees) ? patch.fees : {};
  const pick = (group: string, ex: string): unknown => (isObj(pf[group]) ? (pf[group] as Record<string, unknown>)[ex] : undefined);
  const taker = isObj(fees.takerBps) ? { ...fees.takerBps } : null;
  const maker = isObj(fees.makerBps) ? { ...fees.makerBps } : {};
  const tier = isObj(fees.tier) ? { ...fees.tier } : {};
  if (!taker) return [];
  const errors: FeeError[] = [];
  for (const ex of EXCHANGES) {
    const pTier = pick('tier', ex);
    const pTaker = pick('takerBps', ex);
    const pMaker = pick('makerBps', ex);
    const current = typeof tier[ex] === 'string' ? (tier[ex] as string) : regular(ex).id;
    if (current === CUSTOM_FEE_TIER) {
      if (maker[ex] === undefined) maker[ex] = regular(ex).makerBps;
      tier[ex] = current;
      continue;
    }
    const t = feeTier(ex, current);
    if (!t) continue; // unknown id: the schema names fees.tier.<venue>
    if (pTier !== undefined) {
      if (pTaker !== undefined && pTaker !== t.takerBps)
        errors.push({ field: `fees.takerBps.${ex}`, message: `differs from tier ${t.id} (${t.takerBps} bps); set fees.tier.${ex} to custom to use your own figure` });
      if (pMaker !== undefined && pMaker !== t.makerBps)
        errors.push({ field: `fees.makerBps.${ex}`, message: `differs from tier ${t.id} (${t.makerBps} bps); set fees.tier.${ex} to custom to use your own figure` });
    } else if ((pTaker !== undefined && pTaker !== t.takerBps) || (pMaker !== undefined && pMaker !== t.makerBps)) {
      tier[ex] = CUSTOM_FEE_TIER; // a figure set by hand: the first release's fees.takerBps, an old saved config
      if (maker[ex] === undefined) maker[ex] = t.makerBps;
      continue;
    }
    tier[ex] = t.id;
    taker[ex] = t.takerBps;
    maker[ex] = t.makerBps;
  }
  merged.fees = { ...fees, takerBps: taker, makerBps: maker, tier };
  return errors;
}
