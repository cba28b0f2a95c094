--[[
  Begins an attempt of a queued or running scan: the scan leaves the queue, joins its tenant's
  running set and names the attempt and this instance. A scan that was running on an instance
  known to be dead counts one more crash. With a limit of running scans per tenant, a queued
  scan whose tenant is at the limit waits while other tenants have scans queued.

    Input:
      KEYS[1] scan hash

      ARGV[1] attempt
      ARGV[2] started_at
      ARGV[3] progress (JSON)
      ARGV[4] result (JSON)
      ARGV[5] key prefix, ending in ':'
      ARGV[6] scan id
      ARGV[7] this instance, '' when instances are not tracked
      ARGV[8] the instance of the previous attempt when it is dead, '' otherwise
      ARGV[9] max running scans per tenant, 0 for no limit

    Output:
      { previous attempt or '', cancel flag or '', crashes }  began
      'busy'                                                 the tenant is at its limit
      false                                                  the scan is gone or finished
]]
--- @include "includes/dequeue"
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'running' then return false end
local tenant = redis.call('HGET', KEYS[1], 'tenant') or ''
local running = ARGV[5] .. 'running:' .. tenant
if tonumber(ARGV[9]) > 0 and status == 'queued' and
  redis.call('ZCARD', ARGV[5] .. 'queued') > redis.call('ZCARD', ARGV[5] .. 'queued:' .. tenant) then
  local count = 0
  for _, other in ipairs(redis.call('SMEMBERS', running)) do
    if redis.call('HGET', ARGV[5] .. 'scan:{' .. other .. '}', 'status') == 'running' then count = count + 1
    else redis.call('SREM', running, other) end
  end
  if count >= tonumber(ARGV[9]) then return 'busy' end
end
redis.call('SADD', running, ARGV[6])
local previous = redis.call('HGET', KEYS[1], 'attempt') or ''
local cancel = redis.call('HGET', KEYS[1], 'cancel') or ''
local crashes = tonumber(redis.call('HGET', KEYS[1], 'crashes') or '0')
if status == 'running' and ARGV[8] ~= '' and redis.call('HGET', KEYS[1], 'instance') == ARGV[8] then crashes = crashes + 1 end
dequeue(KEYS[1], ARGV[5], ARGV[6])
redis.call('HSET', KEYS[1], 'status', 'running', 'attempt', ARGV[1], 'started_at', ARGV[2], 'progress', ARGV[3], 'result', ARGV[4],
  'instance', ARGV[7], 'crashes', crashes)
return { previous, cancel, crashes }
