--[[
  The first stretch of visible results of a partitioned scan at or after stretch seq. Unordered:
  the seq-th entry of the commit log (every entry admits at least one result). Ordered: the
  first partition from seq on in the read index: committed, every partition before it committed,
  and admitting at least one result under max_results (the first max_results in record order).
  Aggregate: the rows, once the scan succeeded. O(log P) for P partitions.

    Input:
      KEYS[1] scan hash
      KEYS[2] commit log
      KEYS[3] read index of an ordered scan

      ARGV[1] seq (0-based)

    Output:
      { seq, part, admitted }  the stretch found (seq or later); part -1 is the aggregate rows
      false                    not there (yet)
]]
local scanKey = KEYS[1]
local seq = tonumber(ARGV[1])
local fields = redis.call('HMGET', scanKey, 'pmode', 'partitions', 'cap', 'status')
local mode = fields[1]
if not tonumber(fields[2]) then return false end
if mode == 'aggregate' then
  if seq == 0 and fields[4] == 'succeeded' then return { 0, -1, tonumber(fields[3]) } end
  return false
end
local entry
if mode == 'ordered' then
  entry = redis.call('ZRANGE', KEYS[3], seq, '+inf', 'BYSCORE', 'LIMIT', 0, 1)[1]
else
  entry = redis.call('LINDEX', KEYS[2], seq)
end
if not entry then return false end
local part, admitted = string.match(entry, '^(%d+):(%d+)$')
return { mode == 'ordered' and tonumber(part) or seq, tonumber(part), tonumber(admitted) }
