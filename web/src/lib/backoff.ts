/** Reconnect delays: exponential from `baseMs`, capped at `maxMs`, with "equal jitter" so many dashboards do not reconnect in lockstep. */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** 0..1 random source, injectable for tests. */
  random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 10_000 };

/** Delay before reconnect attempt number `attempt` (0 = first retry). Always within [ceiling/2, ceiling]. */
export function backoffDelayMs(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  const r = (opts.random ?? Math.random)();
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
}
