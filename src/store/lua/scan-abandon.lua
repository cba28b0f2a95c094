--[[
  Fails a queued or running scan whatever its attempt (its job was lost) and starts the
  retention clock of the scan and the pages of its last attempt.

    Input:
      KEYS[1] scan hash

      ARGV[1] finished_at
      ARGV[2] expires_at
      ARGV[3] retention (ms)
      ARGV[4] error (JSON)
      ARGV[5] key prefix, ending in ':'
      ARGV[6] scan id

    Output:
      1 failed
      0 the scan is gone or finished
]]
--- @include "includes/dequeue"
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'running' then return 0 end
dequeue(KEYS[1], ARGV[5], ARGV[6])
redis.call('HSET', KEYS[1], 'status', 'failed', 'finished_at', ARGV[1], 'expires_at', ARGV[2], 'error', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local attempt = redis.call('HGET', KEYS[1], 'attempt')
if attempt and attempt ~= '' then redis.call('PEXPIRE', ARGV[5] .. 'scan:{' .. ARGV[6] .. '}:pages:' .. attempt, ARGV[3]) end
return 1
