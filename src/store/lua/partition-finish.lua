--[[
  Ends a running partitioned scan (the first caller wins) and starts the retention clock of
  every key of the scan: its hash, the partitions hash, the commit log, the commits, the aggregate rows,
  the read index and the pages of every partition and of its last attempt. Partitions still running see the cancel
  flag and stop.

    Input:
      KEYS[1] scan hash
      KEYS[2] partitions hash
      KEYS[3] commit log
      KEYS[4] aggregate rows (LIST)
      KEYS[5] commits hash
      KEYS[6] read index of an ordered scan

      ARGV[1] status: succeeded | failed | cancelled
      ARGV[2] finished_at
      ARGV[3] expires_at
      ARGV[4] retention (ms)
      ARGV[5] progress (JSON)
      ARGV[6] result (JSON)
      ARGV[7] error (JSON)
      ARGV[8] errors (JSON)
      ARGV[9] metrics (JSON)
      ARGV[10..] pages of aggregate rows

    Output:
      1 finished
      0 the scan is gone, not partitioned, or no longer running
]]
local scanKey = KEYS[1]
local partsKey = KEYS[2]
local ttl = ARGV[4]
local partitions = tonumber(redis.call('HGET', scanKey, 'partitions'))
if redis.call('HGET', scanKey, 'status') ~= 'running' or not partitions then return 0 end
redis.call('HSET', scanKey, 'status', ARGV[1], 'finished_at', ARGV[2], 'expires_at', ARGV[3], 'progress', ARGV[5],
  'result', ARGV[6], 'error', ARGV[7], 'errors', ARGV[8], 'metrics', ARGV[9], 'cancel', '1')
if #ARGV >= 10 then redis.call('RPUSH', KEYS[4], unpack(ARGV, 10)) end
for i = 1, 6 do redis.call('PEXPIRE', KEYS[i], ttl) end
for k = 0, partitions - 1 do
  local pages = scanKey .. ':part:' .. k
  redis.call('PEXPIRE', pages, ttl)
  local attempt = redis.call('HGET', partsKey, k .. ':a')
  if attempt then redis.call('PEXPIRE', pages .. ':' .. attempt, ttl) end
end
return 1
