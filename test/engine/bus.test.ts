import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { BroadcastRing } from '../../server/engine/bus.js';

describe('BroadcastRing', () => {
  it('gives every subscriber every item in order', () => {
    const ring = new BroadcastRing<number>(16);
    const a = ring.subscribe('strategy');
    const b = ring.subscribe('dashboard');
    for (let i = 1; i <= 10; i++) ring.publish(i);
    expect(a.popBatch(4)).toEqual([1, 2, 3, 4]);
    expect(a.popBatch(100)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(b.popBatch(100)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(a.popped).toBe(10);
    expect(b.popped).toBe(10);
    expect(ring.published).toBe(10);
    expect(a.popBatch(5)).toEqual([]);
    ring.publish(11);
    expect(b.popBatch(0)).toEqual([]);
    expect(b.popBatch(Number.NaN)).toEqual([]);
    expect(b.popBatch(-3)).toEqual([]);
    expect(b.popBatch(Number.POSITIVE_INFINITY)).toEqual([11]);
  });

  it('a subscriber sees only items published after it subscribed', () => {
    const ring = new BroadcastRing<string>(4);
    ring.publish('old');
    const s = ring.subscribe('late');
    ring.publish('new');
    expect(s.popBatch(10)).toEqual(['new']);
  });

  it('a slow subscriber loses the oldest items and gets an exact missed count; a fast one loses nothing', () => {
    const ring = new BroadcastRing<number>(8);
    const fast = ring.subscribe('fast');
    const slow = ring.subscribe('slow');
    const fastGot: number[] = [];
    for (let i = 0; i < 30; i++) {
      ring.publish(i);
      fastGot.push(...fast.popBatch(8));
    }
    expect(fastGot).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(fast.missed).toBe(0);
    // 30 published, capacity 8: the slow one can still read 22..29 and missed 0..21 = 22 items.
    expect(slow.pending).toBe(8);
    expect(slow.missed).toBe(22);
    expect(slow.popBatch(3)).toEqual([22, 23, 24]);
    expect(slow.takeMissed()).toBe(22);
    expect(slow.takeMissed()).toBe(0); // reset since last call
    expect(slow.missed).toBe(22); // cumulative stays
    for (let i = 30; i < 40; i++) ring.publish(i);
    // cursor at 25; 40 published; oldest retained 32 → 7 more missed (25..31)
    expect(slow.popBatch(100)).toEqual([32, 33, 34, 35, 36, 37, 38, 39]);
    expect(slow.takeMissed()).toBe(7);
    expect(slow.missed).toBe(29);
    expect(ring.subscribers().find((s) => s.name === 'slow')).toEqual({ name: 'slow', pending: 0, missed: 29, popped: 11 });
  });

  it('memory stays bounded whatever a subscriber does (nobody reading)', () => {
    const ring = new BroadcastRing<{ n: number }>(32);
    const idle = ring.subscribe('idle');
    for (let i = 0; i < 100_000; i++) ring.publish({ n: i });
    expect(idle.pending).toBe(32);
    expect(idle.missed).toBe(100_000 - 32);
    const got = idle.popBatch(1000);
    expect(got.length).toBe(32);
    expect(got[0].n).toBe(100_000 - 32);
  });

  it('drops its reference to an item once every subscriber has read it (items die young)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const ring = new BroadcastRing<{ payload: number[] }>(64);
    const a = ring.subscribe('a');
    const b = ring.subscribe('b');
    const refs: Array<WeakRef<object>> = [];
    // Made in a helper so this async frame holds no reference of its own.
    const publish = (i: number) => {
      const item = { payload: new Array(1000).fill(i) };
      refs.push(new WeakRef(item));
      ring.publish(item);
    };
    for (let i = 0; i < 4; i++) publish(i);
    a.popBatch(4);
    b.popBatch(2); // b has not read items 2 and 3 yet
    await new Promise((r) => setImmediate(r)); // WeakRef targets are kept until the current job ends
    gc();
    expect(refs.map((r) => r.deref() !== undefined)).toEqual([false, false, true, true]);
    expect(b.popBatch(10).map((x) => x.payload[0])).toEqual([2, 3]);
    await new Promise((r) => setImmediate(r));
    gc();
    expect(refs.map((r) => r.deref() !== undefined)).toEqual([false, false, false, false]);
  });

  it('wakes each subscriber once per microtask after publishes (coalesced)', async () => {
    const ring = new BroadcastRing<number>(8);
    let wakes = 0;
    const s = ring.subscribe('w', () => {
      wakes++;
      s.popBatch(100);
    });
    ring.publish(1);
    ring.publish(2);
    ring.publish(3);
    expect(wakes).toBe(0); // not synchronous
    await Promise.resolve();
    expect(wakes).toBe(1);
    ring.publish(4);
    await Promise.resolve();
    expect(wakes).toBe(2);
    expect(s.popped).toBe(4);
  });

  it('close() stops delivery and removes the subscriber', async () => {
    const ring = new BroadcastRing<number>(8);
    let wakes = 0;
    const s = ring.subscribe('gone', () => wakes++);
    const keep = ring.subscribe('keep');
    s.close();
    ring.publish(1);
    await Promise.resolve();
    expect(wakes).toBe(0);
    expect(s.popBatch(10)).toEqual([]);
    expect(s.closed).toBe(true);
    expect(ring.subscribers().map((x) => x.name)).toEqual(['keep']);
    expect(keep.popBatch(10)).toEqual([1]);
  });
});
