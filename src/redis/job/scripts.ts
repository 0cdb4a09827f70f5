import { RedisScript } from '../connection.js'
import { INCOMPLETE_JOB_KEEP_MS } from './ttl.js'

/*
 * The job's scripts, each one round trip that leaves the job consistent. KEYS are always the six of
 * `keyList` (meta, lines, results, deadlines, workers, suspects); times are Redis server time, so workers on
 * machines whose clocks disagree still agree on leases.
 */

const PRELUDE = `
local META, LINES, RESULTS, DEADLINES, WORKERS, SUSPECTS = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]

-- A stream entry's id ('<line>-0') -> its line number, as text.
local function line_of(id)
  return string.sub(id, 1, -3)
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The job's total, or -1 while submit is still adding lines.
local function total_of()
  return tonumber(redis.call('HGET', META, 'total') or '-1')
end

-- Every key expires ttl ms after the job's last line's result. While lines are left, it expires
-- ttl ms (and at least ${INCOMPLETE_JOB_KEEP_MS} ms) after it was last touched, or after the lease
-- of a live worker ends if later (such a worker may not call before then), so a job its workers
-- abandoned does not stay forever. Set again after every write, which may have created a key anew.
local function set_expiry(now)
  local completed = redis.call('HGET', META, 'completed')
  if not completed then
    local total = total_of()
    if total >= 0 and redis.call('HLEN', RESULTS) >= total then
      completed = now
      redis.call('HSET', META, 'completed', now)
    end
  end
  local ttl = tonumber(redis.call('HGET', META, 'ttl'))
  local at
  if completed then
    at = tonumber(completed) + ttl
  else
    local from = now
    local latest = redis.call('ZRANGE', DEADLINES, -1, -1, 'WITHSCORES')
    if latest[2] and tonumber(latest[2]) > from then from = tonumber(latest[2]) end
    at = from + math.max(ttl, ${INCOMPLETE_JOB_KEEP_MS})
  end
  redis.call('HSET', META, 'expires', string.format('%.0f', at))
  for i = 1, #KEYS do redis.call('PEXPIREAT', KEYS[i], at) end
end

-- Whether this is the job the caller knows: it exists and, once the caller learned its epoch (a
-- random id drawn by the submit that created it), has that epoch. A job submitted anew under the
-- same name (after Redis lost the first) is another job: its lines must not take the old one's results.
local function is_job(epoch)
  if redis.call('EXISTS', META) == 0 then return false end
  return epoch == '' or redis.call('HGET', META, 'epoch') == epoch
end

-- Renews the worker's lease. Returns how many of its lines others took over since it last asked.
local function heartbeat(me, lease, now)
  if redis.call('HEXISTS', WORKERS, me .. ':first') == 0 then
    redis.call('HSET', WORKERS, me .. ':first', now, me .. ':done', 0, me .. ':dupes', 0)
  end
  redis.call('ZADD', DEADLINES, now + lease, me)
  redis.call('HSET', WORKERS, me .. ':seen', now, me .. ':lease', lease)
  -- Back under a name that left: it works again, and may die holding lines.
  redis.call('HDEL', WORKERS, me .. ':left')
  local lost = tonumber(redis.call('HGET', WORKERS, me .. ':lost') or '0')
  if lost > 0 then redis.call('HDEL', WORKERS, me .. ':lost') end
  return lost
end
`

/**
 * Adds a chunk of lines after the `ARGV[1]` already queued (refused if another submit moved it).
 * ARGV: queued before, fingerprint after, ttl ms, epoch (used if this creates the job), then hash and data of each line.
 * Returns {'ok', queued} | {'queued', n} (submit had ended) | {'moved', n}.
 */
export const SUBMIT = new RedisScript(`${PRELUDE}
local state = redis.call('HGET', META, 'state')
local queued = tonumber(redis.call('HGET', META, 'queued') or '0')
if state == 'queued' then return {'queued', queued} end
if queued ~= tonumber(ARGV[1]) then return {'moved', queued} end
if not state then
  local made = redis.pcall('XGROUP', 'CREATE', LINES, 'workers', '0', 'MKSTREAM')
  if type(made) == 'table' and made.err and not string.find(made.err, 'BUSYGROUP') then return redis.error_reply(made.err) end
  redis.call('HSET', META, 'state', 'submitting', 'created', now_ms(), 'ttl', ARGV[3], 'epoch', ARGV[4],
    'queued', 0, 'ok', 0, 'failed', 0, 'dupes', 0, 'taken', 0)
end
local line = queued
for i = 5, #ARGV, 2 do
  line = line + 1
  redis.call('XADD', LINES, line .. '-0', 'h', ARGV[i], 'd', ARGV[i + 1])
end
redis.call('HSET', META, 'queued', line, 'fingerprint', ARGV[2])
set_expiry(now_ms())
return {'ok', line}
`)

