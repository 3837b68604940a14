/**
 * L2Book's top-N view: folded copies that never change after hand-over, and the same copy handed over
 * again while a side's top N is untouched (deltas on deeper levels, a size re-sent unchanged).
 */
import { describe, expect, it } from 'vitest';
import { L2Book } from '../../server/depth/l2-book.js';

function seeded(): L2Book {
  const book = new L2Book();
  for (const [p, s] of [[100, 1], [99, 2], [98, 3], [97, 4]]) book.apply('bid', p, s);
  for (const [p, s] of [[101, 1], [102, 2], [103, 3], [104, 4]]) book.apply('ask', p, s);
  return book;
}

const levels = (side: { prices: readonly number[]; sizes: readonly number[]; length: number }) => Array.from({ length: side.length }, (_, i) => [side.prices[i], side.sizes[i]]);

describe('L2Book.view', () => {
  it('folds the top n: price ÷ priceDiv, size × sizeMul', () => {
    const v = seeded().view(2, 10, 0.5, 7);
    expect(levels(v.bids)).toEqual([[10, 0.5], [9.9, 1]]);
    expect(levels(v.asks)).toEqual([[10.1, 0.5], [10.2, 1]]);
    expect(v.receivedMs).toBe(7);
  });

  it('hands the same side copy over while only levels beyond the top n change', () => {
    const book = seeded();
    const v1 = book.view(2, 1, 1, 1);
    book.apply('bid', 97, 9); // size of level 4
    book.apply('bid', 96.5, 1); // insert at level 5
    book.apply('ask', 104, 0); // remove level 4
    book.apply('bid', 99, 2); // level 2 re-sent with the same size
    const v2 = book.view(2, 1, 1, 2);
    expect(v2.bids).toBe(v1.bids);
    expect(v2.asks).toBe(v1.asks);
    expect(v2.receivedMs).toBe(2);
  });

  it('copies a side again when its top n changed, leaving the copy handed over before as it was', () => {
    const book = seeded();
    const v1 = book.view(2, 1, 1, 1);
    book.apply('bid', 99, 5); // size at level 2
    book.apply('ask', 100.5, 1); // new best ask
    const v2 = book.view(2, 1, 1, 2);
    expect(v2.bids).not.toBe(v1.bids);
    expect(levels(v2.bids)).toEqual([[100, 1], [99, 5]]);
    expect(levels(v2.asks)).toEqual([[100.5, 1], [101, 1]]);
    expect(levels(v1.bids)).toEqual([[100, 1], [99, 2]]);
    expect(levels(v1.asks)).toEqual([[101, 1], [102, 2]]);
  });

  it('copies again after a removal inside the top n, a clear, a truncate into it, or another fold', () => {
    const book = seeded();
    const v1 = book.view(3, 1, 1, 1);
    book.apply('bid', 98, 0);
    expect(levels(book.view(3, 1, 1, 2).bids)).toEqual([[100, 1], [99, 2], [97, 4]]);
    book.bids.truncate(2);
    expect(levels(book.view(3, 1, 1, 3).bids)).toEqual([[100, 1], [99, 2]]);
    expect(book.view(3, 2, 1, 4).asks).not.toBe(v1.asks);
    expect(levels(book.view(2, 2, 1, 5).asks)).toEqual([[50.5, 1], [51, 2]]);
    book.clear();
    expect(book.view(3, 2, 1, 6).bids.length).toBe(0);
    book.apply('bid', 90, 1);
    expect(levels(book.view(3, 2, 1, 7).bids)).toEqual([[45, 1]]);
  });
});

describe('L2Book side replace (snapshots)', () => {
  /** What replace must equal: the side cleared, then every level set in frame order. */
  function viaSet(descending: boolean, flat: number[]): number[][] {
    const book = new L2Book();
    const side = descending ? 'bid' : 'ask';
    for (let i = 0; i < flat.length; i += 2) book.apply(side, flat[i]!, flat[i + 1]!);
    return levels(book.view(100, 1, 1, 0)[descending ? 'bids' : 'asks']);
  }

  it('gives what clear + set gives: ordered frames, zero sizes, duplicates, out-of-order levels', () => {
    const frames: number[][] = [
      [100, 1, 99, 2, 98, 3],
      [100, 1, 99, 0, 98, 3],
      [100, 1, 99, 2, 100, 0], // removes a level it added
      [100, 0, 100, 5],
      [98, 1, 100, 2, 99, 3], // not best-first
      [100, 1, 100, 2],
      [],
    ];
    for (const flat of frames) {
      for (const descending of [true, false]) {
        const asc = descending ? flat : flat.map((x, i) => (i % 2 === 0 ? 200 - x : x));
        const book = seeded();
        (descending ? book.bids : book.asks).replace(asc);
        expect(levels(book.view(100, 1, 1, 0)[descending ? 'bids' : 'asks'])).toEqual(viaSet(descending, asc));
      }
    }
  });

  it('keeps the copy handed over while the top n is re-sent unchanged, copies again when it differs', () => {
    const book = seeded();
    const v1 = book.view(2, 1, 1, 1);
    book.bids.replace([100, 1, 99, 2, 98, 7]);
    const v2 = book.view(2, 1, 1, 2);
    expect(v2.bids).toBe(v1.bids);
    expect(levels(book.view(4, 1, 1, 3).bids)).toEqual([[100, 1], [99, 2], [98, 7]]);
    book.bids.replace([100, 1, 99, 3]);
    const v3 = book.view(2, 1, 1, 4);
    expect(v3.bids).not.toBe(v1.bids);
    expect(levels(v3.bids)).toEqual([[100, 1], [99, 3]]);
    expect(levels(v1.bids)).toEqual([[100, 1], [99, 2]]);
  });
});
