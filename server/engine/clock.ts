/**
 * Clocks. Business time is epoch milliseconds from an injectable `now: () => number` (so tests and
 * replays are deterministic); latency is epoch microseconds from the monotonic high-resolution timer.
 */

const ORIGIN_US = performance.timeOrigin * 1000;

/** Epoch microseconds (performance.timeOrigin + performance.now()), sub-µs fraction kept. */
export function nowUs(): number {
  return ORIGIN_US + performance.now() * 1000;
}

/** The default business clock: epoch ms. The engine only calls this when no clock was injected. */
export function systemNowMs(): number {
  return Date.now();
}
