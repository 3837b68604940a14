/**
 * Venue options (VenueFacts.options → config `venues.<id>` → the adapter's discovery). The registry is
 * mocked so that exactly one venue, its first, declares options (a test schema and defaults); the options
 * real venues declare are removed here, so the assertions do not change when a venue adds some.
 * Covered: the schema composed from a facts list (defaults, validation naming the field), PUT /api/config
 * (bad value → 400 naming the field, old state kept; a change re-runs that venue's discovery with the new
 * options, the other venues untouched), the FeedManager handing `config.venues[id] ?? {}` to discover(),
 * and the config form showing the fields.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('../../shared/venues.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../shared/venues.js')>();
  const { default: T } = await import('typebox');
  const [first, ...rest] = real.VENUE_FACTS;
  const options = {
    schema: T.Object({
      dexes: T.Array(T.String({ pattern: '^[a-z0-9]+$' }), { uniqueItems: true, maxItems: 8, description: 'Extra listings to scan' }),
      depth: T.Integer({ minimum: 1, maximum: 10 }),
    }),
    defaults: { dexes: [], depth: 3 },
  };
  const withoutOptions = rest.map((f: import('../../shared/venue-facts.js').VenueFacts) => ({ ...f, options: undefined }));
  return { VENUE_FACTS: [{ ...first, options }, ...withoutOptions] };
});

const { applyConfigPatch, ConfigSchema, DEFAULT_CONFIG, venueOptionsDefaults, venueOptionsSchema } = await import('../../shared/config.js');
const { EXCHANGES } = await import('../../shared/exchanges.js');
const VENUE_FACTS: readonly import('../../shared/venue-facts.js').VenueFacts[] = (await import('../../shared/venues.js')).VENUE_FACTS;
const { FeedManager } = await import('../../server/feeds/manager.js');
const { Engine } = await import('../../server/engine/engine.js');
const { ADAPTERS } = await import('../../server/feeds/endpoints.js');
const { buildPatch, configSections, draftFromConfig } = await import('../../web/src/lib/config-form.js');
const { trackApps } = await import('./harness.js');
type VenueAdapter = import('../../server/feeds/adapter.js').VenueAdapter;
type VenueOptions = import('../../server/feeds/adapter.js').VenueOptions;
type Exchange = import('../../shared/exchanges.js').Exchange;

const [OPT, OTHER] = EXCHANGES as readonly Exchange[];
const closed = Object.fromEntries(EXCHANGES.map((ex, i) => [ex, { ws: `ws://127.0.0.1:${9 + i}`, rest: `http://127.0.0.1:${9 + i}` }])) as Record<Exchange, { ws: string; rest: string }>;

/** The venue's real adapter, but its discovery lists nothing and records the options it was given. */
function recording(ex: Exchange, seen: VenueOptions[]): VenueAdapter {
  return { ...ADAPTERS[ex], discover: async (_rest, _f, _now, options) => (seen.push(options ?? {}), { table: new Map(), skipped: {} }) };
}

const { make, closeAll } = trackApps();
afterEach(closeAll);

describe('config.venues composed from the facts', () => {
  it('only venues that declare options get a property, with their defaults; a bad value names the field', () => {
    expect(Object.keys(ConfigSchema.properties.venues.properties)).toEqual([OPT]);
    expect(DEFAULT_CONFIG.venues).toEqual({ [OPT]: { dexes: [], depth: 3 } });
    expect(venueOptionsDefaults(VENUE_FACTS)).toEqual(DEFAULT_CONFIG.venues);
    // A facts list without options composes an empty, closed object.
    const none = venueOptionsSchema(VENUE_FACTS.filter((f) => !f.options));
    expect(Object.keys(none.properties)).toEqual([]);

    const ok = applyConfigPatch(DEFAULT_CONFIG, { venues: { [OPT]: { dexes: ['abc'] } } });
    expect(ok.ok && ok.config.venues[OPT]).toEqual({ dexes: ['abc'], depth: 3 });
    for (const [patch, field] of [
      [{ venues: { [OPT]: { dexes: 'abc' } } }, `venues.${OPT}.dexes`],
      [{ venues: { [OPT]: { dexes: ['Not Ok'] } } }, `venues.${OPT}.dexes.0`],
      [{ venues: { [OPT]: { depth: 0 } } }, `venues.${OPT}.depth`],
      [{ venues: { [OPT]: { bogus: 1 } } }, `venues.${OPT}.bogus`],
      [{ venues: { [OTHER]: {} } }, `venues.${OTHER}`],
    ] as const) {
      const r = applyConfigPatch(DEFAULT_CONFIG, patch);
      expect(r.ok, JSON.stringify(patch)).toBe(false);
      if (!r.ok) expect(r.errors[0].field).toBe(field);
    }
    // A persisted config from before venues existed still loads (merged onto the defaults).
    const { venues: _drop, ...old } = DEFAULT_CONFIG;
    const restored = applyConfigPatch(DEFAULT_CONFIG, old);
    expect(restored.ok).toBe(true);
  });

  it('the config form shows the options (lists as comma-separated text, case kept), named after the venue', () => {
    const sections = configSections();
    const venues = sections.find((s) => s.key === 'venues')!;
    expect(venues.fields.map((f) => [f.path, f.kind])).toEqual([
      [`venues.${OPT}.dexes`, 'list'],
      [`venues.${OPT}.depth`, 'integer'],
    ]);
    expect(venues.fields[0].label).toContain(VENUE_FACTS[0].displayName);
    const draft = draftFromConfig(DEFAULT_CONFIG, sections);
    draft[`venues.${OPT}.dexes`] = 'abc, xyz1';
    expect(buildPatch(DEFAULT_CONFIG, draft, sections)).toEqual({ venues: { [OPT]: { dexes: ['abc', 'xyz1'] } } });
  });
});