/** Ends a submit: the job's total is known. ARGV: total. Returns {'ok'} | {'moved', queued}. */
export const FINISH = new RedisScript(`${PRELUDE}
local queued = tonumber(redis.call('HGET', META, 'queued') or '-1')
if queued ~= tonumber(ARGV[1]) then return {'moved', queued} end
redis.call('HSET', META, 'state', 'queued', 'total', queued)
set_expiry(now_ms())
return {'ok'}
`)

/**
 * Renews the worker's lease and claims up to `want` lines: first its own pending ones when it holds
 * none (their results were lost with a Redis that lost its last writes), then those of workers whose
 * lease ended (they died, froze, or left), then new ones.
 * ARGV: worker, lease ms, want, epoch ('' before the first call), '1' when it holds no line.
 * Returns {'gone'} | {'ok', lost, total, done, entries, epoch}.
 */
export const CLAIM = new RedisScript(`${PRELUDE}
local me, want, epoch = ARGV[1], tonumber(ARGV[3]), ARGV[4]
if not is_job(epoch) then return {'gone'} end
epoch = redis.call('HGET', META, 'epoch')
local total = total_of()
local done = redis.call('HLEN', RESULTS)
if redis.call('HEXISTS', META, 'completed') == 1 then return {'ok', 0, total, done, {}, epoch} end
local now = now_ms()
local left = redis.call('HEXISTS', WORKERS, me .. ':left') == 1
local lost = heartbeat(me, tonumber(ARGV[2]), now)
local out = {}
local function take(ids)
  for _, entry in ipairs(redis.call('XCLAIM', LINES, 'workers', me, 0, unpack(ids))) do out[#out + 1] = entry end
end
local function pending_ids(worker, count)
  local ids = {}
  for i, p in ipairs(redis.call('XPENDING', LINES, 'workers', '-', '+', count, worker)) do ids[i] = p[1] end
  return ids
end
-- The lines of \`dead\` (its lease ran out) are suspects, each to be run alone; one it was already
-- running alone fell with it. Only such falls count: a line moved with the others, perhaps never
-- started, is run alone once and cleared.
local function suspect(dead, ids)
  for _, id in ipairs(ids) do
    local line = line_of(id)
    if redis.call('HGET', SUSPECTS, 'a:' .. line) == dead then
      redis.call('HDEL', SUSPECTS, 'a:' .. line)
      redis.call('HINCRBY', SUSPECTS, 's:' .. line, 1)
    else
      redis.call('HSETNX', SUSPECTS, 's:' .. line, 0)
    end
  end
end
if want > 0 and ARGV[5] == '1' then
  local orphans = pending_ids(me, want)
  if #orphans > 0 then
    take(orphans)
    -- Lines this name held and no longer does: unless it left, its process may have died and come back.
    if not left then suspect(me, orphans) end
  end
end
if #out < want then
  local lapsed = redis.call('ZRANGEBYSCORE', DEADLINES, '-inf', '(' .. now, 'LIMIT', 0, 16)
  for _, other in ipairs(lapsed) do
    local ids = pending_ids(other, want - #out)
    if #ids == 0 then
      redis.call('ZREM', DEADLINES, other)
      redis.call('XGROUP', 'DELCONSUMER', LINES, 'workers', other)
    else
      take(ids)
      redis.call('HINCRBY', WORKERS, other .. ':lost', #ids)
      redis.call('HINCRBY', META, 'taken', #ids)
      -- A worker that left gave back only lines it had not started.
      if redis.call('HEXISTS', WORKERS, other .. ':left') == 0 then suspect(other, ids) end
    end
    if #out >= want then break end
  end
end
if #out < want then
  local read = redis.call('XREADGROUP', 'GROUP', 'workers', me, 'COUNT', want - #out, 'STREAMS', LINES, '>')
  if read then for _, entry in ipairs(read[1][2]) do out[#out + 1] = entry end end
end
-- A suspect goes out marked with its falls: the worker runs it alone (or, fallen often enough, records it failed).
if redis.call('EXISTS', SUSPECTS) == 1 then
  for _, entry in ipairs(out) do
    local falls = redis.call('HGET', SUSPECTS, 's:' .. line_of(entry[1]))
    if falls then
      entry[2][#entry[2] + 1] = 'f'
      entry[2][#entry[2] + 1] = falls
    end
  end
end
set_expiry(now)
return {'ok', lost, total, done, out, epoch}
`)

/**
 * The worker is about to run a suspect with nothing else in flight: if it dies before recording it,
 * the line fell with it. ARGV: worker, epoch, line. Returns {'gone'} | {'ok', held (1|0)}: 0 when
 * others took the line over meanwhile (it must not run).
 */
export const ALONE = new RedisScript(`${PRELUDE}
if not is_job(ARGV[2]) then return {'gone'} end
local id = ARGV[3] .. '-0'
if #redis.call('XPENDING', LINES, 'workers', id, id, 1, ARGV[1]) == 0 then return {'ok', 0} end
redis.call('HSET', SUSPECTS, 'a:' .. ARGV[3], ARGV[1])
set_expiry(now_ms())
return {'ok', 1}
`)

/**
 * Which of the given lines the worker still holds (after others took some over while it was silent).
 * ARGV: worker, then entry ids. Returns the ids it holds.
 */
