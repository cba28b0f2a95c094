--[[
  Drops the charges of a deleted scan at once: its units' bytes stop counting for the tenant.

    Input:
      KEYS[1] the tenant's charges (HASH: <unit> bytes, <unit>@ attempt, :total their sum)
      KEYS[2] when each charge ends (ZSET: <unit> scored in ms since the epoch)

      ARGV[1..] units: <scan id> and <scan id>/<partition>

    Output:
      the tenant's bytes afterwards
]]
for _, unit in ipairs(ARGV) do
  local held = tonumber(redis.call('HGET', KEYS[1], unit) or '0')
  redis.call('HDEL', KEYS[1], unit, unit .. '@')
  redis.call('ZREM', KEYS[2], unit)
  if held ~= 0 then redis.call('HINCRBY', KEYS[1], ':total', 0 - held) end
end
return tonumber(redis.call('HGET', KEYS[1], ':total') or '0')
