--[[
  Adds result pages to a partition attempt; they stay invisible until the attempt commits.

    Input:
      KEYS[1] scan hash
      KEYS[2] partitions hash
      KEYS[3] pages of the attempt (LIST)

      ARGV[1] partition index
      ARGV[2] attempt
      ARGV[3..] pages (JSON arrays)

    Output:
      1 appended
      0 the attempt is no longer current, or the scan ended or is being cancelled
]]
local scanKey = KEYS[1]
local partsKey = KEYS[2]
local k = ARGV[1]
if redis.call('HGET', scanKey, 'status') ~= 'running' or redis.call('HGET', scanKey, 'cancel') == '1'
  or redis.call('HGET', partsKey, k .. ':a') ~= ARGV[2] or redis.call('HGET', partsKey, k .. ':s') ~= 'r' then
  return 0
end
redis.call('RPUSH', KEYS[3], unpack(ARGV, 3))
return 1
