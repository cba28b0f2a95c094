--[[
  Ends a running attempt with its outcome and starts the retention clock of the scan and its pages.

    Input:
      KEYS[1] scan hash
      KEYS[2] pages of the attempt (LIST)

      ARGV[1] attempt
      ARGV[2] status: succeeded | failed | cancelled
      ARGV[3] finished_at
      ARGV[4] expires_at
      ARGV[5] retention (ms)
      ARGV[6] progress (JSON)
      ARGV[7] result (JSON)
      ARGV[8] error (JSON)
      ARGV[9] errors (JSON)
      ARGV[10] metrics (JSON)

    Output:
      1 finished
      0 the attempt is no longer the scan's running attempt
]]
if redis.call('HGET', KEYS[1], 'status') ~= 'running' or redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'finished_at', ARGV[3], 'expires_at', ARGV[4], 'progress', ARGV[6],
  'result', ARGV[7], 'error', ARGV[8], 'errors', ARGV[9], 'metrics', ARGV[10])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 1
