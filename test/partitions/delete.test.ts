import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import type { RunningServer } from '../../src/server.js'
import { http, realServer, REDIS_URL, uniquePrefix, dropPrefix, waitFor } from '../helpers/service-harness.js'
import { finished, PROCESSORS_DIR } from '../helpers/cluster-harness.js'

const servers: RunningServer[] = []
const prefixes: string[] = []
after(async () => {
  await Promise.allSettled(servers.map(async (server) => await server.close()))
  for (const p of prefixes) await dropPrefix(p)
})

async function keysUnder (prefix: string): Promise<string[]> {
  const redis = new Redis(REDIS_URL)
  try {
    const out: string[] = []
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      out.push(...keys)
      cursor = next
    } while (cursor !== '0')
    return out
  } finally { redis.disconnect() }
}

test('deleting a finished and a cancelled partitioned scan leaves no Redis key naming it, and frees its Idempotency-Key', async () => {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  const server = await realServer({ REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_PARTITION_RECORDS: '500', PROCESSORS_DIR })
  servers.push(server)
  const base = server.url
  const done = (await http(base, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 3000 }, ordered: true, pipeline: [{ filter: 'record % 7 == 0' }] }, { 'idempotency-key': 'k1' })).json
  const doc = await finished(base, done.id)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc))
  assert.equal(doc.partitions.total, 6)
  const again = await http(base, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 3000 }, ordered: true, pipeline: [{ filter: 'record % 7 == 0' }] }, { 'idempotency-key': 'k1' })
  assert.equal(again.json.id, done.id)

  const slow = (await http(base, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 3000 }, pipeline: [{ processor: 'sleep', params: { ms: 2 } }] })).json
  await waitFor(async () => {
    const d = (await http(base, 'GET', `/v1/scans/${slow.id}`)).json
    return d.partitions?.succeeded >= 1 ? d : undefined
  }, 20_000, 20)
  assert.equal((await http(base, 'DELETE', `/v1/scans/${slow.id}`)).status, 409)
  assert.equal((await http(base, 'POST', `/v1/scans/${slow.id}/cancel`)).status, 202)
  assert.equal((await finished(base, slow.id, 5000)).status, 'cancelled')
  const del = await http(base, 'DELETE', `/v1/scans/${slow.id}`)
  assert.ok(del.status < 300, JSON.stringify(del.json))
  assert.equal((await http(base, 'DELETE', `/v1/scans/${done.id}`)).status < 300, true)
  await new Promise((resolve) => setTimeout(resolve, 3000))
  const left = (await keysUnder(prefix)).filter((k) => k.includes(done.id) || k.includes(slow.id))
  assert.deepEqual(left, [])
  const fresh = await http(base, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 3000 }, ordered: true, pipeline: [{ filter: 'record % 7 == 0' }] }, { 'idempotency-key': 'k1' })
  assert.notEqual(fresh.json.id, done.id)
})

test('retention removes every key of a partitioned scan, its BullMQ job hashes included, on a queue that stays idle after it', async () => {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  const server = await realServer({ REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_PARTITION_RECORDS: '500', PARASCAN_RETENTION: '2s' })
  servers.push(server)
  const base = server.url
  const scan = (await http(base, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 2000 }, pipeline: [{ filter: 'record % 3 == 0' }] })).json
  const doc = await finished(base, scan.id)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc))
  assert.equal(doc.partitions.total, 4)
  assert.ok((await keysUnder(prefix)).some((key) => key.endsWith(`:scan-partitions:${scan.id}-0`)), 'a partition job hash while the scan is kept')
  const left = await waitFor(async () => {
    const keys = (await keysUnder(prefix)).filter((key) => key.includes(scan.id))
    return keys.length === 0 ? keys : undefined
  }, 30_000, 250).catch(async () => (await keysUnder(prefix)).filter((key) => key.includes(scan.id)))
  assert.deepEqual(left, [])
  assert.equal((await http(base, 'GET', `/v1/scans/${scan.id}`)).status, 404)
})
