--[[
  Begins an attempt of one partition: the attempt before it (lost or handed back) loses its
  pages and can no longer write. An attempt before it that is still marked running neither
  committed nor was handed back: its instance died or lost its lock while it ran.

    Input:
      KEYS[1] scan hash
      KEYS[2] partitions hash

      ARGV[1] partition index
      ARGV[2] attempt

    Output:
      { 'began', runs, unsettled }  runs: attempts of this partition so far, this one included;
                                    unsettled: 1 when the attempt before it was still running
      { 'committed' }    the partition committed already
      { 'cancelled' }    the scan's cancel was asked for
      { 'gone' }         the scan is gone, finished, or not partitioned
]]
local scanKey = KEYS[1]
local partsKey = KEYS[2]
local k = ARGV[1]
if redis.call('HGET', scanKey, 'status') ~= 'running' or not redis.call('HGET', scanKey, 'partitions') then
  return { 'gone' }
end
if redis.call('HGET', scanKey, 'cancel') == '1' then return { 'cancelled' } end
if redis.call('HGET', partsKey, k .. ':s') == 'c' then return { 'committed' } end
local previous = redis.call('HGET', partsKey, k .. ':a')
if previous then redis.call('DEL', scanKey .. ':part:' .. k .. ':' .. previous) end
local unsettled = redis.call('HGET', partsKey, k .. ':s') == 'r' and 1 or 0
redis.call('HSET', partsKey, k .. ':a', ARGV[2], k .. ':s', 'r', k .. ':p', '0,0,0')
return { 'began', redis.call('HINCRBY', partsKey, k .. ':n', 1), unsettled }
