/**
 * The Lua scripts of the Redis store, as strings (tsc does not copy .lua files into dist).
 *
 * Each script runs atomically inside Redis, so a start is checked and recorded in one step that no
 * other process can interleave with: that is what makes the limits hold across machines.
 *
 * Times inside the scripts are whole microseconds. They come from Redis `TIME` (one clock for
 * every process, so skew between machines does not matter) unless the caller passes one (a store
 * created with a `clock`, for tests). Whole numbers keep Lua's doubles exact: 1.7e15 us < 2^53.
 *
 * Keys of one limiter key share the hash tag `{key}`, so the scripts also work on Redis Cluster.
 * Every key outlives its content by a minute (KEEP_US) so that a caller clock running slower than
 * Redis (a test's manual clock) never sees state vanish early; the content alone decides the limits.
 */

import { CATCH_UP } from '../limit/pace.js'

/** Shared first lines: the time, and the minute every key outlives its content by. */
const PRELUDE = `
local KEEP_MS = 60000
local function clock(given)
  if given ~= '' then return tonumber(given) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function ms(us) return math.ceil(us / 1000) end
`

/**
 * Shared by ACQUIRE and RESTAMP: how list entries read. A rate in requests keeps one entry per start,
 * its time ('<us>'); a budget (a rate in another unit: tokens) one per start with its weight
 * ('<us>:<weight>'), since a start there may weigh thousands.
 */
const ENTRIES = `
local function stampOf(entry) return tonumber(string.match(entry, '^[^:]+')) end
local function weightOf(entry) return string.match(entry, ':(.+)$') end
local function entryAt(at, weight)
  if weight then return string.format('%.0f', at) .. ':' .. weight end
  return string.format('%.0f', at)
end
-- A cost is a whole number of requests, or JSON per unit (requests always named).
local function costsOf(text)
  if string.sub(text, 1, 1) == '{' then return cjson.decode(text) end
  return {requests = tonumber(text)}
end
`

/**
 * Shared by ACQUIRE and RESTAMP: moves the starts recorded at or after `since` to `moved` (a start
 * decided at `since` went out later), in every rate list and in the pace, as MemoryStore.restamp
 * does. Lists are newest first, so those starts are at the head; a start already later than
 * `moved` stays, and the order holds. A start that has left the list (trimmed) has nothing to move.
 */
const RESTAMP_STARTS = `${ENTRIES}
local function restamp(rateKeys, paceKey, since, moved)
  for _, key in ipairs(rateKeys) do
    local i = 0
    local entry = redis.call('LINDEX', key, i)
    local at = entry and stampOf(entry) or -1
    while at >= since do
      if at < moved then redis.call('LSET', key, i, entryAt(moved, weightOf(entry))) end
      i = i + 1
      entry = redis.call('LINDEX', key, i)
      at = entry and stampOf(entry) or -1
    end
  end
  local last = tonumber(redis.call('HGET', paceKey, '_last') or '-1')
  if last >= since and moved > last then
    local shift = moved - last
    local fields = redis.call('HGETALL', paceKey)
    for f = 1, #fields, 2 do
      if fields[f] ~= '_cost' then
        redis.call('HSET', paceKey, fields[f], string.format('%.0f', tonumber(fields[f + 1]) + shift))
      end
    end
  end
end
`

/**
 * Shared by ACQUIRE: the us until a start of `rate.cost` fits the budget `rate` (0: now). Starts
 * leave the window `interval` after they were made: enough of the oldest must leave to make room,
 * and the newest of those decides when. Entries are forgotten two intervals on, not one: processes
 * sharing the list may add a margin of their own to the window.
 */
const BUDGET_WAIT = `
local function budgetWait(rate, now)
  local entries = redis.call('LRANGE', rate.key, 0, -1)
  local kept = #entries
  while kept > 0 and stampOf(entries[kept]) + 2 * rate.interval <= now do kept = kept - 1 end
  if kept == 0 then redis.call('DEL', rate.key)
  elseif kept < #entries then redis.call('LTRIM', rate.key, 0, kept - 1) end
  local used, oldest = 0, 0
  for i = 1, kept do
    if stampOf(entries[i]) + rate.interval <= now then break end
    used = used + tonumber(weightOf(entries[i]))
    oldest = i
  end
  local excess = used + rate.cost - rate.limit
  if excess <= 0 then return 0 end
  for i = oldest, 1, -1 do
    excess = excess - tonumber(weightOf(entries[i]))
    if excess <= 0 then return stampOf(entries[i]) + rate.interval - now end
  end
  return rate.interval
end
`

