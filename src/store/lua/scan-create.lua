--[[
  Creates a queued scan unless it exists or a queue limit is reached.

    Input:
      KEYS[1] scan hash
      KEYS[2] scan index (ZSET of every scan id)
      KEYS[3] queued scans (ZSET)
      KEYS[4] queued scans of the tenant (ZSET)

      ARGV[1] scan id
      ARGV[2] max queued scans, -1 for no limit
      ARGV[3] max queued scans per tenant, -1 for no limit
      ARGV[4..] field, value pairs of the scan hash

    Output:
      1  created
      2  the scan exists
      0  the queue is full
      -1 the tenant's queue is full
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 2 end
if tonumber(ARGV[2]) >= 0 and redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[2]) then return 0 end
if tonumber(ARGV[3]) >= 0 and redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
redis.call('ZADD', KEYS[4], 0, ARGV[1])
return 1
