--[[
  Turns the running attempt of a scan into a partitioned scan.

    Input:
      KEYS[1] scan hash

      ARGV[1] attempt that planned the partitions
      ARGV[2] partitions
      ARGV[3] mode: unordered | ordered | aggregate
      ARGV[4] cap: the scan's max_results
      ARGV[5] records of the source
      ARGV[6] progress (JSON)
      ARGV[7] the key that signs the scan's results cursors

    Output:
      1 planned
      0 the attempt is no longer the scan's running attempt
]]
local scanKey = KEYS[1]
if redis.call('HGET', scanKey, 'status') ~= 'running' or redis.call('HGET', scanKey, 'attempt') ~= ARGV[1] then
  return 0
end
redis.call('HSET', scanKey, 'partitions', ARGV[2], 'pmode', ARGV[3], 'cap', ARGV[4], 'ptotal', ARGV[5], 'stored', 0,
  'progress', ARGV[6], 'ckey', ARGV[7])
return 1
