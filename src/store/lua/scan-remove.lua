--[[
  Deletes a finished scan's hash, its entry in the index and its idempotency key (when that key
  still names it). The caller deletes the pages of the attempt returned.

    Input:
      KEYS[1] scan hash
      KEYS[2] scan index (ZSET of every scan id)

      ARGV[1] scan id
      ARGV[2] key prefix, ending in ':'

    Output:
      { 'removed', attempt or '' }  removed
      { 'active', status }          queued or running: not removed
      false                         the scan is gone
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return false end
if status == 'queued' or status == 'running' then return { 'active', status } end
local attempt = redis.call('HGET', KEYS[1], 'attempt') or ''
local idempotency = redis.call('HGET', KEYS[1], 'idempotency_key')
if idempotency and idempotency ~= '' then
  local claim = ARGV[2] .. 'idempotency:' .. idempotency
  local value = redis.call('GET', claim)
  if value and string.find(value, ARGV[1], 1, true) then redis.call('DEL', claim) end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return { 'removed', attempt }
