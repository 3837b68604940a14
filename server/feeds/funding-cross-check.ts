/**
 * Funding cross-check runner: every `intervalMs` (default 60 s; the first round `firstDelayMs` after start,
 * and again that soon while nothing could be compared yet because our own funding had not arrived), each
 * enabled venue whose adapter publishes other venues' funding (VenueAdapter.fundingReferences) is asked
 * once, and each figure is compared with OUR latest funding for the same (venue, instrument key, settle).
 *
 * Off the detection path: one REST call per source per round (the call is expensive on the venues that
 * offer it, so rounds never overlap per source), and plain reads of the engine's store through `lookup`.
 * A failed call is counted and logged, keeps the last good result, and is retried next round.
 * Venue-agnostic: the sources come from the feed manager (FeedManager.fundingSources).
 */
import type { Logger } from 'pino';
import type { FundingCrossCheck, FundingCrossCheckRow } from '../../shared/cross-check.js';
import { type Exchange, isExchange } from '../../shared/exchanges.js';
import type { FetchJson, FundingReference } from './adapter.js';

const HOUR_MS = 3_600_000;
const EIGHT_HOURS_MS = 8 * HOUR_MS;
export const DEFAULT_CROSS_CHECK_INTERVAL_MS = 60_000;
export const DEFAULT_CROSS_CHECK_FIRST_DELAY_MS = 15_000;
/** bps per 8 h: funding figures of two honest readers of the same venue agree far closer than this. */
export const DEFAULT_CROSS_CHECK_THRESHOLD_BPS = 0.5;
/** Next settlement times may differ by rounding, never by a whole interval. */
export const DEFAULT_CROSS_CHECK_NEXT_TOLERANCE_MS = 60_000;
export const DEFAULT_CROSS_CHECK_ROWS = 20;
/** Quick first rounds (firstDelayMs apart) while nothing could be compared yet, before settling on intervalMs. */
const QUICK_ROUNDS = 4;

/** Our latest funding of a leg, as the engine keeps it (rate per its own interval). */
export interface OurFunding {
  rate: number;
  intervalMs: number;
  /** Epoch ms; 0 or less = not known. */
  nextFundingMs: number;
}

/** Our funding for (venue, instrument key, settle), or null when we have none. */
export type FundingLookup = (venue: Exchange, key: string, settle: string) => OurFunding | null;

/** One enabled venue that publishes references, with what it takes to ask it. */
export interface FundingSource {
  exchange: Exchange;
  rest: string;
  fundingReferences(rest: string, fetchJson: FetchJson, nowMs: number): Promise<FundingReference[]>;
}

export interface CompareOptions {
  thresholdBps?: number;
  nextToleranceMs?: number;
  maxRows?: number;
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** rate × 8 h / interval, in bps. */
function per8hBps(rate: number, intervalMs: number): number {
  return (rate * EIGHT_HOURS_MS * 10_000) / intervalMs;
}

/**
 * Compares one source's figures with ours (pure). A figure without a finite rate, or with no usable
 * interval (neither theirs nor ours positive), counts as invalid; one for a leg we have no funding for
 * as unmatched. `failures`/`lastError` are left for the caller.
 */
export function compareFunding(source: Exchange, refs: readonly FundingReference[], lookup: FundingLookup, nowMs: number, opts: CompareOptions = {}): FundingCrossCheck {
  const thresholdBps = opts.thresholdBps ?? DEFAULT_CROSS_CHECK_THRESHOLD_BPS;
  const nextToleranceMs = opts.nextToleranceMs ?? DEFAULT_CROSS_CHECK_NEXT_TOLERANCE_MS;
  const rows: FundingCrossCheckRow[] = [];
  let unmatched = 0;
  let invalid = 0;
  for (const ref of refs) {
    if (!ref || typeof ref !== 'object' || !finite(ref.rate) || typeof ref.key !== 'string' || !isExchange(ref.venue)) {
      invalid++;
      continue;
    }
    const settle = typeof ref.settle === 'string' && ref.settle !== '' ? ref.settle : 'USDT';
    const ours = lookup(ref.venue, ref.key, settle);
    if (!ours || !finite(ours.rate)) {
      unmatched++;
      continue;
    }
    const theirInterval = finite(ref.intervalMs) && ref.intervalMs > 0 ? ref.intervalMs : null;
    const ourInterval = finite(ours.intervalMs) && ours.intervalMs > 0 ? ours.intervalMs : null;
    const forTheirs = theirInterval ?? ourInterval;
    if (forTheirs === null || ourInterval === null) {
      invalid++;
      continue;
    }
    const theirs8hBps = per8hBps(ref.rate, forTheirs);
    const ours8hBps = per8hBps(ours.rate, ourInterval);
    const diff8hBps = theirs8hBps - ours8hBps;
    const theirNextMs = finite(ref.nextFundingMs) && ref.nextFundingMs > 0 ? ref.nextFundingMs : null;
    const ourNextMs = finite(ours.nextFundingMs) && ours.nextFundingMs > 0 ? ours.nextFundingMs : null;
    const nextOff = theirNextMs !== null && ourNextMs !== null && Math.abs(theirNextMs - ourNextMs) > nextToleranceMs;
    rows.push({
      instrument: ref.key,
      venue: ref.venue,
      settle,
      theirs8hBps,
      ours8hBps,
      diff8hBps,
      theirIntervalMs: theirInterval,
      ourIntervalMs: ourInterval,
      theirNextMs,
      ourNextMs,
      flagged: Math.abs(diff8hBps) > thresholdBps || nextOff,
    });
  }
  let maxAbs: number | null = null;
  let flagged = 0;
  for (const r of rows) {
    maxAbs = Math.max(maxAbs ?? 0, Math.abs(r.diff8hBps));
    if (r.flagged) flagged++;
  }
  // Flagged first (a next-time mismatch with a small rate difference must not drop off), then by |difference|.
  rows.sort((a, b) => Number(b.flagged) - Number(a.flagged) || Math.abs(b.diff8hBps) - Math.abs(a.diff8hBps) || a.instrument.localeCompare(b.instrument));
  return {
    source,
    checkedMs: nowMs,
    references: refs.length,
    compared: rows.length,
    unmatched,
    invalid,
    flagged,
    maxAbsDiff8hBps: maxAbs,
    thresholdBps,
    nextToleranceMs,
    failures: 0,
    lastError: null,
    rows: rows.slice(0, opts.maxRows ?? DEFAULT_CROSS_CHECK_ROWS),
  };
}

export interface FundingCrossCheckOptions extends CompareOptions {
  /** The enabled venues that publish references, read at each round (venues come and go with the config). */
  sources: () => FundingSource[];
  lookup: FundingLookup;
  fetchJson: FetchJson;
  now?: () => number;
  logger?: Logger;
  /** Default 60 s. */
  intervalMs?: number;
  /** First round after start (and quick retries while nothing compared yet). Default 15 s. */
  firstDelayMs?: number;
}

export class FundingCrossCheckRunner {
  private readonly results = new Map<Exchange, FundingCrossCheck>();
  private readonly inFlight = new Set<Exchange>();
  private readonly listeners: Array<(check: FundingCrossCheck) => void> = [];
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private rounds = 0;

