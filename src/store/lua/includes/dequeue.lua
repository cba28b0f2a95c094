--[[
  Takes a scan out of the queued scans, in all and of its tenant, which admission counts. Every
  script that takes a scan out of 'queued' calls it.

    dequeue(key, prefix, id)
      key     scan hash
      prefix  key prefix, ending in ':'
      id      scan id
]]
local function dequeue (key, prefix, id)
  redis.call('ZREM', prefix .. 'queued', id)
  redis.call('ZREM', prefix .. 'queued:' .. (redis.call('HGET', key, 'tenant') or ''), id)
end
