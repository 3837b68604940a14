import { describe, expect, it } from 'vitest';
import { applyConfigPatch, DEFAULT_CONFIG } from '../../shared/config.js';
import { EXCHANGES } from '../../shared/exchanges.js';
import { buildPatch, configSections, dirtyPaths, draftErrors, draftFromConfig } from '../../web/src/lib/config-form.js';

describe('config form', () => {
  const sections = configSections();
  const fields = new Map(sections.flatMap((s) => s.fields.map((f) => [f.path, f] as const)));

  it('derives the editable fields from the shared schema, with units and kinds', () => {
    expect(sections.map((s) => s.key).slice(0, 6)).toEqual(['thresholds', 'detector', 'fees', 'strategy', 'exits', 'risk']);
    expect(fields.get('thresholds.minSpreadBps')).toMatchObject({ kind: 'number', unit: 'bps', label: 'Min spread', min: -10_000 });
    expect(fields.get('fees.takerBps.okx')).toMatchObject({ kind: 'number', label: 'OKX', unit: 'bps' });
    expect(fields.get('risk.maxOpenPositions')).toMatchObject({ kind: 'integer' });
    expect(fields.get('exits.onFeedDown')).toMatchObject({ kind: 'enum', options: ['close', 'hold'] });
    expect(fields.get('strategy.enabled')).toMatchObject({ kind: 'boolean' });
    expect(fields.get('market.exchanges')).toMatchObject({ kind: 'multi', options: [...EXCHANGES] });
    expect(fields.get('market.instruments')).toMatchObject({ kind: 'list', allValue: 'all' });
    expect(fields.get('market.exclude')).toMatchObject({ kind: 'list' });
    expect(fields.get('market.minVenues')).toMatchObject({ kind: 'integer', min: 1 });
    expect(fields.get('market.discoveryRefreshMs')).toMatchObject({ kind: 'integer', unit: 'ms' });
  });

  it('market: shows and edits "all", a list, exclusions (venue:KEY keeps the venue id) and minVenues', () => {
    const draft = draftFromConfig(DEFAULT_CONFIG, sections);
    expect(draft['market.instruments']).toBe('all');
    expect(draft['market.exclude']).toBe('');
    expect(draft['market.minVenues']).toBe('2');
    draft['market.instruments'] = ' All ';
    draft['market.exclude'] = 'doge-perp, Binance:pepe-perp';
    draft['market.minVenues'] = '3';
    const patch = buildPatch(DEFAULT_CONFIG, draft, sections);
    expect(patch).toEqual({ market: { exclude: ['DOGE-PERP', 'binance:PEPE-PERP'], minVenues: 3 } });
    expect(applyConfigPatch(DEFAULT_CONFIG, patch).ok).toBe(true);
    const listed = applyConfigPatch(DEFAULT_CONFIG, { market: { instruments: ['BTC-PERP', 'ETH-PERP'] } });
    if (!listed.ok) throw new Error('invalid');
    const back = draftFromConfig(listed.config, sections);
    expect(back['market.instruments']).toBe('BTC-PERP, ETH-PERP');
    back['market.instruments'] = 'all';
    expect(buildPatch(listed.config, back, sections)).toEqual({ market: { instruments: 'all' } });
  });

  it('builds a partial patch of only what changed, which the shared validator accepts', () => {
    const draft = draftFromConfig(DEFAULT_CONFIG, sections);
    expect(buildPatch(DEFAULT_CONFIG, draft, sections)).toBeNull();
    draft['thresholds.minSpreadBps'] = '7.5';
    draft['fees.takerBps.okx'] = '4';
    draft['strategy.enabled'] = false;
    draft['market.exchanges'] = ['okx', 'binance'];
    draft['market.instruments'] = 'btc-perp, ETH-PERP';
    const patch = buildPatch(DEFAULT_CONFIG, draft, sections);
    expect(patch).toEqual({
      thresholds: { minSpreadBps: 7.5 },
      fees: { takerBps: { okx: 4 } },
      strategy: { enabled: false },
      market: { exchanges: ['okx', 'binance'], instruments: ['BTC-PERP', 'ETH-PERP'] },
    });
    expect([...dirtyPaths(DEFAULT_CONFIG, draft, sections)].sort()).toEqual(
      ['fees.takerBps.okx', 'market.exchanges', 'market.instruments', 'strategy.enabled', 'thresholds.minSpreadBps'].sort(),
    );
    const result = applyConfigPatch(DEFAULT_CONFIG, patch);
    expect(result.ok).toBe(true);
  });

  it('sends text that is not a number as is, so the server names the field', () => {
    const draft = draftFromConfig(DEFAULT_CONFIG, sections);
    draft['detector.notionalUsd'] = 'lots';
    const patch = buildPatch(DEFAULT_CONFIG, draft, sections);
    expect(patch).toEqual({ detector: { notionalUsd: 'lots' } });
    const result = applyConfigPatch(DEFAULT_CONFIG, patch);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0].field).toBe('detector.notionalUsd');
  });
});

