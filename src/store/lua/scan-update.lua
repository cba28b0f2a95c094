--[[
  Stores the live progress and result count of a running attempt.

    Input:
      KEYS[1] scan hash

      ARGV[1] attempt
      ARGV[2] progress (JSON)
      ARGV[3] result (JSON)

    Output:
      1 stored
      0 the attempt is no longer the scan's running attempt
]]
if redis.call('HGET', KEYS[1], 'status') ~= 'running' or redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'progress', ARGV[2], 'result', ARGV[3])
return 1
