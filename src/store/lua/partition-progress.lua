--[[
  Stores the live counters of a partition attempt.

    Input:
      KEYS[1] scan hash
      KEYS[2] partitions hash

      ARGV[1] partition index
      ARGV[2] attempt
      ARGV[3] 'processed,matched,skipped'

    Output:
      1 stored
      0 the attempt is no longer current, or the scan ended
]]
local partsKey = KEYS[2]
local k = ARGV[1]
if redis.call('HGET', KEYS[1], 'status') ~= 'running' or redis.call('HGET', partsKey, k .. ':a') ~= ARGV[2]
  or redis.call('HGET', partsKey, k .. ':s') ~= 'r' then
  return 0
end
redis.call('HSET', partsKey, k .. ':p', ARGV[3])
return 1
