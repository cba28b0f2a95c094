--[[
  Hands a running attempt back: the scan no longer names an instance, so that the next attempt
  does not count this one as crashed.

    Input:
      KEYS[1] scan hash

      ARGV[1] attempt

    Output:
      1 released
      0 the attempt is no longer the scan's running attempt
]]
if redis.call('HGET', KEYS[1], 'status') ~= 'running' or redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'instance', '')
return 1
