--[[
  Hands a running partition attempt back (its instance shuts down): it can no longer write, and
  the next attempt of the partition does not take it for one whose instance died.

    Input:
      KEYS[1] partitions hash

      ARGV[1] partition index
      ARGV[2] attempt

    Output:
      1 handed back
      0 the attempt is no longer current or not running
]]
local partsKey = KEYS[1]
local k = ARGV[1]
if redis.call('HGET', partsKey, k .. ':a') ~= ARGV[2] or redis.call('HGET', partsKey, k .. ':s') ~= 'r' then
  return 0
end
redis.call('HSET', partsKey, k .. ':s', 'h')
return 1
