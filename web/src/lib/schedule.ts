/**
 * Batches store notifications for the browser: at most one render per `minIntervalMs`, aligned to an
 * animation frame, so a burst of WebSocket frames costs one table render.
 *
 * Hidden tabs get no animation frames: there a timer delivers instead, and a frame asked for just before the
 * tab was hidden is backed by a timer too (`hiddenFallbackMs`), so the picture is current when the tab returns.
 */
export interface FrameSchedulerEnv {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Null when the environment has no animation frames. */
  requestAnimationFrame: ((fn: () => void) => unknown) | null;
  visible(): boolean;
}

const browserEnv = (): FrameSchedulerEnv => ({
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  requestAnimationFrame: typeof requestAnimationFrame === 'function' ? (fn) => requestAnimationFrame(fn) : null,
  visible: () => typeof document === 'undefined' || document.visibilityState === 'visible',
});

export function frameScheduler(minIntervalMs = 100, hiddenFallbackMs = 250, env: FrameSchedulerEnv = browserEnv()): (notify: () => void) => void {
  let last = Number.NEGATIVE_INFINITY;
  return (notify) => {
    const wait = Math.max(0, last + minIntervalMs - env.now());
    env.setTimeout(() => {
      let done = false;
      let fallback: unknown = null;
      const run = () => {
        if (done) return;
        done = true;
        if (fallback !== null) env.clearTimeout(fallback);
        last = env.now();
        notify();
      };
      const raf = env.requestAnimationFrame;
      if (raf === null || !env.visible()) {
        run();
        return;
      }
      raf(run);
      fallback = env.setTimeout(run, hiddenFallbackMs);
    }, wait);
  };
}
