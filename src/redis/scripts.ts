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
  -- As PaceSchedules.restamp: the last paced start, sent while it still caught up with its
  -- schedules, leaves them.
  local catchUp = tonumber(redis.call('HGET', paceKey, '_catchup') or '-1')
  if last >= since and moved > last and not (last == since and moved < catchUp) then
    local shift = moved - last
    local fields = redis.call('HGETALL', paceKey)
    for f = 1, #fields, 2 do
      if fields[f] ~= '_cost' and fields[f] ~= '_catchup' then
        redis.call('HSET', paceKey, fields[f], string.format('%.0f', tonumber(fields[f + 1]) + shift))
      end
    end
    redis.call('HDEL', paceKey, '_catchup')
  end
end
`

/**
 * Shared by ACQUIRE: the us until a start of `cost` fits the budget `rate` (0: now). Starts leave the
 * window `interval` after they were made: enough of the oldest must leave to make room, and the
 * newest of those decides when. The window is read once per call (`rate.window`, newest first);
 * what this call took is `rate.fresh`, made `now`. Entries are forgotten two intervals on, not one:
 * processes sharing the list may add a margin of their own to the window.
 */
const BUDGET_WAIT = `
local function budgetWindow(rate, now)
  local entries = redis.call('LRANGE', rate.key, 0, -1)
  local kept = #entries
  while kept > 0 and stampOf(entries[kept]) + 2 * rate.interval <= now do kept = kept - 1 end
  if kept == 0 then redis.call('DEL', rate.key)
  elseif kept < #entries then redis.call('LTRIM', rate.key, 0, kept - 1) end
  local window, used = {}, 0
  for i = 1, kept do
    local at = stampOf(entries[i])
    if at + rate.interval <= now then break end
    local weight = tonumber(weightOf(entries[i]))
    used = used + weight
    window[#window + 1] = {at = at, weight = weight}
  end
  rate.window, rate.used, rate.fresh = window, used, 0
end
local function budgetWait(rate, cost, now)
  if not rate.window then budgetWindow(rate, now) end
  local excess = rate.used + rate.fresh + cost - rate.limit
  if excess <= 0 then return 0 end
  for i = #rate.window, 1, -1 do
    excess = excess - rate.window[i].weight
    if excess <= 0 then return rate.window[i].at + rate.interval - now end
  end
  -- What must leave was taken now, by this call.
  return rate.interval
end
`

/**
 * ACQUIRE (and PEEK): may the caller start tasks of these costs now? Take as many as may, in order.
 *
 * KEYS: [1] leases (sorted set: lease id -> expiry), [2] pause (pausedUntil), [3] pace (hash: rate
 *       key -> earliest next start, and _last/_cost of the last paced start, when pacing), [4..] one
 *       list per rate, newest first: for a rate in requests the last `limit` start times, for a
 *       budget the starts of the window with their weights.
 * ARGV: [1] now or '', [2] concurrency (0: no cap), [3] lease id prefix, [4] number of the first
 *       lease (the n-th start taken is leased as prefix .. first + n - 1), [5] lease ttl, [6] 'take',
 *       'peek' or 'record' (count the costs in the windows whatever room they have, with no pacing;
 *       with concurrency 0, no lease: use made outside the limiter, which a server said it
 *       counted), [7] how many costs, then the costs (each requests, or JSON per unit), then for
 *       each rate key: limit, interval, spacing (0: no pacing), unit; then restamps carried along
 *       (since, moved pairs: this process's starts that went out late, applied before anything is
 *       decided, so they cost no round trip of their own).
 * Returns {granted, wait, full, now}: the first `granted` costs were taken (peek takes none), each
 * checked as if alone after the ones before it, at the same `now`, so a batch takes no more than
 * the window, the slots and the pacing allow at that instant; the first refused one ends it (the
 * caller's order holds). `wait` is the us until that one could start (0 when all were taken, or
 * for peek: possible now). `now` is the time the starts were recorded at, for restamping them when
 * they go out. full = 1 when every slot is leased: wait is then the time until the earliest lease
 * expires, so a waiter that hears of no release (its holder died) still asks again once it is gone.
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
local ttl = tonumber(ARGV[5])
local mode = ARGV[6]
local asked = tonumber(ARGV[7])
local costs = {}
for n = 1, asked do costs[n] = costsOf(ARGV[7 + n]) end
local rates = {}
local longest = 0
local paced = false
for i = 4, #KEYS do
  local at = 8 + asked + 4 * (i - 4)
  local unit = ARGV[at + 3]
  local rate = {key = KEYS[i], limit = tonumber(ARGV[at]), interval = tonumber(ARGV[at + 1]),
    spacing = tonumber(ARGV[at + 2]), unit = unit, budget = unit ~= 'requests'}
  if mode == 'record' then rate.spacing = 0 end
  rates[#rates + 1] = rate
  longest = math.max(longest, rate.interval)
  if rate.spacing > 0 then paced = true end
end
local rateKeys = {}
for i = 4, #KEYS do rateKeys[#rateKeys + 1] = KEYS[i] end
for at = 8 + asked + 4 * #rates, #ARGV, 2 do
  restamp(rateKeys, KEYS[3], tonumber(ARGV[at]), tonumber(ARGV[at + 1]))
end
-- As PaceSchedules in pace.ts: a rate with no schedule yet starts it after the last paced start.
if paced then
  local fields = redis.call('HMGET', KEYS[3], '_last', '_cost')
  local last = tonumber(fields[1])
  local lastCosts = fields[2] and costsOf(fields[2])
  for _, rate in ipairs(rates) do
    if rate.spacing > 0 then
      local scheduled = redis.call('HGET', KEYS[3], rate.key)
      if scheduled then rate.next = tonumber(scheduled)
      elseif last and lastCosts then rate.next = last + (lastCosts[rate.unit] or 0) * rate.spacing end
    end
  end
end
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
local held = 0
if concurrency > 0 then
  -- Leases past their expiry belong to processes that stopped renewing them: they died.
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  held = redis.call('ZCARD', KEYS[1])
end

-- The us until a start of \`cost\` may be taken now, after those taken before it; and 1 if all slots are leased.
local function waitFor(cost)
  local wait = 0
  if paused > now then wait = paused - now end
  if concurrency > 0 and held >= concurrency then
    if wait > 0 then return wait, 0 end
    local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return tonumber(first[2]) - now, 1
  end
  for _, rate in ipairs(rates) do
    local amount = cost[rate.unit] or 0
    local rateWait
    if rate.budget then
      rateWait = budgetWait(rate, amount, now)
    else
      local evicted = redis.call('LINDEX', rate.key, rate.limit - amount)
      rateWait = evicted and tonumber(evicted) + rate.interval - now or 0
    end
    if rateWait > wait then wait = rateWait end
    if rate.next and rate.next - now > wait then wait = rate.next - now end
  end
  return wait, 0
end

-- Until when the last start taken catches up with every paced rate's schedule; nil when it does not.
local catchUp
local function take(cost, lease)
  local caughtUntil = math.huge
  if concurrency > 0 then
    redis.call('ZADD', KEYS[1], now + ttl, lease)
    held = held + 1
  end
  for _, rate in ipairs(rates) do
    local amount = cost[rate.unit] or 0
    if rate.budget then
      if amount > 0 then
        redis.call('LPUSH', rate.key, entryAt(now, tostring(amount)))
        -- A record reads no window first: nothing fresh to add to.
        rate.fresh = (rate.fresh or 0) + amount
      end
    else
      for _ = 1, amount do redis.call('LPUSH', rate.key, now) end
    end
    if rate.spacing > 0 then
      -- As nextPace in pace.ts: catch up with the schedule unless CATCH_UP spacings late.
      local base = rate.next
      if base == nil or now - base >= ${CATCH_UP} * rate.spacing then
        base = now
        caughtUntil = nil
      elseif caughtUntil then
        caughtUntil = math.min(caughtUntil, base + ${CATCH_UP} * rate.spacing)
      end
      rate.next = base + amount * rate.spacing
    end
  end
  catchUp = caughtUntil
end

local granted, wait, full = 0, 0, 0
local firstLease = tonumber(ARGV[4])
for n = 1, asked do
  if mode ~= 'record' then
    wait, full = waitFor(costs[n])
    if wait > 0 or mode == 'peek' then break end
  end
  take(costs[n], ARGV[3] .. string.format('%d', firstLease + n - 1))
  granted = n
end
if granted == 0 then return {0, wait, full, now} end
if concurrency > 0 then redis.call('PEXPIRE', KEYS[1], ms(ttl) + KEEP_MS) end
-- Only these starts' rates keep a schedule (as in pace.ts): the others start again after them.
if paced then redis.call('DEL', KEYS[3]) end
for _, rate in ipairs(rates) do
  if rate.budget then
    redis.call('PEXPIRE', rate.key, ms(2 * rate.interval) + KEEP_MS)
  else
    redis.call('LTRIM', rate.key, 0, rate.limit - 1)
    redis.call('PEXPIRE', rate.key, ms(rate.interval) + KEEP_MS)
  end
  if rate.spacing > 0 then redis.call('HSET', KEYS[3], rate.key, string.format('%.0f', rate.next)) end
end
if paced then
  redis.call('HSET', KEYS[3], '_last', string.format('%.0f', now), '_cost', ARGV[7 + granted])
  if catchUp then redis.call('HSET', KEYS[3], '_catchup', string.format('%.0f', catchUp)) end
  -- cost <= limit, so every schedule is at most one interval ahead: the expiry covers it.
  redis.call('PEXPIRE', KEYS[3], ms(longest) + KEEP_MS)
end
return {granted, wait, full, now}
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
 * RELEASE: gives back leases, and the starts of a grant that no task took.
 *
 * KEYS: [1] leases, [2..] rate lists (only to give back starts). ARGV: [1] concurrency, [2] wake
 * channel, [3] publisher token, [4] how many lease ids, then the ids; with rate lists, then the
 * time the starts were recorded at, the unit of each list, and the cost of each start given back.
 * A start given back leaves its lists as if never taken; one already moved by a restamp is not
 * found and stays counted (the safe side). The pace stays as the starts set it (also the safe side).
 * Publishes on the wake channel when the slots were all taken before this release (only then can
 * someone be waiting for a slot: a waiter saw them all taken, and nothing freed one since), or when
 * starts were given back. Returns how many leases were still held.
 */
export const RELEASE = `${ENTRIES}
local held = redis.call('ZCARD', KEYS[1])
local leases = tonumber(ARGV[4])
local removed = 0
for i = 5, 4 + leases do removed = removed + redis.call('ZREM', KEYS[1], ARGV[i]) end
local stamp = tonumber(ARGV[5 + leases])
local firstCost = 6 + leases + #KEYS - 1
for i = 2, #KEYS do
  local unit = ARGV[4 + leases + i]
  for c = firstCost, #ARGV do
    local amount = costsOf(ARGV[c])[unit] or 0
    if unit ~= 'requests' then
      if amount > 0 then redis.call('LREM', KEYS[i], 1, entryAt(stamp, tostring(amount))) end
    elseif amount > 0 then
      redis.call('LREM', KEYS[i], amount, stamp)
    end
  end
end
if #KEYS > 1 or (leases > 0 and held >= tonumber(ARGV[1])) then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
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
