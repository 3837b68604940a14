/** Audiences: clients with equal subscribe filters share one; what a joining client is shown. */
import { describe, expect, it } from 'vitest';
import type { Opportunity } from '../../shared/opportunity.js';
import { Audiences } from '../../server/api/stream/audience.js';

const opp = (id: string, projectedProfitBps: number): Opportunity => {
  const [instrument, longExchange, shortExchange] = id.split('|');
  return { id, instrument, longExchange, shortExchange, projectedProfitBps } as unknown as Opportunity;
};

describe('Audiences', () => {
  it('puts equal filters (in any order) in one audience, no filter or an empty one in the unfiltered one, and drops an audience with its last member', () => {
    const audiences = new Audiences();
    const a = audiences.join({ instruments: ['BTC-PERP', 'ETH-PERP'], exchanges: ['okx', 'bybit'] });
    const b = audiences.join({ exchanges: ['bybit', 'okx'], instruments: ['ETH-PERP', 'BTC-PERP'] });
    const c = audiences.join({ instruments: ['BTC-PERP'] });
    const plain = audiences.join(null);
    const empty = audiences.join({});
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(empty).toBe(plain);
    expect(plain.filter).toBeNull();
    expect(audiences.size).toBe(3);
    audiences.leave(c);
    expect(audiences.size).toBe(2);
    audiences.leave(a);
    expect(audiences.size).toBe(2); // b is still in it
    audiences.leave(b);
    expect([...audiences.values()]).toEqual([plain]);
  });

  it('shows a joining client what passes now plus what its audience was already shown', () => {
    const audiences = new Audiences();
    const first = audiences.join({ minProfitBps: 50 });
    const filter = first.filter!;
    expect(filter.snapshotFor([opp('BTC-PERP|bybit|okx', 60), opp('ETH-PERP|bybit|okx', 10)]).map((o) => o.id)).toEqual(['BTC-PERP|bybit|okx']);
    // BTC fell under the threshold but the audience was shown it: a second member sees it too, and both get its close.
    const second = audiences.join({ minProfitBps: 50 });
    expect(second).toBe(first);
    expect(filter.snapshotFor([opp('BTC-PERP|bybit|okx', 20), opp('SOL-PERP|bybit|okx', 70)]).map((o) => o.id)).toEqual(['BTC-PERP|bybit|okx', 'SOL-PERP|bybit|okx']);
    expect(filter.pass(opp('BTC-PERP|bybit|okx', 20), 'closed')).toBe(true);
    expect(filter.pass(opp('ETH-PERP|bybit|okx', 10), 'closed')).toBe(false); // never shown
  });
});