export const HELD = new RedisScript(`${PRELUDE}
local held = {}
for i = 2, #ARGV do
  if #redis.call('XPENDING', LINES, 'workers', ARGV[i], ARGV[i], 1, ARGV[1]) > 0 then held[#held + 1] = ARGV[i] end
end
return held
`)

/**
 * Records results: the first result of a line is kept, a later one only counted as a duplicate;
 * either way the line is acknowledged and its entry deleted (the stream shrinks as the job goes).
 * A line that this worker's last call recorded, sent again because that call's reply was lost
 * (Redis went away after writing), is the same run: counted as it was then, not as a duplicate.
 * ARGV: worker, lease ms, epoch, how many of the first lines repeat a call whose reply was lost,
 * then line, ok (1|0), result of each.
 * Returns {'gone'} | {'ok', lost, total, done, recorded, duplicates}.
 */
export const RECORD = new RedisScript(`${PRELUDE}
if not is_job(ARGV[3]) then return {'gone'} end
local me = ARGV[1]
local now = now_ms()
local lost = heartbeat(me, tonumber(ARGV[2]), now)
local fresh, dupes, ok, failed = 0, 0, 0, 0
-- The first ARGV[4] lines repeat a call whose reply was lost: those its last call recorded are the
-- same run, counted as they were then (fresh or duplicate), in the reply only. A worker sends one
-- call at a time and puts a failed call's results first in the next.
local repeated = tonumber(ARGV[4])
local last = {}
if repeated > 0 then
  for line, mark in string.gmatch(redis.call('HGET', WORKERS, me .. ':last') or '', '(%d+)([+-])') do last[line] = mark end
end
local resentFresh, resentDupes = 0, 0
local marks = {}
local suspects = redis.call('EXISTS', SUSPECTS) == 1
for i = 5, #ARGV, 3 do
  local line = ARGV[i]
  if redis.call('HSETNX', RESULTS, line, ARGV[i + 2]) == 1 then
    fresh = fresh + 1
    marks[#marks + 1] = line .. '+'
    if ARGV[i + 1] == '1' then ok = ok + 1 else failed = failed + 1 end
  elseif (i - 5) / 3 < repeated and last[line] then
    if last[line] == '+' then resentFresh = resentFresh + 1 else resentDupes = resentDupes + 1 end
    marks[#marks + 1] = line .. last[line]
  else
    dupes = dupes + 1
    marks[#marks + 1] = line .. '-'
  end
  redis.call('XACK', LINES, 'workers', line .. '-0')
  redis.call('XDEL', LINES, line .. '-0')
  if suspects then redis.call('HDEL', SUSPECTS, 's:' .. line, 'a:' .. line) end
end
redis.call('HSET', WORKERS, me .. ':last', table.concat(marks, ','))
redis.call('HINCRBY', META, 'ok', ok)
redis.call('HINCRBY', META, 'failed', failed)
redis.call('HINCRBY', META, 'dupes', dupes)
redis.call('HINCRBY', WORKERS, me .. ':done', fresh)
redis.call('HINCRBY', WORKERS, me .. ':dupes', dupes)
set_expiry(now)
-- The worker never heard what its lost call recorded: told here.
return {'ok', lost, total_of(), redis.call('HLEN', RESULTS), fresh + resentFresh, dupes + resentDupes}
`)

/** A worker leaves: its lease ends now, so the lines it still holds go to the others at once. ARGV: worker, epoch. */
export const LEAVE = new RedisScript(`${PRELUDE}
if not is_job(ARGV[2]) then return 0 end
if redis.call('ZSCORE', DEADLINES, ARGV[1]) then redis.call('ZADD', DEADLINES, 0, ARGV[1]) end
redis.call('HSET', WORKERS, ARGV[1] .. ':left', now_ms())
set_expiry(now_ms())
return 1
`)

/**
 * Everything status shows, read at one instant.
 * Returns {'gone'} | {'ok', now, meta fields, done, lines claimed, claims per worker, worker fields, deadlines, suspects}.
 */
export const STATUS = new RedisScript(`${PRELUDE}
if redis.call('EXISTS', META) == 0 then return {'gone'} end
local pending = redis.call('XPENDING', LINES, 'workers')
-- Each worker's \`last\` (the lines of its last RECORD) is left here: a fleet's would be sent on every call.
local workers = {}
local fields = redis.call('HGETALL', WORKERS)
for i = 1, #fields, 2 do
  if string.sub(fields[i], -5) ~= ':last' then
    workers[#workers + 1] = fields[i]
    workers[#workers + 1] = fields[i + 1]
  end
end
local suspects = 0
for _, field in ipairs(redis.call('HKEYS', SUSPECTS)) do
  if string.sub(field, 1, 2) == 's:' then suspects = suspects + 1 end
end
return {'ok', now_ms(), redis.call('HGETALL', META), redis.call('HLEN', RESULTS), pending[1], pending[4] or {},
  workers, redis.call('ZRANGE', DEADLINES, 0, -1, 'WITHSCORES'), suspects}
`)
