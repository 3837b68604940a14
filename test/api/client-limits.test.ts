/** The small limiters behind /ws and failed authentications, on a controlled clock. */
import { describe, expect, it } from 'vitest';
import { AuthFailureLimiter } from '../../server/api/auth-failures.js';
import { LatestWinsThrottle, TokenBucket } from '../../server/api/stream/client-limits.js';

describe('TokenBucket', () => {
  it('allows the burst, then the rate', () => {
    let t = 0;
    const bucket = new TokenBucket(10, 20, () => t);
    const burst = Array.from({ length: 25 }, () => bucket.take());
    expect(burst.filter(Boolean)).toHaveLength(20);
    t = 500; // half a second refills 5
    expect(Array.from({ length: 10 }, () => bucket.take()).filter(Boolean)).toHaveLength(5);
    t = 100_000; // never more than the burst saved up
    expect(Array.from({ length: 30 }, () => bucket.take()).filter(Boolean)).toHaveLength(20);
  });
});

describe('LatestWinsThrottle', () => {
  it('applies the first request at once and merges the rest into one, latest value', async () => {
    const applied: number[] = [];
    // The clock stands still: 101 below comes within the interval of 100 however late this process runs
    // (on the real clock a stalled test could pass the interval and see 101 applied at once, correctly).
    const throttle = new LatestWinsThrottle<number>(50, (v) => applied.push(v), () => 0);
    for (let i = 1; i <= 100; i++) throttle.request(i);
    expect(applied).toEqual([1]);
    await new Promise((r) => setTimeout(r, 80));
    expect(applied).toEqual([1, 100]);
    throttle.request(101);
    throttle.cancel(); // a closed client: nothing more is applied
    await new Promise((r) => setTimeout(r, 80));
    expect(applied).toEqual([1, 100]);
  });
});

describe('AuthFailureLimiter', () => {
  it('keeps at most maxAddresses entries however many addresses fail (e.g. an IPv6 range)', () => {
    let t = 0;
    const limiter = new AuthFailureLimiter({ max: 3, windowMs: 60_000 }, () => t, 1000);
    for (let i = 0; i < 20_000; i++) {
      t = i;
      limiter.recordFailure(`2001:db8::${i.toString(16)}`);
    }
    expect(limiter.trackedAddresses).toBeLessThanOrEqual(1000);
    for (let i = 0; i < 3; i++) limiter.recordFailure('203.0.113.1');
    expect(limiter.blockedForMs('203.0.113.1')).toBeGreaterThan(0);
    t += 60_000;
    expect(limiter.blockedForMs('203.0.113.1')).toBe(0);
  });
});