  constructor(private readonly opts: FundingCrossCheckOptions) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(this.opts.firstDelayMs ?? DEFAULT_CROSS_CHECK_FIRST_DELAY_MS);
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Called with each source's result as it completes (a failure too: its counters changed). */
  onResult(listener: (check: FundingCrossCheck) => void): void {
    this.listeners.push(listener);
  }

  /** The latest result per currently enabled source (also before its first check, with checkedMs null). */
  checks(): FundingCrossCheck[] {
    return this.opts.sources().map((s) => this.results.get(s.exchange) ?? this.empty(s.exchange));
  }

  /** One round over every source now (the timer does the same); resolves when all are done. */
  async runOnce(): Promise<void> {
    this.rounds++;
    await Promise.all(this.opts.sources().map((s) => this.checkSource(s)));
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.runOnce().finally(() => {
        // Early on, our own funding may not have arrived yet: try again soon rather than a whole interval later.
        const nothingYet = this.rounds < QUICK_ROUNDS && this.checks().some((c) => c.compared === 0);
        this.schedule(nothingYet ? (this.opts.firstDelayMs ?? DEFAULT_CROSS_CHECK_FIRST_DELAY_MS) : (this.opts.intervalMs ?? DEFAULT_CROSS_CHECK_INTERVAL_MS));
      });
    }, delayMs);
    this.timer.unref?.();
  }

  private async checkSource(s: FundingSource): Promise<void> {
    if (this.inFlight.has(s.exchange)) return; // the last call has not answered: never two at once
    this.inFlight.add(s.exchange);
    const previous = this.results.get(s.exchange) ?? this.empty(s.exchange);
    let next: FundingCrossCheck;
    try {
      const refs = await s.fundingReferences(s.rest, this.opts.fetchJson, this.now());
      if (!Array.isArray(refs)) throw new Error('references are not a list');
      next = { ...compareFunding(s.exchange, refs, this.opts.lookup, this.now(), this.opts), failures: previous.failures, lastError: previous.lastError };
      if (next.flagged > 0) this.log('warn', `${s.exchange}: funding cross-check: ${next.flagged} of ${next.compared} figures differ from ours`, { maxAbsDiff8hBps: next.maxAbsDiff8hBps });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      next = { ...previous, failures: previous.failures + 1, lastError: { message, atMs: this.now() } };
      this.log('warn', `${s.exchange}: funding cross-check failed; retrying next round`, { err: message, failures: next.failures });
    } finally {
      this.inFlight.delete(s.exchange);
    }
    this.results.set(s.exchange, next);
    for (const l of this.listeners) l(next);
  }

  private empty(source: Exchange): FundingCrossCheck {
    return {
      source,
      checkedMs: null,
      references: 0,
      compared: 0,
      unmatched: 0,
      invalid: 0,
      flagged: 0,
      maxAbsDiff8hBps: null,
      thresholdBps: this.opts.thresholdBps ?? DEFAULT_CROSS_CHECK_THRESHOLD_BPS,
      nextToleranceMs: this.opts.nextToleranceMs ?? DEFAULT_CROSS_CHECK_NEXT_TOLERANCE_MS,
      failures: 0,
      lastError: null,
      rows: [],
    };
  }

  private log(level: 'warn' | 'info', msg: string, extra?: Record<string, unknown>): void {
    this.opts.logger?.[level]({ component: 'funding-cross-check', ...extra }, msg);
  }
}
