--[[
  Adds result pages to a running attempt.

    Input:
      KEYS[1] scan hash
      KEYS[2] pages of the attempt (LIST)

      ARGV[1] attempt
      ARGV[2..] pages (JSON arrays)

    Output:
      1 appended
      0 the attempt is no longer the scan's running attempt
]]
if redis.call('HGET', KEYS[1], 'status') ~= 'running' or redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[1] then return 0 end
redis.call('RPUSH', KEYS[2], unpack(ARGV, 2))
return 1
