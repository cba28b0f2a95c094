--[[
  Commits a partition attempt: its pages become the partition's visible results and its counters
  and partial state are stored. Unordered scans: it joins the commit log with the number of its
  results admitted under the scan's max_results (when that is not 0). Ordered scans: the partitions
  committed without a gap from partition 0 on (the front) join the read index with what
  max_results leaves them after the partitions before them (when that is not 0), each once.

    Input:
      KEYS[1] scan hash ('front': partitions in the front, 'fbase': their results)
      KEYS[2] partitions hash
      KEYS[3] commit log (LIST of 'index:admitted')
      KEYS[4] commits hash (index -> the commit)
      KEYS[5] read index of an ordered scan (ZSET of 'index:admitted', score index)

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
local fields = redis.call('HMGET', scanKey, 'pmode', 'cap', 'stored', 'partitions', 'front', 'fbase')
local cap = tonumber(fields[2])
if fields[1] == 'unordered' then
  local admitted = math.max(0, math.min(tonumber(ARGV[3]), cap - tonumber(fields[3])))
  if admitted > 0 then
    redis.call('HINCRBY', scanKey, 'stored', admitted)
    redis.call('RPUSH', KEYS[3], k .. ':' .. admitted)
  end
elseif fields[1] == 'ordered' then
  local partitions = tonumber(fields[4])
  local front = tonumber(fields[5] or '0')
  local base = tonumber(fields[6] or '0')
  while front < partitions and redis.call('HGET', partsKey, front .. ':s') == 'c' do
    local count = tonumber(redis.call('HGET', partsKey, front .. ':c'))
    local admitted = math.max(0, math.min(count, cap - base))
    if admitted > 0 then redis.call('ZADD', KEYS[5], front, front .. ':' .. admitted) end
    base = base + count
    front = front + 1
  end
  redis.call('HSET', scanKey, 'front', front, 'fbase', base)
end
return 1
