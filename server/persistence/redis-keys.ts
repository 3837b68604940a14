/**
 * The Redis key layout under a prefix (documented in docs/persistence.md) and the Lua scripts the
 * writer runs inside its MULTI/EXEC.
 */
import type { Exchange } from '../../shared/exchanges.js';

export const DEFAULT_PREFIX = 'perpscan:';

/** The key names under a prefix (documented in docs/persistence.md). */
export function redisKeys(prefix: string) {
  return {
    config: `${prefix}config`,
    alerts: `${prefix}alerts`,
    portfolio: `${prefix}portfolio`,
    positions: `${prefix}positions`,
    closedPositions: `${prefix}positions:closed`,
    fills: `${prefix}fills`,
    fillOrder: `${prefix}fills:order`,
    events: `${prefix}opps`,
    eventsCount: `${prefix}opps:count`,
    eventsSizes: `${prefix}opps:sizes`,
    closed: `${prefix}opps:closed`,
    closedCount: `${prefix}opps:closed:count`,
    closedSizes: `${prefix}opps:closed:sizes`,
    market: (ex: Exchange) => `${prefix}market:${ex}`,
    marketCount: (ex: Exchange) => `${prefix}market:${ex}:count`,
    marketSizes: (ex: Exchange) => `${prefix}market:${ex}:sizes`,
    lastId: `${prefix}writer:lastid`,
    epoch: `${prefix}epoch`,
    /** Funding history (server/funding/history-store.ts): one zset per leg (score = settlement ms), the set of legs, backfill progress per leg. */
    fundingHistory: (leg: string) => `${prefix}funding:history:${leg}`,
    fundingLegs: `${prefix}funding:legs`,
    fundingBackfill: `${prefix}funding:backfill`,
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;

/**
 * Appends one chunk (n records) to a stream unless its id was already written, keeps the record count
 * and a list of `<id> <n>` per chunk, and trims whole chunks from the head while at least `cap` records
 * remain. KEYS: stream, count, sizes. ARGV: id, n, data, cap. Returns 1 written, 0 duplicate.
 */
export const APPEND_CHUNK = `
local ok = redis.pcall('XADD', KEYS[1], ARGV[1], 'n', ARGV[2], 'd', ARGV[3])
if type(ok) == 'table' and ok.err then
  if string.find(ok.err, 'equal or smaller', 1, true) then return 0 end
  return redis.error_reply(ok.err)
end
redis.call('RPUSH', KEYS[3], ARGV[1] .. ' ' .. ARGV[2])
local total = redis.call('INCRBY', KEYS[2], ARGV[2])
local cap = tonumber(ARGV[4])
while total > cap do
  local head = redis.call('LINDEX', KEYS[3], 0)
  if not head then break end
  local sp = string.find(head, ' ', 1, true)
  local n = tonumber(string.sub(head, sp + 1))
  if total - n < cap then break end
  redis.call('XDEL', KEYS[1], string.sub(head, 1, sp - 1))
  redis.call('LPOP', KEYS[3])
  total = redis.call('DECRBY', KEYS[2], n)
end
return 1`;

/** Removes the oldest members beyond `cap` from a time-ordered zset and their hash fields. KEYS: hash, zset. ARGV: cap. */
export const PRUNE_BY_TIME = `
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[1])
if over <= 0 then return 0 end
local ids = redis.call('ZRANGE', KEYS[2], 0, over - 1)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
for i = 1, #ids do redis.call('HDEL', KEYS[1], ids[i]) end
return over`;


/**
 * The store's epoch marker: returns the value held (nil when the key is missing) and sets `ARGV[1]`
 * when it was missing. A missing marker once this process has written one means the store lost its
 * data (Redis restarted without persistence, or flushed). KEYS: epoch. ARGV: value.
 */
export const CHECK_EPOCH = `
local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], ARGV[1]) end
return v`;
