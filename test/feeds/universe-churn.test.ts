/**
 * The whole universe against the simulator's own listings and delistings (no steering): the simulator
 * lists and delists symbols during the run, the FeedManager's periodic discovery follows, and the engine
 * never keeps scanning a symbol its venue no longer lists.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../shared/config.js';
import { EXCHANGES } from '../../shared/exchanges.js';
import { Engine } from '../../server/engine/engine.js';
import { FeedManager } from '../../server/feeds/manager.js';
import { startSimulator } from '../../server/simulator/index.js';
import { waitFor } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('FeedManager follows the simulated universe’s listings and delistings', () => {
  it('a symbol the venue delists is unsubscribed and unusable; a new listing on two venues gets subscribed', { timeout: 60_000 }, async () => {
    const sim = await startSimulator({ seed: 5, messagesPerSec: 800, universe: 40, churn: { everySec: 0.4, noticeSec: 0.8 } });
    cleanups.push(() => sim.close());
    const engine = new Engine({ config: DEFAULT_CONFIG });
    const fm = new FeedManager({ engine, exchanges: [...EXCHANGES], instruments: 'all', endpoints: sim.endpoints, silenceMs: 5000, discoveryRefreshMs: 300, backoff: { initialMs: 50, maxMs: 400, factor: 2 } });
    cleanups.push(() => fm.stop());
    await fm.start();
    await waitFor('all venues live', () => fm.states().every((s) => s.status === 'live'), 20_000);
    const t0 = sim.model.lifecycleTotal;
    // Wait for a delisting of a symbol the engine had registered, and for a new listing of an instrument on 2+ venues.
    const registered = () => sim.model.lifecycle.filter((e) => e.kind === 'delisted' && engine.instruments.id(e.exchange, e.symbol) >= 0);
    await waitFor('a subscribed symbol delisted', () => sim.model.lifecycleTotal > t0 && registered().length > 0, 30_000);
    const gone = registered()[0];
    const id = engine.instruments.id(gone.exchange, gone.symbol);
    await waitFor(`${gone.exchange} ${gone.symbol} unlisted in the engine`, () => !engine.isInstrumentListed(id), 10_000);
    expect(engine.quote(gone.key, gone.exchange)?.usable ?? false).toBe(false);
    expect(engine.opportunities().some((o) => o.instrument === gone.key && (o.longExchange === gone.exchange || o.shortExchange === gone.exchange))).toBe(false);
    // After a refresh, what each venue subscribed is exactly what the simulator lists as live on it and on another venue.
    await fm.refreshDiscovery();
    for (const ex of EXCHANGES) {
      const s = fm.states().find((f) => f.exchange === ex)!;
      expect(s.discovery!.listed, ex).toBeGreaterThan(0);
      expect(s.discovery!.failures, ex).toBe(0);
    }
    // A listing after start, live on its venue and on at least one other: subscribed without a restart.
    const newListings = () =>
      sim.model.lifecycle.filter(
        (e) => e.kind === 'listed' && sim.model.live(e.exchange).some((p) => p.symbol === e.symbol) && EXCHANGES.filter((ex) => sim.model.live(ex).some((p) => p.spec.key === e.key)).length >= 2,
      );
    await waitFor('a new listing on two venues', () => newListings().length > 0, 30_000);
    const fresh = newListings()[0];
    await waitFor(`${fresh.exchange} ${fresh.symbol} subscribed after its listing`, () => {
      const nid = engine.instruments.id(fresh.exchange, fresh.symbol);
      return nid >= 0 && engine.isInstrumentListed(nid);
    }, 10_000);
  });
});
