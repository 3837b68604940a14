/**
 * A deadline for an outgoing request that always fires.
 *
 * `AbortSignal.timeout()` handed to `fetch` is not enough on Node 20: the timeout's timer holds its signal
 * only weakly, and fetch follows the caller's signal through a weak link (nodejs/node#55428, undici#4984).
 * Under GC pressure the abort can be lost, and a request to a server that never answers then hangs until
 * undici's own 300 s limits: an alert sink's queue stalls, a venue's REST read blocks its refresh. Here a
 * plain timer, strongly held, both aborts the request and rejects the wait, and `run` (the request and the
 * reading of its body) is raced against it. An `outer` abort (shutdown) ends the wait the same way.
 */
export async function withDeadline<T>(timeoutMs: number, run: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal): Promise<T> {
  if (outer?.aborted) throw outer.reason;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onOuterAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    const stop = (reason: unknown): void => {
      controller.abort(reason);
      reject(reason);
    };
    timer = setTimeout(() => stop(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
    if (outer) outer.addEventListener('abort', (onOuterAbort = () => stop(outer.reason)), { once: true });
  });
  try {
    return await Promise.race([run(controller.signal), stopped]);
  } finally {
    clearTimeout(timer);
    if (onOuterAbort) outer?.removeEventListener('abort', onOuterAbort);
  }
}
