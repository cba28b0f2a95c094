--[[
  Charges bytes of stored results to a tenant, unless they would take it past its quota. A unit
  (a scan, or one partition of it) holds the bytes of its latest attempt: a charge of another
  attempt drops what the unit held first. Charges end with their scan: those whose scan's
  retention is over are dropped at every call; before a refusal, and when only reporting, the
  charges of scans that may still write are looked at too (scan gone: dropped; scan finished:
  the charge ends when the scan's hash expires).

    Input:
      KEYS[1] the tenant's charges (HASH: <unit> bytes, <unit>@ attempt, :total their sum)
      KEYS[2] when each charge ends (ZSET: <unit> scored in ms since the epoch; +inf while its scan may still write)

      ARGV[1] key prefix of scan hashes: a unit's scan hash is <prefix>scan:{<scan id>}
      ARGV[2] unit: <scan id> or <scan id>/<partition>; '' only reports
      ARGV[3] attempt
      ARGV[4] bytes (negative: gives back bytes charged by the same attempt)
      ARGV[5] quota in bytes; 0: no quota
      ARGV[6] now, in ms since the epoch

    Output:
      { 1, used, ends }  charged (or nothing to charge)
      { 0, used, ends }  refused: used + bytes would pass the quota; nothing was charged
      used: the tenant's bytes afterwards; ends: when the first charge ends (ms), -1 when none is due
]]
local charges = KEYS[1]
local ends = KEYS[2]
local prefix = ARGV[1]
local unit = ARGV[2]
local attempt = ARGV[3]
local bytes = tonumber(ARGV[4])
local quota = tonumber(ARGV[5])
local now = tonumber(ARGV[6])

local function forget (u)
  local held = tonumber(redis.call('HGET', charges, u) or '0')
  redis.call('HDEL', charges, u, u .. '@')
  redis.call('ZREM', ends, u)
  if held ~= 0 then redis.call('HINCRBY', charges, ':total', 0 - held) end
end

local function settle ()
  for _, u in ipairs(redis.call('ZRANGEBYSCORE', ends, '+inf', '+inf')) do
    local scan = prefix .. 'scan:{' .. string.match(u, '^[^/]+') .. '}'
    local status = redis.call('HGET', scan, 'status')
    if not status then
      forget(u)
    elseif status ~= 'queued' and status ~= 'running' then
      local ttl = redis.call('PTTL', scan)
      if ttl >= 0 then redis.call('ZADD', ends, now + ttl, u) end
    end
  end
end

local function used ()
  return tonumber(redis.call('HGET', charges, ':total') or '0')
end

local function report (outcome)
  local first = redis.call('ZRANGEBYSCORE', ends, '-inf', '(+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  local at = -1
  if first[2] then at = math.floor(tonumber(first[2])) end
  return { outcome, used(), at }
end

for _, u in ipairs(redis.call('ZRANGEBYSCORE', ends, '-inf', now, 'LIMIT', 0, 1000)) do forget(u) end
if unit == '' then
  settle()
  return report(1)
end
if redis.call('HGET', charges, unit .. '@') ~= attempt then
  if bytes < 0 then return report(1) end
  forget(unit)
  redis.call('HSET', charges, unit, 0, unit .. '@', attempt)
  redis.call('ZADD', ends, '+inf', unit)
end
if bytes > 0 and quota > 0 and used() + bytes > quota then
  settle()
  if redis.call('HEXISTS', charges, unit .. '@') == 0 then return report(1) end
  if used() + bytes > quota then return report(0) end
end
if bytes ~= 0 then
  redis.call('HINCRBY', charges, unit, bytes)
  redis.call('HINCRBY', charges, ':total', bytes)
end
return report(1)
