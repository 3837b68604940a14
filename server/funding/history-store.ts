/**
 * The funding-history store: every settled rate per leg (instrument × venue × settle), from the backfill
 * (server/funding/backfill.ts) and from settlements observed live (the funding board's tracker).
 *
 * Reads (FundingHistoryView) are served from a memory-resident index — sorted arrays per leg — and never
 * touch Redis: the engine's realised-carry scoring and the board read it on their own paths. With Redis
 * configured every new settlement is also written behind (a zset per leg, score = settlement ms) and the
 * index is loaded from it at start-up; the backfill's progress per leg is kept beside it (resumable).
 *
 * One point per settlement time per leg (a later figure for the same time replaces the earlier one in
 * memory; Redis keeps one member per time). Retention: FUNDING_HISTORY_RETENTION_MS (35 days: the 30-day
 * realised average plus margin), enforced on every write batch and by `prune` (app timer), in memory and
 * in Redis (ZREMRANGEBYSCORE).
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import { SETTLE_CURRENCIES, type SettleCurrency } from '../../shared/instrument-key.js';
import { DEFAULT_PREFIX, redisKeys, type RedisKeys } from '../persistence/redis-keys.js';
import type { FundingHistoryView, FundingLegRef, SettledFunding } from './history-types.js';
import { mergeRanges, type MsRange } from './history-ranges.js';

export const DAY_MS = 86_400_000;
/** How long settlements are kept (memory and Redis). */
export const FUNDING_HISTORY_RETENTION_MS = 35 * DAY_MS;

/**
 * Two figures of one leg less than this apart are the same settlement (a venue's history stamps it a few
 * ms after the time its live feed announced); settlements are at least an hour apart on every venue.
 */
export const SAME_SETTLEMENT_MS = 60_000;

export const legKeyOf = (leg: FundingLegRef): string => `${leg.instrument}|${leg.venue}|${leg.settle}`;

function legOfKey(key: string): FundingLegRef | null {
  const [instrument, venue, settle] = key.split('|');
  if (!instrument || !EXCHANGES.includes(venue as Exchange) || !SETTLE_CURRENCIES.includes(settle as SettleCurrency)) return null;
  return { instrument, venue: venue as Exchange, settle: settle as SettleCurrency };
}

/** A zset member: `<timeMs>|<rate>|<intervalMs or empty>` (the time makes members of one leg unique). */
function encodePoint(p: SettledFunding): string {
  return `${p.timeMs}|${p.rate}|${p.intervalMs ?? ''}`;
}

function decodePoint(member: string): SettledFunding | null {
  const [t, r, i] = member.split('|');
  const timeMs = Number(t);
  const rate = Number(r);
  const intervalMs = i === undefined || i === '' ? null : Number(i);
  if (!Number.isFinite(timeMs) || !Number.isFinite(rate) || (intervalMs !== null && !Number.isFinite(intervalMs))) return null;
  return { timeMs, rate, intervalMs };
}

/** First index in sorted `points` with timeMs ≥ t. */
function lowerBound(points: readonly SettledFunding[], t: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]!.timeMs < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface FundingHistoryStoreOptions {
  now: () => number;
  retentionMs?: number;
  /** Redis URL; absent = memory only. */
  redisUrl?: string | null;
  prefix?: string;
  logger?: Logger;
}

export interface FundingHistoryStoreStats {
  kind: 'memory' | 'redis';
  legs: number;
  points: number;
  /** Points added since start (backfill and live), duplicates excluded. */
  added: number;
  /** Redis writes that failed (the memory index has the points; a restart re-reads the backfill range). */
  writeErrors: number;
}

