/**
 * Batches store notifications for the browser: at most one render per `minIntervalMs`, aligned to an
 * animation frame, so a burst of WebSocket frames costs one table render.
 */
export function frameScheduler(minIntervalMs = 100): (notify: () => void) => void {
  let last = 0;
  return (notify) => {
    const wait = Math.max(0, last + minIntervalMs - performance.now());
    setTimeout(() => {
      const run = () => {
        last = performance.now();
        notify();
      };
      // Hidden tabs get no animation frames; a timer keeps the picture current for when the tab returns.
      if (typeof document !== 'undefined' && document.visibilityState === 'visible' && typeof requestAnimationFrame === 'function') requestAnimationFrame(run);
      else run();
    }, wait);
  };
}