describe('config form: one unit per quantity, list entries checked before sending', () => {
  const sections = configSections();
  const fields = new Map(sections.flatMap((s) => s.fields.map((f) => [f.path, f] as const)));

  it('edits the funding threshold (a fraction per 8 h) in bps per 8 h and sends the fraction', () => {
    const f = fields.get('thresholds.minFundingDelta8h')!;
    expect(f).toMatchObject({ unit: 'bps/8h', scale: 10_000, min: -500, max: 500 });
    const config = applyConfigPatch(DEFAULT_CONFIG, { thresholds: { minFundingDelta8h: 0.00015 } });
    if (!config.ok) throw new Error('invalid');
    const draft = draftFromConfig(config.config, sections);
    expect(draft['thresholds.minFundingDelta8h']).toBe('1.5'); // 0.00015 = 1.5 bps, without binary noise
    expect(buildPatch(config.config, draft, sections)).toBeNull();
    draft['thresholds.minFundingDelta8h'] = '0.3';
    expect(buildPatch(config.config, draft, sections)).toEqual({ thresholds: { minFundingDelta8h: 0.00003 } });
    draft['thresholds.minFundingDelta8h'] = '-1';
    expect(buildPatch(config.config, draft, sections)).toEqual({ thresholds: { minFundingDelta8h: -0.0001 } });
  });

  it('names market.exclude entries that are neither KEY nor venue:KEY, and accepts both forms', () => {
    const draft = draftFromConfig(DEFAULT_CONFIG, sections);
    const venue = EXCHANGES[0];
    draft['market.exclude'] = `doge-perp, ${venue}:pepe-perp`;
    expect(draftErrors(draft, sections)).toEqual({});
    draft['market.exclude'] = `doge-perp, nowhere:PEPE-PERP, BTCUSDT, ${venue}:`;
    expect(draftErrors(draft, sections)).toEqual({ 'market.exclude': `not KEY or venue:KEY (e.g. DOGE-PERP, or <venue id>:PEPE-PERP): nowhere:PEPE-PERP, BTCUSDT, ${venue}:` });
    // What passes here, the server accepts too (same schema pattern).
    draft['market.exclude'] = `DOGE-PERP, ${venue}:PEPE-PERP`;
    expect(applyConfigPatch(DEFAULT_CONFIG, buildPatch(DEFAULT_CONFIG, draft, sections)).ok).toBe(true);
    draft['market.instruments'] = 'BTC-PERP, ETH';
    expect(draftErrors(draft, sections)['market.instruments']).toBe('not an instrument key (e.g. BTC-PERP): ETH');
    draft['market.instruments'] = 'all';
    expect(draftErrors(draft, sections)['market.instruments']).toBeUndefined();
  });
});

describe('config form: shares in percent', () => {
  it('a share 0..1 (a key ending in Share) is edited in percent and sent as the fraction', () => {
    const schema = { type: 'object', properties: { thresholds: { type: 'object', properties: { minCarryEarnedShare: { type: 'number', minimum: 0, maximum: 1, description: 'share' } } } } };
    const sections = configSections(schema);
    const f = sections[0].fields[0];
    expect(f).toMatchObject({ path: 'thresholds.minCarryEarnedShare', unit: '%', scale: 100, min: 0, max: 100 });
    const config = { thresholds: { minCarryEarnedShare: 0.7 } } as unknown as typeof DEFAULT_CONFIG;
    const draft = draftFromConfig(config, sections);
    expect(draft['thresholds.minCarryEarnedShare']).toBe('70');
    draft['thresholds.minCarryEarnedShare'] = '55';
    expect(buildPatch(config, draft, sections)).toEqual({ thresholds: { minCarryEarnedShare: 0.55 } });
  });
});