/**
 * ACQUIRE (and PEEK): may the caller start a task of `cost` now? Take it if so.
 *
 * KEYS: [1] leases (sorted set: lease id -> expiry), [2] pause (pausedUntil), [3] pace (hash: rate
 *       key -> earliest next start, and _last/_cost of the last paced start, when pacing), [4..] one
 *       list per rate, newest first: for a rate in requests the last `limit` start times, for a
 *       budget the starts of the window with their weights.
 * ARGV: [1] now or '', [2] concurrency (0: no cap), [3] lease id, [4] lease ttl, [5] cost (requests,
 *       or JSON per unit), [6] 'take', 'peek' or 'record' (count the cost in the windows whatever
 *       room they have, with no lease and no pacing: use made outside the limiter, which a server
 *       said it counted), then for each rate key: limit, interval, spacing
 *       (0: no pacing), unit; then restamps carried along (since, moved pairs: this process's starts
 *       that went out late, applied before anything is decided, so they cost no round trip of their own).
 * Returns {wait, full, now}: wait 0 means taken (or, for peek, possible now); otherwise the us to
 * wait. `now` is the time the start was recorded at, for restamping it when it goes out.
 * full = 1 when every slot is leased: wait is then the time until the earliest lease expires, so a
 * waiter that hears of no release (its holder died) still asks again once that lease is gone.
 *
 * The sliding window is exact: taking `cost` starts pushes the `cost` oldest of the last `limit`
 * out of the list; the newest of those (index limit - cost) must be at least `interval` old. Then no
 * half-open window of length `interval` ever holds more than `limit` starts. No fixed buckets.
 * A budget's window is as exact, summing weights (BUDGET_WAIT).
 *
 * Pacing (LimitPolicy.smooth) also keeps starts `spacing` apart per unit of cost (pace.ts): the
 * window's quota is spent evenly instead of in bursts that the API would receive bunched.
 */
export const ACQUIRE = `${PRELUDE}${RESTAMP_STARTS}${BUDGET_WAIT}
local now = clock(ARGV[1])
local concurrency = tonumber(ARGV[2])
local ttl = tonumber(ARGV[4])
local costs = costsOf(ARGV[5])
local mode = ARGV[6]
local rates = {}
local longest = 0
for i = 4, #KEYS do
  local at = 4 * i - 9
  local unit = ARGV[at + 3]
  rates[#rates + 1] = {key = KEYS[i], limit = tonumber(ARGV[at]), interval = tonumber(ARGV[at + 1]),
    spacing = tonumber(ARGV[at + 2]), unit = unit, budget = unit ~= 'requests', cost = costs[unit] or 0}
  longest = math.max(longest, rates[#rates].interval)
  if mode == 'record' then rates[#rates].spacing = 0 end
end
local paced = false
for _, rate in ipairs(rates) do if rate.spacing > 0 then paced = true end end
local rateKeys = {}
for i = 4, #KEYS do rateKeys[#rateKeys + 1] = KEYS[i] end
for at = 4 * #rates + 7, #ARGV, 2 do restamp(rateKeys, KEYS[3], tonumber(ARGV[at]), tonumber(ARGV[at + 1])) end
-- As PaceSchedules in pace.ts: a rate with no schedule yet starts it after the last paced start.
local last, lastCosts
if paced then
  local fields = redis.call('HMGET', KEYS[3], '_last', '_cost')
  last = tonumber(fields[1])
  if fields[2] then lastCosts = costsOf(fields[2]) end
end
local wait = 0
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then wait = paused - now end
if concurrency > 0 then
  -- Leases past their expiry belong to processes that stopped renewing them: they died.
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= concurrency then
    if wait > 0 then return {wait, 0} end
    local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {tonumber(first[2]) - now, 1}
  end
end
for _, rate in ipairs(rates) do
  local rateWait
  if rate.budget then
    rateWait = budgetWait(rate, now)
  else
    local evicted = redis.call('LINDEX', rate.key, rate.limit - rate.cost)
    rateWait = evicted and tonumber(evicted) + rate.interval - now or 0
  end
  if rateWait > wait then wait = rateWait end
  if rate.spacing > 0 then
    local scheduled = redis.call('HGET', KEYS[3], rate.key)
    if scheduled then rate.next = tonumber(scheduled)
    elseif last and lastCosts then rate.next = last + (lastCosts[rate.unit] or 0) * rate.spacing end
    if rate.next and rate.next - now > wait then wait = rate.next - now end
  end
end
if mode == 'peek' or (wait > 0 and mode == 'take') then return {wait, 0} end
if concurrency > 0 then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ms(ttl) + KEEP_MS)
end
-- Only this start's rates keep a schedule (as in pace.ts): the others start again after it.
if paced then redis.call('DEL', KEYS[3]) end
for _, rate in ipairs(rates) do
  if rate.budget then
    if rate.cost > 0 then redis.call('LPUSH', rate.key, entryAt(now, tostring(rate.cost))) end
    redis.call('PEXPIRE', rate.key, ms(2 * rate.interval) + KEEP_MS)
  else
    for _ = 1, rate.cost do redis.call('LPUSH', rate.key, now) end
    redis.call('LTRIM', rate.key, 0, rate.limit - 1)
    redis.call('PEXPIRE', rate.key, ms(rate.interval) + KEEP_MS)
  end
  if rate.spacing > 0 then
    -- As nextPace in pace.ts: catch up with the schedule unless CATCH_UP spacings late.
    local base = rate.next
    if base == nil or now - base >= ${CATCH_UP} * rate.spacing then base = now end
    redis.call('HSET', KEYS[3], rate.key, string.format('%.0f', base + rate.cost * rate.spacing))
  end
end
if paced then
  redis.call('HSET', KEYS[3], '_last', string.format('%.0f', now), '_cost', ARGV[5])
  -- cost <= limit, so every schedule is at most one interval ahead: the expiry covers it.
  redis.call('PEXPIRE', KEYS[3], ms(longest) + KEEP_MS)
end
return {0, 0, now}
`

