/**
 * Lua scripts of the cluster. Every state write of the engine runs inside one that first compares the
 * caller's fencing token with the current one (`fence` key): an engine that lost its lease (paused, cut
 * off, replaced by the standby) has its writes refused with a FENCED error instead of corrupting state.
 */

/** Prefix of the error a fenced (stale) write gets. */
export const FENCED = 'FENCED';

/**
 * Publishes a batch of events: hands out `n` sequence numbers, appends the payload to the capped stream
 * (entry id = last seq) and publishes it live. KEYS: fence, seq, events, live. ARGV: token, n, events JSON
 * array, stream max length. Returns the last seq.
 */
export const PUBLISH_EVENTS = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('${FENCED} stale engine token ' .. ARGV[1]) end
local n = tonumber(ARGV[2])
local last = redis.call('INCRBY', KEYS[2], n)
local payload = '{"token":' .. ARGV[1] .. ',"first":' .. (last - n + 1) .. ',"events":' .. ARGV[3] .. '}'
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], last .. '-0', 'p', payload)
redis.call('PUBLISH', KEYS[4], payload)
return last`;

/**
 * Replaces the snapshot hash with the given fields plus the current seq and the token, atomically after
 * every event published before it on the same connection. KEYS: fence, seq, snapshot. ARGV: token, then
 * field/value pairs. Returns the seq the snapshot reflects.
 */
export const WRITE_SNAPSHOT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('${FENCED} stale engine token ' .. ARGV[1]) end
local seq = redis.call('GET', KEYS[2]) or '0'
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], 'seq', seq, 'token', ARGV[1], unpack(ARGV, 2))
return tonumber(seq)`;

/**
 * Sets one value (the funding board) if the caller's token is still current. KEYS: fence, key.
 * ARGV: token, value. Returns 1.
 */
export const WRITE_FENCED_VALUE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('${FENCED} stale engine token ' .. ARGV[1]) end
redis.call('SET', KEYS[2], ARGV[2])
return 1`;

/**
 * Takes the lease when nobody holds it and hands out the next fencing token. KEYS: lease, fence.
 * ARGV: owner, ttl ms. Returns the token, or nil when the lease is held.
 */
export const ACQUIRE_LEASE = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return nil end
return redis.call('INCR', KEYS[2])`;

/**
 * Extends the lease while the caller still holds it with the current token. KEYS: lease, fence.
 * ARGV: owner, token, ttl ms. Returns 1 renewed, 0 lost.
 */
export const RENEW_LEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

/** Gives the lease up (clean shutdown) if still held by the caller. KEYS: lease. ARGV: owner. */
export const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
