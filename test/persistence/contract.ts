/**
 * The behaviour every Persistence implementation shares, run against memory and against the real Redis:
 * round trips, restore by a second instance on the same store, newest-first history, caps, idempotence
 * by id, market records merged back into receive order.
 */
import { expect, it } from 'vitest';
import { EXCHANGES } from '../../shared/exchanges.js';
import type { PersistenceCaps } from '../../server/persistence/caps.js';
import type { Persistence } from '../../server/persistence/persistence.js';
import { collect, fill, marketRecord, oppEvent, portfolioState, position, versionedConfig } from './helpers.js';

export const SMALL_CAPS: PersistenceCaps = {
  opportunityEvents: 50,
  closedOpportunities: 10,
  marketRecordsPerExchange: 40,
  closedPositions: 3,
  fills: 5,
};

export interface Store {
  persistence: Persistence;
  /** A second instance over the same data (Redis: a new client, same prefix; memory: the same object). */
  reopen(): Promise<Persistence>;
}

export function persistenceContract(make: (caps?: Partial<PersistenceCaps>) => Promise<Store>): void {
  it('round-trips config, portfolio state, positions and fills exactly, and a new instance restores them', async () => {
    const { persistence: p, reopen } = await make();
    expect(await p.loadConfig()).toBeNull();
    expect(await p.loadPortfolioState()).toBeNull();
    expect(await p.loadPositions()).toEqual([]);
    expect(await p.loadFills()).toEqual([]);

    p.saveConfig(versionedConfig(1));
    p.saveConfig(versionedConfig(2));
    const positions = [position('pos-b', 2000), position('pos-a', 1000), position('pos-c', 3000, 'closed', 5000)];
    for (const pos of positions) p.savePosition(pos);
    const fills = [fill('f2', 'pos-a', 1500), fill('f1', 'pos-a', 1001), fill('f3', 'pos-b', 2001)];
    for (const f of fills) p.saveFill(f);
    p.savePortfolioState(portfolioState(1));
    p.savePortfolioState(portfolioState(2));
    await p.flush();

    const check = async (q: Persistence) => {
      expect(await q.loadConfig()).toEqual(versionedConfig(2));
      expect(await q.loadPortfolioState()).toEqual(portfolioState(2));
      expect(await q.loadPositions()).toEqual([positions[1], positions[0], positions[2]]); // by openedMs
      expect(await q.loadFills()).toEqual([fills[1], fills[0], fills[2]]); // by fillMs
    };
    await check(p);
    const again = await reopen();
    await check(again);
  }, 30_000);

  it('saving the same position or fill twice keeps one (idempotent by id, latest wins)', async () => {
    const { persistence: p } = await make();
    const open = position('pos-1', 1000);
    p.savePosition(open);
    p.saveFill(fill('f-1', 'pos-1', 1001));
    await p.flush();
    const closed = position('pos-1', 1000, 'closed', 9000);
    p.savePosition(closed);
    p.savePosition(closed);
    p.saveFill(fill('f-1', 'pos-1', 1001));
    await p.flush();
    expect(await p.loadPositions()).toEqual([closed]);
    expect(await p.loadFills()).toEqual([fill('f-1', 'pos-1', 1001)]);
  }, 30_000);

  it('a saved object mutated afterwards is not changed in the store once flushed', async () => {
    const { persistence: p } = await make();
    const pos = position('pos-m', 1000);
    p.savePosition(pos);
    await p.flush();
    pos.realisedPnlUsd = 999;
    expect((await p.loadPositions())[0].realisedPnlUsd).toBe(0);
  }, 30_000);

  it('keeps opportunity events in order, closed ones newest first in history, within their caps', async () => {
    const { persistence: p, reopen } = await make(SMALL_CAPS);
    const events = Array.from({ length: 120 }, (_, i) => oppEvent(i + 1, 1_700_000_000_000 + i * 10, i % 4 === 3 ? 'closed' : 'updated'));
    for (let i = 0; i < events.length; i++) {
      p.appendOpportunityEvent(events[i]);
      if (i % 17 === 16) await p.flush(); // several batches
    }
    await p.flush();
    expect(await p.readOpportunityEvents()).toEqual(events.slice(-50));
    const closed = events.filter((e) => e.kind === 'closed');
    const history = await p.opportunityHistory(100);
    expect(history).toHaveLength(10);
    expect(history.map((h) => h.closedMs)).toEqual(closed.slice(-10).reverse().map((e) => e.tsMs));
    const newest = closed[closed.length - 1];
    expect(history[0]).toEqual(newest.kind === 'closed' ? { opportunity: newest.opportunity, reason: newest.reason, lifetimeMs: newest.lifetimeMs, closedMs: newest.tsMs } : null);
    expect(await p.opportunityHistory(3)).toEqual(history.slice(0, 3));
    // sinceMs filters by event time
    const since = events[100].tsMs;
    expect(await p.readOpportunityEvents(since)).toEqual(events.slice(100));
    const again = await reopen();
    expect(await again.readOpportunityEvents()).toEqual(events.slice(-50));
  }, 30_000);

  it('prunes closed positions and fills beyond their caps, oldest first, never open positions', async () => {
    const { persistence: p } = await make(SMALL_CAPS);
    const open = [position('open-1', 10), position('open-2', 20)];
    for (const pos of open) p.savePosition(pos);
    for (let i = 0; i < 6; i++) p.savePosition(position(`closed-${i}`, 100 + i, 'closed', 1000 + i));
    for (let i = 0; i < 8; i++) p.saveFill(fill(`fill-${i}`, 'open-1', 5000 + i));
    await p.flush();
    const ids = (await p.loadPositions()).map((x) => x.id);
    expect(ids).toEqual(['open-1', 'open-2', 'closed-3', 'closed-4', 'closed-5']);
    expect((await p.loadFills()).map((f) => f.id)).toEqual(['fill-3', 'fill-4', 'fill-5', 'fill-6', 'fill-7']);
  }, 30_000);

  it('a broken position (naked leg) is live: never pruned as closed, even with a closedMs set', async () => {
    const { persistence: p } = await make(SMALL_CAPS);
    p.savePosition(position('broken-1', 5, 'broken', 900)); // older than every closed one: pruned first if counted as closed
    for (let i = 0; i < 6; i++) p.savePosition(position(`closed-${i}`, 100 + i, 'closed', 1000 + i));
    await p.flush();
    expect((await p.loadPositions()).map((x) => [x.id, x.state])).toEqual([
      ['broken-1', 'broken'],
      ['closed-3', 'closed'],
      ['closed-4', 'closed'],
      ['closed-5', 'closed'],
    ]);
  }, 30_000);

  it('merges the per-exchange market records back into receive order, capped per exchange, since a time', async () => {
    const { persistence: p } = await make(SMALL_CAPS);
    const t0 = 1_700_000_000_000;
    const records = Array.from({ length: 200 }, (_, i) => marketRecord(i, EXCHANGES[(i * 7 + (i >> 3)) % 4], t0 + Math.floor(i / 3)));
    for (let i = 0; i < records.length; i++) {
      p.appendMarketRecord(records[i]);
      if (i % 45 === 44) await p.flush();
    }
    await p.flush();
    const got = await collect(p.readMarketRecords());
    // each exchange keeps its newest 40
    const expected = records.filter((r, i) => records.slice(i + 1).filter((s) => s.exchange === r.exchange).length < 40);
    expect(got).toEqual(expected);
    const since = t0 + 50;
    expect(await collect(p.readMarketRecords(since))).toEqual(expected.filter((r) => r.recvMs >= since));
  }, 30_000);
}