export class FundingHistoryStore implements FundingHistoryView {
  readonly retentionMs: number;
  private readonly byLeg = new Map<string, SettledFunding[]>();
  private readonly done = new Map<string, MsRange[]>();
  private readonly redis: Redis | null;
  private readonly keys: RedisKeys;
  private versionCounter = 0;
  private added = 0;
  private writeErrors = 0;
  private pending: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: FundingHistoryStoreOptions) {
    this.retentionMs = opts.retentionMs ?? FUNDING_HISTORY_RETENTION_MS;
    this.keys = redisKeys(opts.prefix ?? DEFAULT_PREFIX);
    this.redis = opts.redisUrl
      ? new Redis(opts.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2, connectionName: `${opts.prefix ?? DEFAULT_PREFIX}funding-history`, retryStrategy: (n: number) => Math.min(50 * 2 ** Math.min(n, 8), 2000) })
      : null;
    this.redis?.on('error', (err: Error) => opts.logger?.debug({ err }, 'funding history: redis error'));
  }

  get kind(): 'memory' | 'redis' {
    return this.redis ? 'redis' : 'memory';
  }

  get version(): number {
    return this.versionCounter;
  }

  /** Loads the index and the backfill progress from Redis (memory: nothing). Never throws: a Redis that is away leaves an empty index. */
  async open(): Promise<void> {
    if (!this.redis) return;
    try {
      await this.redis.connect();
      const legs = await this.redis.smembers(this.keys.fundingLegs);
      const cutoff = this.opts.now() - this.retentionMs;
      for (const key of legs) {
        if (!legOfKey(key)) continue;
        const z = this.keys.fundingHistory(key);
        await this.redis.zremrangebyscore(z, '-inf', `(${cutoff}`);
        const members = await this.redis.zrangebyscore(z, cutoff, '+inf');
        const points = members.map(decodePoint).filter((p): p is SettledFunding => p !== null);
        if (points.length > 0) this.mergeInto(key, points);
      }
      const progress = await this.redis.hgetall(this.keys.fundingBackfill);
      for (const [key, json] of Object.entries(progress)) {
        try {
          const ranges = JSON.parse(json) as unknown;
          if (Array.isArray(ranges)) this.done.set(key, mergeRanges(ranges.filter((r): r is MsRange => typeof r?.fromMs === 'number' && typeof r?.toMs === 'number')));
        } catch {
          // a damaged entry: that leg is read again from scratch
        }
      }
      if (this.byLeg.size > 0) this.versionCounter++;
    } catch (err) {
      this.opts.logger?.warn({ err }, 'funding history: could not load from redis; starting empty');
    }
  }

  /** Settlements of `leg` with fromMs ≤ timeMs ≤ toMs, oldest first. Memory only. */
  settlements(leg: FundingLegRef, fromMs: number, toMs: number): readonly SettledFunding[] {
    const points = this.byLeg.get(legKeyOf(leg));
    if (!points) return [];
    return points.slice(lowerBound(points, fromMs), lowerBound(points, toMs + 1));
  }

  legs(): FundingLegRef[] {
    return [...this.byLeg.keys()].map(legOfKey).filter((l): l is FundingLegRef => l !== null);
  }

  /**
   * Adds settlements of one leg (any order); a time already held is replaced only when its figures differ.
   * Points older than the retention are ignored. Returns how many were new or changed. Redis is written
   * behind (not awaited here: `flush` waits for it).
   */
  add(leg: FundingLegRef, points: readonly SettledFunding[]): number {
    const cutoff = this.opts.now() - this.retentionMs;
    const key = legKeyOf(leg);
    const held = this.byLeg.get(key) ?? [];
    const fresh: SettledFunding[] = [];
    for (const p of points) {
      if (!(p.timeMs >= cutoff) || !Number.isFinite(p.rate)) continue;
      const old = held[lowerBound(held, p.timeMs - SAME_SETTLEMENT_MS + 1)];
      if (old && old.timeMs === p.timeMs && old.rate === p.rate && old.intervalMs === p.intervalMs) continue;
      fresh.push(p);
    }
    if (fresh.length === 0) return 0;
    this.mergeInto(key, fresh);
    this.added += fresh.length;
    this.versionCounter++;
    this.pruneLeg(key, cutoff);
    if (this.redis) {
      const z = this.keys.fundingHistory(key);
      const multi = this.redis.multi().sadd(this.keys.fundingLegs, key);
      // One member per settlement: drop any earlier figure for it first.
      for (const p of fresh) multi.zremrangebyscore(z, p.timeMs - SAME_SETTLEMENT_MS + 1, p.timeMs + SAME_SETTLEMENT_MS - 1).zadd(z, p.timeMs, encodePoint(p));
      multi.zremrangebyscore(z, '-inf', `(${cutoff}`);
      this.chain(multi.exec());
    }
    return fresh.length;
  }

  /** Ranges of the leg the backfill has read (merged). */
  backfilled(leg: FundingLegRef): readonly MsRange[] {
    return this.done.get(legKeyOf(leg)) ?? [];
  }

  /** Records that the backfill has read `range` of the leg (persisted with Redis, so a restart resumes). */
  markBackfilled(leg: FundingLegRef, range: MsRange): void {
    const key = legKeyOf(leg);
    const cutoff = this.opts.now() - this.retentionMs;
    const ranges = mergeRanges([...(this.done.get(key) ?? []), range]).filter((r) => r.toMs >= cutoff);
    this.done.set(key, ranges);
    if (this.redis) this.chain(this.redis.hset(this.keys.fundingBackfill, key, JSON.stringify(ranges)));
  }

  /** Drops settlements older than the retention everywhere. Returns how many were dropped from memory. */
  prune(nowMs: number = this.opts.now()): number {
    const cutoff = nowMs - this.retentionMs;
    let dropped = 0;
    for (const key of this.byLeg.keys()) {
      const n = this.pruneLeg(key, cutoff);
      dropped += n;
      if (n > 0 && this.redis) this.chain(this.redis.zremrangebyscore(this.keys.fundingHistory(key), '-inf', `(${cutoff}`));
    }
    if (dropped > 0) this.versionCounter++;
    return dropped;
  }

  stats(): FundingHistoryStoreStats {
    let points = 0;
    for (const p of this.byLeg.values()) points += p.length;
    return { kind: this.kind, legs: this.byLeg.size, points, added: this.added, writeErrors: this.writeErrors };
  }

  /** Waits for the Redis writes issued so far. */
  async flush(): Promise<void> {
    await this.pending;
  }

  async close(): Promise<void> {
    if (!this.redis) return;
    // Never connected (no write, no load): nothing to say goodbye to.
    if (this.redis.status === 'wait' || this.redis.status === 'end') {
      this.redis.disconnect();
      return;
    }
    await Promise.race([this.flush(), new Promise((r) => setTimeout(r, 2000).unref())]);
    await this.redis.quit().catch(() => this.redis?.disconnect());
  }

  private chain(p: Promise<unknown>): void {
    const counted = p.catch((err: unknown) => {
      this.writeErrors++;
      this.opts.logger?.warn({ err }, 'funding history: redis write failed');
    });
    this.pending = Promise.all([this.pending, counted]);
  }

  /** Merges points into the leg's sorted array: a new figure replaces any held one of the same settlement. */
  private mergeInto(key: string, points: readonly SettledFunding[]): void {
    const incoming = [...points].sort((a, b) => a.timeMs - b.timeMs);
    const kept = (this.byLeg.get(key) ?? []).filter((h) => {
      const near = incoming[lowerBound(incoming, h.timeMs - SAME_SETTLEMENT_MS + 1)];
      return !(near && near.timeMs < h.timeMs + SAME_SETTLEMENT_MS);
    });
    const merged: SettledFunding[] = [];
    for (const p of incoming) {
      const last = merged[merged.length - 1];
      const point = { timeMs: p.timeMs, rate: p.rate, intervalMs: p.intervalMs };
      if (last && p.timeMs - last.timeMs < SAME_SETTLEMENT_MS) merged[merged.length - 1] = point; // the later of two in one batch
      else merged.push(point);
    }
    this.byLeg.set(key, [...kept, ...merged].sort((a, b) => a.timeMs - b.timeMs));
  }

  private pruneLeg(key: string, cutoff: number): number {
    const points = this.byLeg.get(key);
    if (!points) return 0;
    const drop = lowerBound(points, cutoff);
    if (drop > 0) this.byLeg.set(key, points.slice(drop));
    return drop;
  }
}
