--[[
  Commits a partition attempt: its pages become the partition's visible results, its counters
  and partial state are stored, and (unordered scans) it joins the commit log with the number
  of its results admitted under the scan's max_results.

    Input:
      KEYS[1] scan hash
      KEYS[2] partitions hash
      KEYS[3] commit log (LIST of 'index:admitted')
      KEYS[4] commits hash (index -> the commit)

      ARGV[1] partition index
      ARGV[2] attempt
      ARGV[3] results stored by the attempt
      ARGV[4] 'processed,matched,skipped'
      ARGV[5] the commit (JSON: errors, partial aggregate, metrics)

    Output:
      1 committed
      0 the attempt is no longer current, or the scan ended or is being cancelled
]]
local scanKey = KEYS[1]
local partsKey = KEYS[2]
local k = ARGV[1]
if redis.call('HGET', scanKey, 'status') ~= 'running' or redis.call('HGET', scanKey, 'cancel') == '1'
  or redis.call('HGET', partsKey, k .. ':a') ~= ARGV[2] or redis.call('HGET', partsKey, k .. ':s') ~= 'r' then
  return 0
end
local pending = scanKey .. ':part:' .. k .. ':' .. ARGV[2]
if redis.call('EXISTS', pending) == 1 then redis.call('RENAME', pending, scanKey .. ':part:' .. k) end
redis.call('HSET', partsKey, k .. ':s', 'c', k .. ':p', ARGV[4], k .. ':c', ARGV[3])
redis.call('HSET', KEYS[4], k, ARGV[5])
if redis.call('HGET', scanKey, 'pmode') == 'unordered' then
  local room = tonumber(redis.call('HGET', scanKey, 'cap')) - tonumber(redis.call('HGET', scanKey, 'stored'))
  local admitted = math.max(0, math.min(tonumber(ARGV[3]), room))
  redis.call('HINCRBY', scanKey, 'stored', admitted)
  redis.call('RPUSH', KEYS[3], k .. ':' .. admitted)
end
return 1