/** Discovery runs on its own async path: a few seconds, not vi.waitFor's default 1 s, for a loaded machine. */
const WAIT = { timeout: 5_000 };

describe('venue options reach the discovery', () => {
  it('PUT /api/config: a bad value is a 400 naming the field and changes nothing; a good one re-runs that venue’s discovery with it, not the others’', async () => {
    const seen: VenueOptions[] = [];
    const other: VenueOptions[] = [];
    const a = await make({ feeds: { endpoints: closed }, adapters: { [OPT]: recording(OPT, seen), [OTHER]: recording(OTHER, other) }, start: true });
    await vi.waitFor(() => expect(seen).toEqual([{ dexes: [], depth: 3 }]), WAIT);
    await vi.waitFor(() => expect(other).toEqual([{}]), WAIT);

    const bad = await a.app.inject({ method: 'PUT', url: '/api/config', payload: { venues: { [OPT]: { depth: 99 } } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe(`venues.${OPT}.depth`);
    const unknown = await a.app.inject({ method: 'PUT', url: '/api/config', payload: { venues: { [OTHER]: { depth: 2 } } } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().field).toMatch(new RegExp(`^(body\\.)?venues\\.${OTHER}`));
    expect(a.config.version).toBe(1);
    expect(a.config.config.venues).toEqual({ [OPT]: { dexes: [], depth: 3 } });

    const good = await a.app.inject({ method: 'PUT', url: '/api/config', payload: { venues: { [OPT]: { dexes: ['abc'] } } } });
    expect(good.statusCode).toBe(200);
    expect(good.json().config.venues).toEqual({ [OPT]: { dexes: ['abc'], depth: 3 } });
    await vi.waitFor(() => expect(seen).toEqual([{ dexes: [], depth: 3 }, { dexes: ['abc'], depth: 3 }]), WAIT);
    // An unrelated change does not re-discover.
    await a.app.inject({ method: 'PUT', url: '/api/config', payload: { thresholds: { minSpreadBps: 6 } } });
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toHaveLength(2);
    expect(other).toEqual([{}]);
  });

  it('FeedManager: `venues[id] ?? {}` to discover(); a discovery in flight when the options change is followed by one with the new options', async () => {
    const seen: VenueOptions[] = [];
    let release: () => void = () => {};
    let hold = false;
    const adapter: VenueAdapter = {
      ...ADAPTERS[OPT],
      discover: async (_r, _f, _n, options) => {
        seen.push(options ?? {});
        if (hold) await new Promise<void>((r) => (release = r));
        return { table: new Map(), skipped: {} };
      },
    };
    const fm = new FeedManager({ engine: new Engine({ config: DEFAULT_CONFIG }), exchanges: [OPT], instruments: 'all', endpoints: closed, adapters: { [OPT]: adapter }, venues: { [OPT]: { depth: 5 } } });
    await fm.start();
    expect(seen).toEqual([{ depth: 5 }]);
    await fm.setVenueOptions({ [OPT]: { depth: 5 } }); // unchanged: nothing
    expect(seen).toHaveLength(1);
    hold = true;
    const refresh = fm.refreshDiscovery();
    await vi.waitFor(() => expect(seen).toHaveLength(2), WAIT);
    await fm.setVenueOptions({ [OPT]: { depth: 6 } }); // arrives while the refresh (old options) is in flight
    hold = false;
    release();
    await refresh;
    await vi.waitFor(() => expect(seen).toEqual([{ depth: 5 }, { depth: 5 }, { depth: 6 }]), WAIT);
    await fm.setVenueOptions({});
    await vi.waitFor(() => expect(seen.at(-1)).toEqual({}), WAIT);
    await fm.stop();
  });
});
