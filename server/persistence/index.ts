/**
 * `createPersistence`: Redis (write-behind) when a URL is given, else the in-memory default.
 */
import type { Logger } from 'pino';
import type { PersistenceCaps } from './caps.js';
import { MemoryPersistence } from './memory.js';
import type { Persistence } from './persistence.js';
import { DEFAULT_PREFIX, RedisPersistence, type RedisPersistenceOptions } from './redis.js';

export interface CreatePersistenceOptions {
  /** e.g. process.env.REDIS_URL; empty or undefined selects the in-memory store. */
  redisUrl?: string;
  /** Key prefix, e.g. process.env.REDIS_PREFIX; default `perpscan:`. */
  prefix?: string;
  logger?: Logger;
  caps?: Partial<PersistenceCaps>;
  /** Writer tuning for Redis (flush interval, batch size, backlog bounds). */
  writer?: Omit<RedisPersistenceOptions, 'url' | 'prefix' | 'logger' | 'caps'>;
}

export function createPersistence(opts: CreatePersistenceOptions = {}): Persistence {
  if (!opts.redisUrl) return new MemoryPersistence({ caps: opts.caps });
  return new RedisPersistence({
    ...opts.writer,
    url: opts.redisUrl,
    prefix: opts.prefix || DEFAULT_PREFIX,
    logger: opts.logger,
    caps: opts.caps,
  });
}

export type { Persistence, PersistenceHealth, PortfolioState, MarketRecord } from './persistence.js';
export { DEFAULT_CAPS, type PersistenceCaps } from './caps.js';
export { MemoryPersistence } from './memory.js';
export { RedisPersistence, DEFAULT_PREFIX, redisKeys, type RedisPersistenceOptions, type WriterStats } from './redis.js';
export { recordOpportunities, type OpportunityRecorder } from './recorder.js';
export { recordMarketRecords, type MarketRecordSource } from './market-records.js';
