--[[
  Deletes the partition keys of a finished partitioned scan (its hash is deleted by the caller
  next): the partitions hash, the commit log, the commits, the aggregate rows, the read index and the
  pages of every partition and of its last attempt.

    Input:
      KEYS[1] scan hash
      KEYS[2] partitions hash
      KEYS[3] commit log
      KEYS[4] aggregate rows
      KEYS[5] commits hash
      KEYS[6] read index of an ordered scan

    Output:
      number of keys deleted; 0 when the scan is not partitioned or still queued or running
]]
local scanKey = KEYS[1]
local partsKey = KEYS[2]
local status = redis.call('HGET', scanKey, 'status')
local partitions = tonumber(redis.call('HGET', scanKey, 'partitions'))
if not partitions or status == 'queued' or status == 'running' then return 0 end
local keys = { partsKey, KEYS[3], KEYS[4], KEYS[5], KEYS[6] }
for k = 0, partitions - 1 do
  local pages = scanKey .. ':part:' .. k
  table.insert(keys, pages)
  local attempt = redis.call('HGET', partsKey, k .. ':a')
  if attempt then table.insert(keys, pages .. ':' .. attempt) end
end
local deleted = 0
for from = 1, #keys, 1000 do
  deleted = deleted + redis.call('DEL', unpack(keys, from, math.min(from + 999, #keys)))
end
return deleted
