--[[
  The seq-th stretch of visible results of a partitioned scan. Unordered: the seq-th entry of
  the commit log. Ordered: partition seq once committed, admitted up to what max_results leaves
  after the partitions before it (the first max_results in record order). Aggregate: the rows,
  once the scan succeeded.

    Input:
      KEYS[1] scan hash
      KEYS[2] partitions hash
      KEYS[3] commit log

      ARGV[1] seq (0-based)

    Output:
      { part, admitted }  part -1 is the aggregate rows
      false               not there (yet)
]]
local scanKey = KEYS[1]
local partsKey = KEYS[2]
local seq = tonumber(ARGV[1])
local fields = redis.call('HMGET', scanKey, 'pmode', 'partitions', 'cap', 'status')
local mode = fields[1]
local partitions = tonumber(fields[2])
local cap = tonumber(fields[3])
if not partitions then return false end
if mode == 'aggregate' then
  if seq == 0 and fields[4] == 'succeeded' then return { -1, cap } end
  return false
end
if mode == 'ordered' then
  if seq >= partitions or redis.call('HGET', partsKey, seq .. ':s') ~= 'c' then return false end
  local before = 0
  for j = 0, seq - 1 do before = before + (tonumber(redis.call('HGET', partsKey, j .. ':c')) or 0) end
  local count = tonumber(redis.call('HGET', partsKey, seq .. ':c'))
  return { seq, math.max(0, math.min(count, cap - before)) }
end
local entry = redis.call('LINDEX', KEYS[3], seq)
if not entry then return false end
local part, admitted = string.match(entry, '^(%d+):(%d+)$')
return { tonumber(part), tonumber(admitted) }
