/**
 * Gate facts that both the server and the dashboard need (pure data: no imports with side effects).
 * The venue calls itself "Gate" since its 2025 rebrand from Gate.io (gate.com; its API docs title is
 * "Gate Futures WebSocket v4", read 2026-12-01).
 *
 * Fee: regular tier (VIP 0) perpetual taker 0.0500 %, unchanged by the fee adjustment of 2026-04-09
 * (Gate announcement 50390, published 2026-03-25, "VIP 0 … Current Taker Fee 0.0500 % → Adjusted 0.0500 %"
 * for every USDT-margined contract group; read 2026-12-01 and again 2026-12-02 on Gate's mirrors
 * web.gateorigin.net and openpunks.io /announcements/article/50390). The contracts endpoint's
 * per-contract `taker_fee_rate` ("0.00075" in its examples) differs from the VIP 0 tier and is not used.
 * The stored copy of gate.com/fee shows the spot table only; a 2025 Gate blog post quoting a 0.065 % standard taker predates
 * this announcement. The account's real rate comes from the private `/wallet/fee` endpoint.
 */
import type { VenueFacts } from '../../../shared/venue-facts.js';

export const facts = {
  id: 'gate',
  displayName: 'Gate',
  takerFeeBps: 5,
  /**
   * Published fee tiers (regular only here: VIP levels not verified yet). VIP 0 perpetual taker 0.0500 %
   * (Gate announcement 50390, above). The maker figure 0.0200 % is Gate's usual VIP 0 futures maker rate but is
   * NOT confirmed by a page we could read (shared/exchanges.md §7 marks it ❓); choose `custom` if yours differs.
   */
  feeTiers: [{ id: 'regular', name: 'Regular (VIP 0)', takerBps: 5, makerBps: 2 }],
  liveEndpoints: { ws: 'wss://fx-ws.gateio.ws', rest: 'https://api.gateio.ws' },
  /**
   * Gate documents no subscription, topic or message limit for its futures WebSocket
   * (gate.com/docs/developers/futures/ws/en, read 2026-12-01: nothing under "API Overview"). A Gate
   * maintainer stated for WS v4: no limit on subscriptions or messages, "100 connections at most from one
   * host are recommended", and that the server closes a connection whose client cannot consume its
   * updates in time (github.com/gateio/gatews/issues/25, 2022-02-22). We keep to the 100 connections and
   * batch 50 contracts per subscribe request (`batchTopics`, our choice, not a venue limit). REST public
   * endpoints: 200 requests per 10 s per endpoint per IP (Gate announcement 33995, 2024-01-14).
   */
  limits: {
    topicsPerConnection: Infinity,
    topicsPerMessage: Infinity,
    bytesPerMessage: Infinity,
    argsCharsPerConnection: Infinity,
    messageRate: null,
    subscribeRate: null,
    connectRate: null,
    maxConnections: 100,
    batchTopics: 50,
  },
  /** Simulated listings: rough proportions of the real venue's perpetual list (2025–26): a long tail, USDT only, low-priced coins bare with a contract value. */
  listing: { tailWeight: 0.3, midChance: 0.8, usdcChance: 0, multipliedPrefix: null },
} as const satisfies VenueFacts;
