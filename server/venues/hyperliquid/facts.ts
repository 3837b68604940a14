/**
 * Hyperliquid facts that both the server and the dashboard need (pure data: no imports with side effects).
 *
 * Fee: base tier (tier 0, 14-day weighted volume ≤ $5 M) perpetual taker 0.045 % = 4.5 bps (maker 0.015 %).
 * Source: the official fee page https://hyperliquid.gitbook.io/hyperliquid-docs/trading/fees ("Perps fee
 * tiers"), checked 2026-12-01: the stored copy we could read shows the page's tier rules but not the table
 * itself, so the figure was taken from two copies of that table (docs.hyperodd.com/trading/fees and
 * hypernode-docs.polynode.dev/research/fees, both 0.045 % / 0.015 %), as in shared/venues-2026.md §1.4.
 * Re-checked 2026-12-02: a third copy (sltp.gitbook.io perpetual-fee page, "complied with Hyperliquid's") gives
 * the same tier 0 figures; HIP-3 deployers' pages give 0.090 % / 0.030 % for their perps (2×).
 * Builder-deployed (HIP-3) perps charge 2× by default; the default here is the main dex's.
 */
import Type from 'typebox';
import type { VenueFacts } from '../../../shared/venue-facts.js';

export const facts = {
  id: 'hyperliquid',
  displayName: 'Hyperliquid',
  takerFeeBps: 4.5,
  /**
   * Perps fee tiers by 14-day weighted volume (hyperliquid.gitbook.io/hyperliquid-docs/trading/fees, "Perps
   * fee tiers"; the table read 2026-12-01 from copies of it, docs.hyperodd.com/trading/fees and
   * hypernode-docs.polynode.dev/research/fees, which agree): tier 0 taker 0.045 % / maker 0.015 %, tier 1
   * (> $5 M) 0.040 % / 0.012 %, tier 2 (> $25 M) 0.035 % / 0.008 %. Before staking and referral discounts;
   * main-dex perps (HIP-3 perps charge 2×). Higher tiers not listed here.
   */
  feeTiers: [
    { id: 'regular', name: 'Tier 0 (≤ $5M 14d)', takerBps: 4.5, makerBps: 1.5 },
    { id: 'tier1', name: 'Tier 1 (> $5M 14d)', takerBps: 4, makerBps: 1.2 },
    { id: 'tier2', name: 'Tier 2 (> $25M 14d)', takerBps: 3.5, makerBps: 0.8 },
  ],
  // Origins only: the adapter appends `/ws` and `/info` (as the other venues append their paths).
  liveEndpoints: { ws: 'wss://api.hyperliquid.xyz', rest: 'https://api.hyperliquid.xyz' },
  /**
   * Official "Rate limits and user limits" page (hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/rate-limits,
   * read 2026-12-01; shared/venues-2026.md §1.4), all PER IP: at most 100 WebSocket connections, 1,000
   * WebSocket subscriptions and 2,000 messages sent to Hyperliquid per minute across all connections.
   * A newer SDK README gives 10 simultaneous connections and 30 new connections per minute: we design for
   * those stricter values. One subscription per message (no batching).
   * `topicsPerConnection` holds the per-IP subscription total: we plan one socket for everything, so a
   * socket never carries more than the whole IP may.
   */
  limits: {
    topicsPerConnection: 1000,
    topicsPerMessage: 1,
    bytesPerMessage: Infinity,
    argsCharsPerConnection: Infinity,
    messageRate: { count: 2000, windowMs: 60_000 },
    subscribeRate: null,
    connectRate: { count: 30, windowMs: 60_000 },
    maxConnections: 10,
  },
  /**
   * Simulated listings: Hyperliquid lists USDC-margined perps only (~230 on the main dex in 2026, most of
   * the big and middle coins, a long tail of its own); low-priced coins are ×1000 with a `k` prefix
   * (`kPEPE`, `kBONK`), never ×10,000 or ×1,000,000.
   */
  listing: { tailWeight: 0.22, midChance: 0.7, usdcChance: 0, multipliedPrefix: { 1000: 'k' }, onlySettle: 'USDC' },
  /**
   * `venues.hyperliquid.dexes`: builder-deployed (HIP-3) perp dexes to scan besides the main dex, by name
   * (`xyz`, `flx`); their coins are spelled `dex:COIN`. Default none (main dex only).
   */
  options: {
    schema: Type.Object({ dexes: Type.Array(Type.String({ pattern: '^[a-z][a-z0-9]{0,15}$' }), { default: [] }) }),
    defaults: { dexes: [] },
  },
} as const satisfies VenueFacts;