/**
 * RESTAMP: the restamps ACQUIRE would have carried, sent alone when no acquire came soon enough.
 *
 * KEYS: [1] pace, [2..] rate lists. ARGV: since, moved pairs.
 */
export const RESTAMP = `${RESTAMP_STARTS}
local rateKeys = {}
for i = 2, #KEYS do rateKeys[#rateKeys + 1] = KEYS[i] end
for at = 1, #ARGV, 2 do restamp(rateKeys, KEYS[1], tonumber(ARGV[at]), tonumber(ARGV[at + 1])) end
return 0
`

/**
 * RELEASE: gives back one lease.
 *
 * KEYS: [1] leases. ARGV: [1] lease id, [2] concurrency, [3] wake channel, [4] publisher token.
 * Publishes on the wake channel only when the slots were all taken before this release: only then
 * can someone be waiting for a slot (a waiter saw them all taken, and nothing freed one since).
 * Returns 1 if the lease was still held, 0 if it had expired.
 */
export const RELEASE = `
local held = redis.call('ZCARD', KEYS[1])
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if held >= tonumber(ARGV[2]) then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return removed
`

/**
 * RENEW: pushes the expiry of this process's leases `ttl` ahead while their tasks run.
 *
 * KEYS: [1] leases. ARGV: [1] now or '', [2] ttl, [3..] lease ids.
 * A lease found missing is added back: its task is still running, so it must count (Redis restarted
 * empty, or this process stalled past the ttl). Returns how many were missing.
 */
export const RENEW = `${PRELUDE}
local now = clock(ARGV[1])
local ttl = tonumber(ARGV[2])
local missing = 0
for i = 3, #ARGV do
  if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then missing = missing + 1 end
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], ms(ttl) + KEEP_MS)
return missing
`

/**
 * PAUSE: holds every start until now + duration, for every process sharing the key.
 *
 * KEYS: [1] pause. ARGV: [1] now or '', [2] duration, [3] wake channel, [4] publisher token.
 * A pause never shortens a longer one already in force. Waiters are told, so they re-check and wait
 * for the new end instead of starting at the time they were given before.
 */
export const PAUSE = `${PRELUDE}
local now = clock(ARGV[1])
local duration = tonumber(ARGV[2])
local untilTime = now + duration
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilTime <= current then return 0 end
redis.call('SET', KEYS[1], string.format('%.0f', untilTime), 'PX', ms(duration) + KEEP_MS)
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`

/**
 * RESUME: lifts a pause now, for every process sharing the key. KEYS: [1] pause.
 * ARGV: [1] wake channel, [2] publisher token. Waiters are told, so they ask again at once.
 */
export const RESUME = `
if redis.call('DEL', KEYS[1]) == 1 then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return 0
`
