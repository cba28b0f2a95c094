--[[
  Cancels a scan: a queued one at once, a running one by setting its cancel flag (its attempt
  sees it and stops).

    Input:
      KEYS[1] scan hash

      ARGV[1] finished_at
      ARGV[2] expires_at
      ARGV[3] retention (ms)
      ARGV[4] error (JSON)
      ARGV[5] key prefix, ending in ':'
      ARGV[6] scan id

    Output:
      'now'               it was queued and is cancelled
      'signalled'         it runs and its cancel flag is set
      'finished:<status>' it had finished
      false               the scan is gone
]]
--- @include "includes/dequeue"
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return false end
if status == 'queued' then
  dequeue(KEYS[1], ARGV[5], ARGV[6])
  redis.call('HSET', KEYS[1], 'status', 'cancelled', 'finished_at', ARGV[1], 'expires_at', ARGV[2], 'error', ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 'now'
end
if status == 'running' then
  redis.call('HSET', KEYS[1], 'cancel', '1')
  return 'signalled'
end
return 'finished:' .. status
