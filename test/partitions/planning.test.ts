import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { once } from 'node:events'
import { Redis } from 'ioredis'
import type { RunningServer } from '../../src/server.js'
import { dropPrefix, http, realServer, REDIS_URL, tempDataDir, uniquePrefix, waitFor } from '../helpers/service-harness.js'
import { finished, readAll, startInstance } from '../helpers/cluster-harness.js'

const servers: RunningServer[] = []
const children: ChildProcess[] = []
const prefixes: string[] = []
after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await Promise.allSettled(servers.map(async (server) => await server.close()))
  for (const prefix of prefixes) await dropPrefix(prefix)
})

test('a cancel while the scan is being planned (its file indexed) ends it cancelled: no partition runs and no partition job is left (Redis)', async () => {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  const dataDir = tempDataDir()
  const out = createWriteStream(join(dataDir, 'big.ndjson'))
  for (let i = 0; i < 1_000_000; i++) if (!out.write(`{"n":${i},"s":"abcdefghij"}\n`)) await once(out, 'drain')
  out.end()
  await once(out, 'finish')
  const server = await realServer({ REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_PARTITION_RECORDS: '100000', DATA_DIR: dataDir })
  servers.push(server)
  const { json } = await http(server.url, 'POST', '/v1/scans', { source: { type: 'file', path: 'big.ndjson', format: 'ndjson' }, pipeline: [{ map: 'record.n' }] })
  await waitFor(async () => (await http(server.url, 'GET', `/v1/scans/${json.id}`)).json.status === 'running' ? true : undefined, 30_000, 5)
  assert.equal((await http(server.url, 'POST', `/v1/scans/${json.id}/cancel`)).status, 202)
  const doc = await finished(server.url, json.id)
  assert.equal(doc.status, 'cancelled')
  assert.equal(doc.progress.processed, 0)
  if (doc.partitions !== undefined) assert.equal(doc.partitions.succeeded, 0)
  const redis = new Redis(REDIS_URL)
  try {
    assert.deepEqual(await redis.keys(`${prefix}:scan-partitions:${json.id}*`), [])
  } finally {
    redis.disconnect()
  }
  assert.deepEqual(await readAll(server.url, json.id), [])
})

test('two instances with different PARASCAN_PARTITION_RECORDS: the instance that plans a scan decides its layout, the other runs its partitions, results are exact (Redis)', async () => {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  const env = { REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_PROGRESS_INTERVAL: '100ms' }
  const fine = await startInstance({ ...env, PARASCAN_PARTITION_RECORDS: '500' }, children)
  const coarse = await startInstance({ ...env, PARASCAN_PARTITION_RECORDS: '100000' }, children)
  const scan = { source: { type: 'range', start: 0, end: 3000 }, pipeline: [{ processor: 'sleep', params: { ms: 0.3 } }], ordered: true }
  const ids: string[] = []
  for (let i = 0; i < 4; i++) ids.push((await http(i % 2 === 0 ? fine.url : coarse.url, 'POST', '/v1/scans', scan)).json.id)
  const totals: Array<number | undefined> = []
  for (const id of ids) {
    const doc = await finished(coarse.url, id, 120_000)
    assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
    assert.ok(doc.partitions === undefined || doc.partitions.total === 6, JSON.stringify(doc.partitions))
    totals.push(doc.partitions?.total)
    assert.deepEqual(await readAll(fine.url, id, 1000), Array.from({ length: 3000 }, (_, i) => i))
  }
  assert.ok(totals.includes(6), `layouts: ${totals.join(', ')}`)
})
