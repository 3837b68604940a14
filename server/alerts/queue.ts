/**
 * Delivery: one bounded queue per sink, drained by one sender per sink, so a slow, hanging or rate-limited
 * sink holds up only its own alerts. `enqueue` is synchronous and O(1): the caller (the bus subscriber)
 * never waits on the network. A full queue drops the new alert and counts it.
 *
 * A delivery is tried up to `maxAttempts` times: a 429 waits what the sink asked for (Retry-After header,
 * or the body's retry_after), capped at `maxRetryAfterMs`; a 5xx, 408, timeout or network error waits an
 * exponential backoff (`backoffBaseMs` · 2^(attempt-1), capped at `backoffMaxMs`, +0–20 % jitter). Any
 * other answer fails at once (a wrong token does not heal by retrying).
 */
import type { Logger } from 'pino';
import type { AlertSink, AlertSinkStatus, AlertTestResult } from '../../shared/alerts.js';
import { type AlertMessage, interpretResponse, redact, type SinkOutcome, sinkRequest } from './sinks.js';
import { withDeadline } from '../deadline.js';

export interface DeliveryOptions {
  /** Alerts waiting per sink (the one in flight included); beyond it new ones are dropped. Default 100. */
  capacity: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  maxRetryAfterMs: number;
  /** One request's deadline (headers and body). */
  timeoutMs: number;
}

export const DEFAULT_DELIVERY: DeliveryOptions = {
  capacity: 100,
  maxAttempts: 5,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  maxRetryAfterMs: 300_000,
  timeoutMs: 10_000,
};

export type FetchFn = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}>;

interface Counters {
  sent: number;
  failed: number;
  dropped: number;
  retries: number;
  lastError: string | null;
  lastSentMs: number | null;
}

class SinkQueue {
  readonly items: AlertMessage[] = [];
  busy = false;
  readonly counters: Counters = { sent: 0, failed: 0, dropped: 0, retries: 0, lastError: null, lastSentMs: null };
  constructor(public sink: AlertSink) {}
}

export class AlertDispatcher {
  private readonly queues = new Map<string, SinkQueue>();
  private readonly opts: DeliveryOptions;
  private readonly fetchFn: FetchFn;
  private readonly abort = new AbortController();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    opts: Partial<DeliveryOptions> = {},
    private readonly log: Pick<Logger, 'warn' | 'info' | 'debug'> | null = null,
    fetchFn?: FetchFn,
    private readonly now: () => number = Date.now,
  ) {
    this.opts = { ...DEFAULT_DELIVERY, ...opts };
    this.fetchFn = fetchFn ?? ((url, init) => fetch(url, init));
  }

  /** Follows the configured sinks: new ones get a queue, removed ones lose theirs (and what waited in it). */
  setSinks(sinks: readonly AlertSink[]): void {
    const ids = new Set(sinks.map((s) => s.id));
    for (const [id, q] of this.queues) if (!ids.has(id)) (this.queues.delete(id), (q.items.length = 0));
    for (const s of sinks) {
      const q = this.queues.get(s.id);
      if (!q || q.sink.kind !== s.kind) this.queues.set(s.id, new SinkQueue(s));
      else q.sink = s;
    }
  }

  /** Queues one alert for a sink; false (and counted) when its queue is full. Never waits. */
  enqueue(sinkId: string, message: AlertMessage): boolean {
    const q = this.queues.get(sinkId);
    if (!q || this.closed) return false;
    if (q.items.length >= this.opts.capacity) {
      q.counters.dropped++;
      return false;
    }
    q.items.push(message);
    if (!q.busy) void this.pump(q);
    return true;
  }

  private async pump(q: SinkQueue): Promise<void> {
    q.busy = true;
    try {
      while (q.items.length > 0 && !this.closed && this.queues.get(q.sink.id) === q) {
        const m = q.items[0];
        const result = await this.deliver(q.sink, m, this.opts.maxAttempts, q.counters);
        q.items.shift();
        if (result.ok) {
          q.counters.sent++;
          q.counters.lastSentMs = this.now();
        } else {
          q.counters.failed++;
          q.counters.lastError = result.error;
          // Never the URL or token: the sink id, its kind and the redacted reason.
          this.log?.warn({ sink: q.sink.id, kind: q.sink.kind, status: result.status, error: result.error, alert: m.event.kind }, `alert to sink ${q.sink.id} failed: ${result.error}`);
        }
      }
    } finally {
      q.busy = false;
    }
  }

  /** Sends one message now (outside the queues) with at most `attempts` tries: POST /api/alerts/test. */
  async sendNow(sink: AlertSink, message: AlertMessage, attempts = 1): Promise<AlertTestResult> {
    const t0 = performance.now();
    const r = await this.deliver(sink, message, attempts, null);
    return { id: sink.id, kind: sink.kind, ok: r.ok, status: r.status, error: r.ok ? null : r.error, ms: Math.round((performance.now() - t0) * 10) / 10 };
  }

  private async deliver(sink: AlertSink, m: AlertMessage, attempts: number, counters: Counters | null): Promise<{ ok: boolean; status: number | null; error: string }> {
    let last: { ok: boolean; status: number | null; error: string } = { ok: false, status: null, error: 'not sent' };
    for (let attempt = 1; attempt <= attempts && !this.closed; attempt++) {
      const outcome = await this.attempt(sink, m);
      if (outcome.kind === 'ok') return { ok: true, status: outcome.status, error: '' };
      last = { ok: false, status: outcome.status || null, error: outcome.error };
      if (outcome.kind === 'fail' || attempt === attempts) break;
      if (counters) counters.retries++;
      const backoff = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** (attempt - 1)) * (1 + Math.random() * 0.2);
      const wait = outcome.retryAfterMs !== null ? Math.min(this.opts.maxRetryAfterMs, outcome.retryAfterMs) : backoff;
      this.log?.debug({ sink: sink.id, kind: sink.kind, attempt, waitMs: Math.round(wait), error: outcome.error }, 'alert delivery: retrying');
      await this.sleep(wait);
    }
    return last;
  }

  private async attempt(sink: AlertSink, m: AlertMessage): Promise<SinkOutcome> {
    let req: ReturnType<typeof sinkRequest>;
    try {
      req = sinkRequest(sink, m);
    } catch (err) {
      return { kind: 'fail', status: 0, error: redact(sink, err instanceof Error ? err.message : String(err)) };
    }
    try {
      const { status, retryAfter, text } = await withDeadline(
        this.opts.timeoutMs,
        async (signal) => {
          const res = await this.fetchFn(req.url, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'perpscan-alerts' }, body: req.body, signal });
          return { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() };
        },
        this.abort.signal,
      );
      return interpretResponse(sink, status, retryAfter, text, this.now());
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${this.opts.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      return { kind: 'retry', status: 0, retryAfterMs: null, error: redact(sink, String(why)) };
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      const onAbort = (): void => {
        clearTimeout(t);
        this.timers.delete(t);
        resolve();
      };
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.abort.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      t.unref();
      this.timers.add(t);
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  status(): AlertSinkStatus[] {
    return [...this.queues.values()].map((q) => ({ id: q.sink.id, kind: q.sink.kind, queued: q.items.length, ...q.counters }));
  }

  /** Stops every sender (requests in flight are aborted; what waits is dropped with the process). */
  close(): void {
    this.closed = true;
    this.abort.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
